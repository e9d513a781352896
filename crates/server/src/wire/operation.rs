//! The operations Verso serves, with the error types each one's model lists.

use super::error::ErrorType;

/// An AWS operation Verso serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // Each variant is the AWS operation of the same name.
pub enum Operation {
    CreateApplication,
    GetApplication,
    ListApplications,
    UpdateApplication,
    DeleteApplication,
    CreateConfigurationProfile,
    GetConfigurationProfile,
    ListConfigurationProfiles,
    UpdateConfigurationProfile,
    DeleteConfigurationProfile,
    CreateHostedConfigurationVersion,
    GetHostedConfigurationVersion,
    ListHostedConfigurationVersions,
    DeleteHostedConfigurationVersion,
    CreateEnvironment,
    GetEnvironment,
    ListEnvironments,
    UpdateEnvironment,
    DeleteEnvironment,
    CreateDeploymentStrategy,
    GetDeploymentStrategy,
    ListDeploymentStrategies,
    UpdateDeploymentStrategy,
    DeleteDeploymentStrategy,
    TagResource,
    UntagResource,
    ListTagsForResource,
    ValidateConfiguration,
    StartDeployment,
    GetDeployment,
    ListDeployments,
    StopDeployment,
    StartConfigurationSession,
    GetLatestConfiguration,
    CreateView,
    CreateViewVersion,
    DescribeView,
    ListViews,
    ListViewVersions,
    UpdateViewContent,
    UpdateViewMetadata,
    DeleteView,
    DeleteViewVersion,
    CreateEnvironmentTemplate,
    GetEnvironmentTemplate,
    ListEnvironmentTemplates,
    DeleteEnvironmentTemplate,
    CreateEnvironmentTemplateVersion,
    GetEnvironmentTemplateVersion,
    ListEnvironmentTemplateVersions,
    UpdateEnvironmentTemplateVersion,
    DeleteEnvironmentTemplateVersion,
}

/// The AWS service an operation belongs to: it fixes the error shapes and the catch-all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// AWS AppConfig (`BadRequestException` is the catch-all).
    AppConfig,
    /// AWS AppConfigData.
    AppConfigData,
    /// Amazon Connect (`InvalidRequestException` is the catch-all).
    Connect,
    /// AWS Proton (awsJson1_0; `ValidationException` is the catch-all).
    Proton,
}

impl Operation {
    /// The AWS operation name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::CreateApplication => "CreateApplication",
            Self::GetApplication => "GetApplication",
            Self::ListApplications => "ListApplications",
            Self::UpdateApplication => "UpdateApplication",
            Self::DeleteApplication => "DeleteApplication",
            Self::CreateConfigurationProfile => "CreateConfigurationProfile",
            Self::GetConfigurationProfile => "GetConfigurationProfile",
            Self::ListConfigurationProfiles => "ListConfigurationProfiles",
            Self::UpdateConfigurationProfile => "UpdateConfigurationProfile",
            Self::DeleteConfigurationProfile => "DeleteConfigurationProfile",
            Self::CreateHostedConfigurationVersion => "CreateHostedConfigurationVersion",
            Self::GetHostedConfigurationVersion => "GetHostedConfigurationVersion",
            Self::ListHostedConfigurationVersions => "ListHostedConfigurationVersions",
            Self::DeleteHostedConfigurationVersion => "DeleteHostedConfigurationVersion",
            Self::CreateEnvironment => "CreateEnvironment",
            Self::GetEnvironment => "GetEnvironment",
            Self::ListEnvironments => "ListEnvironments",
            Self::UpdateEnvironment => "UpdateEnvironment",
            Self::DeleteEnvironment => "DeleteEnvironment",
            Self::CreateDeploymentStrategy => "CreateDeploymentStrategy",
            Self::GetDeploymentStrategy => "GetDeploymentStrategy",
            Self::ListDeploymentStrategies => "ListDeploymentStrategies",
            Self::UpdateDeploymentStrategy => "UpdateDeploymentStrategy",
            Self::DeleteDeploymentStrategy => "DeleteDeploymentStrategy",
            Self::TagResource => "TagResource",
            Self::UntagResource => "UntagResource",
            Self::ListTagsForResource => "ListTagsForResource",
            Self::ValidateConfiguration => "ValidateConfiguration",
            Self::StartDeployment => "StartDeployment",
            Self::GetDeployment => "GetDeployment",
            Self::ListDeployments => "ListDeployments",
            Self::StopDeployment => "StopDeployment",
            Self::StartConfigurationSession => "StartConfigurationSession",
            Self::GetLatestConfiguration => "GetLatestConfiguration",
            Self::CreateView => "CreateView",
            Self::CreateViewVersion => "CreateViewVersion",
            Self::DescribeView => "DescribeView",
            Self::ListViews => "ListViews",
            Self::ListViewVersions => "ListViewVersions",
            Self::UpdateViewContent => "UpdateViewContent",
            Self::UpdateViewMetadata => "UpdateViewMetadata",
            Self::DeleteView => "DeleteView",
            Self::DeleteViewVersion => "DeleteViewVersion",
            Self::CreateEnvironmentTemplate => "CreateEnvironmentTemplate",
            Self::GetEnvironmentTemplate => "GetEnvironmentTemplate",
            Self::ListEnvironmentTemplates => "ListEnvironmentTemplates",
            Self::DeleteEnvironmentTemplate => "DeleteEnvironmentTemplate",
            Self::CreateEnvironmentTemplateVersion => "CreateEnvironmentTemplateVersion",
            Self::GetEnvironmentTemplateVersion => "GetEnvironmentTemplateVersion",
            Self::ListEnvironmentTemplateVersions => "ListEnvironmentTemplateVersions",
            Self::UpdateEnvironmentTemplateVersion => "UpdateEnvironmentTemplateVersion",
            Self::DeleteEnvironmentTemplateVersion => "DeleteEnvironmentTemplateVersion",
        }
    }

    /// The service the operation belongs to.
    #[must_use]
    pub const fn service(self) -> Service {
        match self {
            Self::StartConfigurationSession | Self::GetLatestConfiguration => {
                Service::AppConfigData
            }
            Self::CreateView
            | Self::CreateViewVersion
            | Self::DescribeView
            | Self::ListViews
            | Self::ListViewVersions
            | Self::UpdateViewContent
            | Self::UpdateViewMetadata
            | Self::DeleteView
            | Self::DeleteViewVersion => Service::Connect,
            Self::CreateEnvironmentTemplate
            | Self::GetEnvironmentTemplate
            | Self::ListEnvironmentTemplates
            | Self::DeleteEnvironmentTemplate
            | Self::CreateEnvironmentTemplateVersion
            | Self::GetEnvironmentTemplateVersion
            | Self::ListEnvironmentTemplateVersions
            | Self::UpdateEnvironmentTemplateVersion
            | Self::DeleteEnvironmentTemplateVersion => Service::Proton,
            _ => Service::AppConfig,
        }
    }

    /// Whether a Proton operation's model lists `error` (aws-api-surface.md §6).
    const fn proton_models(self, error: ErrorType) -> bool {
        match error {
            ErrorType::Validation | ErrorType::InternalServer | ErrorType::UnknownOperation => true,
            ErrorType::ResourceNotFound => !matches!(
                self,
                Self::CreateEnvironmentTemplate | Self::ListEnvironmentTemplates
            ),
            ErrorType::Conflict => matches!(
                self,
                Self::CreateEnvironmentTemplate
                    | Self::DeleteEnvironmentTemplate
                    | Self::CreateEnvironmentTemplateVersion
                    | Self::UpdateEnvironmentTemplateVersion
                    | Self::DeleteEnvironmentTemplateVersion
            ),
            ErrorType::ServiceQuotaExceeded => matches!(
                self,
                Self::CreateEnvironmentTemplate | Self::CreateEnvironmentTemplateVersion
            ),
            _ => false,
        }
    }

    /// Whether a Connect operation's model lists `error` (aws-api-surface.md §5).
    const fn connect_models(self, error: ErrorType) -> bool {
        match error {
            ErrorType::InvalidParameter
            | ErrorType::InvalidRequest
            | ErrorType::ResourceNotFound
            | ErrorType::InternalService
            | ErrorType::UnknownOperation => true,
            ErrorType::ServiceQuotaExceeded => {
                matches!(self, Self::CreateView | Self::CreateViewVersion)
            }
            ErrorType::DuplicateResource => {
                matches!(self, Self::CreateView | Self::UpdateViewMetadata)
            }
            ErrorType::ResourceInUse => !matches!(
                self,
                Self::DescribeView | Self::ListViews | Self::ListViewVersions
            ),
            _ => false,
        }
    }

    /// Whether the operation's model lists `error` (aws-api-surface.md §3 and §5, route
    /// tables).
    #[must_use]
    pub const fn models(self, error: ErrorType) -> bool {
        match error {
            // AWS's common error, in every service's model or list of common errors;
            // Connect's model names it TooManyRequestsException.
            ErrorType::Throttling => return !matches!(self.service(), Service::Connect),
            ErrorType::TooManyRequests => return matches!(self.service(), Service::Connect),
            _ => {}
        }
        match self.service() {
            Service::Connect => return self.connect_models(error),
            Service::Proton => return self.proton_models(error),
            Service::AppConfig | Service::AppConfigData => {}
        }
        match error {
            ErrorType::Validation
            | ErrorType::InvalidParameter
            | ErrorType::InvalidRequest
            | ErrorType::DuplicateResource
            | ErrorType::ResourceInUse
            | ErrorType::InternalService => false,
            ErrorType::BadRequest
            | ErrorType::InternalServer
            | ErrorType::UnknownOperation
            | ErrorType::Throttling => true,
            ErrorType::TooManyRequests => false,
            ErrorType::ResourceNotFound => !matches!(
                self,
                Self::CreateApplication
                    | Self::ListApplications
                    | Self::CreateDeploymentStrategy
                    | Self::ListDeploymentStrategies
            ),
            ErrorType::Conflict => matches!(
                self,
                Self::DeleteConfigurationProfile
                    | Self::CreateHostedConfigurationVersion
                    | Self::DeleteEnvironment
                    | Self::StartDeployment
            ),
            ErrorType::ServiceQuotaExceeded => matches!(
                self,
                Self::CreateApplication
                    | Self::CreateConfigurationProfile
                    | Self::CreateHostedConfigurationVersion
                    | Self::CreateEnvironment
                    | Self::CreateDeploymentStrategy
            ),
            ErrorType::PayloadTooLarge => matches!(self, Self::CreateHostedConfigurationVersion),
        }
    }
}

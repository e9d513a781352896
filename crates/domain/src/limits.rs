//! Size limits and quotas. Defaults are AWS's; every one is configurable.

/// The limits `decide` enforces. Changing them never invalidates a log: replay does not
/// re-check limits, only invariants (docs/design/event-log.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest content of one version, in bytes. Default 2 MiB.
    pub max_content_bytes: u64,
    /// Most applications. Default 100.
    pub max_applications: u64,
    /// Most configuration profiles per application. Default 100.
    pub max_profiles_per_application: u64,
    /// Most bytes of live hosted configuration versions in total. Default 1 GiB.
    pub max_hosted_bytes: u64,
    /// Most environments per application. Default 20.
    pub max_environments_per_application: u64,
    /// Most deployment strategies a user created (the predefined ones do not count).
    /// Default 20.
    pub max_deployment_strategies: u64,
    /// Most live Connect views per instance. Default 500.
    pub max_views_per_instance: u64,
    /// Largest canonical content of a Connect view, in bytes. Default 400 KiB (the
    /// documented 400 kB of uncompressed content).
    pub max_view_content_bytes: u64,
    /// Most live Proton environment templates. Default 100.
    pub max_templates: u64,
}

impl Limits {
    /// AWS's defaults.
    pub const DEFAULT: Self = Self {
        max_content_bytes: 2 * 1024 * 1024,
        max_applications: 100,
        max_profiles_per_application: 100,
        max_hosted_bytes: 1024 * 1024 * 1024,
        max_environments_per_application: 20,
        max_deployment_strategies: 20,
        max_views_per_instance: 500,
        max_view_content_bytes: 400 * 1024,
        max_templates: 100,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

//! In-process router tests (no socket): every operation, and every error it can return,
//! against aws-api-surface.md §3. One test binary, one module per resource.

mod admin;
mod appconfigdata;
mod applications;
mod connect_views;
mod deployments;
mod environments;
mod hosted_versions;
mod profiles;
mod proton_templates;
mod strategies;
mod support;
mod tags;
mod validate;
mod wire;

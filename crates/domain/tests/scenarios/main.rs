//! Scenario tests for the kernel: given recorded events, when a command is decided,
//! then the events it appends or the kind of rejection (the shape of cqrs-es's
//! `TestFramework`). Every accepted decision is also run through `check`, so each
//! scenario doubles as evidence that replay accepts what `decide` produces (E5).

mod applications;
mod connect_views;
mod deployment_strategies;
mod deployments;
mod environments;
mod hosted_versions;
mod profiles;
mod proton_templates;
mod replay_check;
mod stream_kernel;
mod support;
mod tags;

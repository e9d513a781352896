//! Key encoding. Every variable-length component is length-prefixed, so no key is a
//! prefix of a key for another entity, and numbers are big-endian (L1).

#![deny(clippy::indexing_slicing)]

use verso_domain::proton::{TemplateName, TemplateVersion};
use verso_domain::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, Position, ProfileId, StreamId,
    StreamVersion,
};
use verso_domain::{ConnectInstanceId, ViewId};

use super::schema;

/// `L` + position.
pub(crate) fn log(position: Position) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = schema::LOG;
    key[1..].copy_from_slice(&position.get().to_be_bytes());
    key
}

/// The position of a log key, if it is one.
pub(crate) fn log_position(key: &[u8]) -> Option<Position> {
    match key.split_first() {
        Some((&schema::LOG, rest)) => {
            let raw: [u8; 8] = rest.try_into().ok()?;
            Some(Position::new(u64::from_be_bytes(raw)))
        }
        _ => None,
    }
}

/// `c` + hash.
pub(crate) fn content(hash: ContentHash) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = schema::CONTENT;
    key[1..].copy_from_slice(hash.as_bytes());
    key
}

/// `C` + hash + chunk index.
pub(crate) fn chunk(hash: ContentHash, index: u32) -> [u8; 37] {
    let mut key = [0u8; 37];
    key[0] = schema::CHUNK;
    key[1..33].copy_from_slice(hash.as_bytes());
    key[33..].copy_from_slice(&index.to_be_bytes());
    key
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Components are ids: AppConfig's at most 7 bytes, Connect instance ids at most 100
    // and view ids 36 (their newtypes guarantee it); the length of anything longer than
    // 255 bytes would be clamped by `u8::try_from`, which cannot happen for ids.
    let len = u8::try_from(s.len()).unwrap_or(u8::MAX);
    out.push(len);
    out.extend_from_slice(s.as_bytes());
}

/// `a` + application.
pub(crate) fn application(id: &ApplicationId) -> Vec<u8> {
    let mut key = vec![schema::APPLICATION];
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

/// `p` + application (prefix of every profile of the application).
pub(crate) fn profile_prefix(application: &ApplicationId) -> Vec<u8> {
    let mut key = vec![schema::PROFILE];
    push_str(&mut key, application.as_str());
    key
}

/// `p` + application + profile.
pub(crate) fn profile(application: &ApplicationId, id: &ProfileId) -> Vec<u8> {
    let mut key = profile_prefix(application);
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

/// `e` + application (prefix of every environment of the application).
pub(crate) fn environment_prefix(application: &ApplicationId) -> Vec<u8> {
    let mut key = vec![schema::ENVIRONMENT];
    push_str(&mut key, application.as_str());
    key
}

/// `e` + application + environment.
pub(crate) fn environment(application: &ApplicationId, id: &EnvironmentId) -> Vec<u8> {
    let mut key = environment_prefix(application);
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

/// `r` + application + environment: a retired environment id.
pub(crate) fn retired_environment(application: &ApplicationId, id: &EnvironmentId) -> Vec<u8> {
    let mut key = vec![schema::RETIRED_ENVIRONMENT];
    push_str(&mut key, application.as_str());
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

/// `d` + strategy id.
pub(crate) fn deployment_strategy(id: &DeploymentStrategyId) -> Vec<u8> {
    let mut key = vec![schema::DEPLOYMENT_STRATEGY];
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

/// `D` + application + environment: the prefix of every deployment of the environment.
pub(crate) fn deployment_prefix(
    application: &ApplicationId,
    environment: &EnvironmentId,
) -> Vec<u8> {
    let mut key = vec![schema::DEPLOYMENT];
    push_str(&mut key, application.as_str());
    push_str(&mut key, environment.as_str());
    key
}

/// `D` + application + environment + number.
pub(crate) fn deployment(
    application: &ApplicationId,
    environment: &EnvironmentId,
    number: u32,
) -> Vec<u8> {
    let mut key = deployment_prefix(application, environment);
    key.extend_from_slice(&number.to_be_bytes());
    key
}

/// The length of a stream's encoding ([`push_stream`]), so that a key is allocated once.
fn stream_len(stream: &StreamId) -> usize {
    match stream {
        StreamId::HostedConfiguration {
            application,
            profile,
        } => 3 + application.as_str().len() + profile.as_str().len(),
        StreamId::ConnectView { instance, view } => {
            3 + instance.as_str().len() + view.as_str().len()
        }
        StreamId::EnvironmentTemplate { template, .. } => 6 + template.as_str().len(),
        StreamId::EnvironmentTemplateMajor { template, .. } => 14 + template.as_str().len(),
    }
}

/// Appends the stream's own encoding to `out`: a kind byte and its length-prefixed
/// components.
fn push_stream(out: &mut Vec<u8>, stream: &StreamId) {
    match stream {
        StreamId::HostedConfiguration {
            application,
            profile,
        } => {
            out.push(1);
            push_str(out, application.as_str());
            push_str(out, profile.as_str());
        }
        StreamId::ConnectView { instance, view } => {
            out.push(2);
            push_str(out, instance.as_str());
            push_str(out, view.as_str());
        }
        StreamId::EnvironmentTemplate {
            template,
            generation,
        } => {
            out.push(3);
            push_str(out, template.as_str());
            out.extend_from_slice(&generation.to_be_bytes());
        }
        StreamId::EnvironmentTemplateMajor {
            template,
            generation,
            major,
        } => {
            out.push(4);
            push_str(out, template.as_str());
            out.extend_from_slice(&generation.to_be_bytes());
            out.extend_from_slice(&major.to_be_bytes());
        }
    }
}

/// `t` + template name (the last component).
pub(crate) fn template(name: &TemplateName) -> Vec<u8> {
    let mut key = vec![schema::TEMPLATE];
    key.extend_from_slice(name.as_str().as_bytes());
    key
}

/// `T` + len + name + generation (u32 BE): the prefix of a generation's versions.
pub(crate) fn template_version_prefix(name: &TemplateName, generation: u32) -> Vec<u8> {
    let mut key = vec![schema::TEMPLATE_VERSION];
    push_str(&mut key, name.as_str());
    key.extend_from_slice(&generation.to_be_bytes());
    key
}

/// `T` + len + name + generation + major (u64 BE) + minor (u64 BE): versions sort
/// numerically (L1).
pub(crate) fn template_version(
    name: &TemplateName,
    generation: u32,
    version: TemplateVersion,
) -> Vec<u8> {
    let mut key = template_version_prefix(name, generation);
    key.extend_from_slice(&version.major.to_be_bytes());
    key.extend_from_slice(&version.minor.to_be_bytes());
    key
}

/// `u` + len + name + generation (u32 BE), then major (u64 BE) when given: the prefix of
/// a generation's (or a major's) published versions.
pub(crate) fn published_prefix(
    name: &TemplateName,
    generation: u32,
    major: Option<u64>,
) -> Vec<u8> {
    let mut key = vec![schema::PUBLISHED];
    push_str(&mut key, name.as_str());
    key.extend_from_slice(&generation.to_be_bytes());
    if let Some(major) = major {
        key.extend_from_slice(&major.to_be_bytes());
    }
    key
}

/// `u` + len + name + generation + major (u64 BE) + minor (u64 BE).
pub(crate) fn published(name: &TemplateName, generation: u32, version: TemplateVersion) -> Vec<u8> {
    let mut key = published_prefix(name, generation, Some(version.major));
    key.extend_from_slice(&version.minor.to_be_bytes());
    key
}

/// The version at the end of a `u` or `T` key.
pub(crate) fn trailing_template_version(key: &[u8]) -> Option<TemplateVersion> {
    let tail = key.len().checked_sub(16).and_then(|at| key.get(at..))?;
    let (major, minor) = tail.split_at(8);
    Some(TemplateVersion {
        major: u64::from_be_bytes(major.try_into().ok()?),
        minor: u64::from_be_bytes(minor.try_into().ok()?),
    })
}

/// `q` + len + name + generation (u32 BE) + token (the last component).
pub(crate) fn template_token(name: &TemplateName, generation: u32, token: &str) -> Vec<u8> {
    let mut key = vec![schema::TEMPLATE_TOKEN];
    push_str(&mut key, name.as_str());
    key.extend_from_slice(&generation.to_be_bytes());
    key.extend_from_slice(token.as_bytes());
    key
}

/// `w` + instance + view -> view record.
pub(crate) fn view(instance: &ConnectInstanceId, view: &ViewId) -> Vec<u8> {
    let mut key = vec![schema::VIEW];
    push_str(&mut key, instance.as_str());
    push_str(&mut key, view.as_str());
    key
}

/// `n` + instance: the prefix of the instance's view names, in name order.
pub(crate) fn view_name_prefix(instance: &ConnectInstanceId) -> Vec<u8> {
    let mut key = vec![schema::VIEW_NAME];
    push_str(&mut key, instance.as_str());
    key
}

/// `n` + instance + name (the last component, so not length-prefixed).
pub(crate) fn view_name(instance: &ConnectInstanceId, name: &str) -> Vec<u8> {
    let mut key = view_name_prefix(instance);
    key.extend_from_slice(name.as_bytes());
    key
}

/// `k` + instance + token (the last component).
pub(crate) fn view_token(instance: &ConnectInstanceId, token: &str) -> Vec<u8> {
    let mut key = vec![schema::VIEW_TOKEN];
    push_str(&mut key, instance.as_str());
    key.extend_from_slice(token.as_bytes());
    key
}

/// `prefix` + stream, with room for `more` bytes after it.
fn with_stream(prefix: u8, stream: &StreamId, more: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + stream_len(stream) + more);
    key.push(prefix);
    push_stream(&mut key, stream);
    key
}

/// `s` + stream.
pub(crate) fn stream(stream: &StreamId) -> Vec<u8> {
    with_stream(schema::STREAM, stream, 0)
}

/// `v` + stream: the prefix of every version of the stream.
pub(crate) fn version_prefix(stream: &StreamId) -> Vec<u8> {
    with_stream(schema::VERSION, stream, 0)
}

/// `v` + stream + version.
pub(crate) fn version(stream: &StreamId, version: StreamVersion) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + stream_len(stream) + 8);
    version_into(&mut key, stream, version);
    key
}

/// Appends [`version`]'s key to `out` (a fold of a large log writes millions of keys into
/// one buffer).
pub(crate) fn version_into(out: &mut Vec<u8>, stream: &StreamId, version: StreamVersion) {
    out.push(schema::VERSION);
    push_stream(out, stream);
    out.extend_from_slice(&version.get().to_be_bytes());
}

/// The version number at the end of a `v`, `l` or `h` key.
pub(crate) fn trailing_version(key: &[u8]) -> Option<StreamVersion> {
    let start = key.len().checked_sub(8)?;
    let raw: [u8; 8] = key.get(start..)?.try_into().ok()?;
    Some(StreamVersion::new(u64::from_be_bytes(raw)))
}

/// `l` + stream + label: the prefix of every version carrying the label.
pub(crate) fn label_prefix(stream: &StreamId, label: &str) -> Vec<u8> {
    let mut key = with_stream(schema::LABEL, stream, 2 + label.len() + 8);
    // Labels are at most 64 characters, so at most 256 bytes.
    let len = u16::try_from(label.len()).unwrap_or(u16::MAX);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(label.as_bytes());
    key
}

/// `l` + stream + label + version.
pub(crate) fn label(stream: &StreamId, label: &str, version: StreamVersion) -> Vec<u8> {
    let mut key = label_prefix(stream, label);
    key.extend_from_slice(&version.get().to_be_bytes());
    key
}

/// `h` + hash: the prefix of every use of the content.
pub(crate) fn content_use_prefix(hash: ContentHash) -> Vec<u8> {
    let mut key = vec![schema::CONTENT_USE];
    key.extend_from_slice(hash.as_bytes());
    key
}

/// `h` + hash + stream + version.
pub(crate) fn content_use(hash: ContentHash, stream: &StreamId, version: StreamVersion) -> Vec<u8> {
    let mut key = Vec::with_capacity(33 + stream_len(stream) + 8);
    content_use_into(&mut key, hash, stream, version);
    key
}

/// Appends [`content_use`]'s key to `out`.
pub(crate) fn content_use_into(
    out: &mut Vec<u8>,
    hash: ContentHash,
    stream: &StreamId,
    version: StreamVersion,
) {
    out.push(schema::CONTENT_USE);
    out.extend_from_slice(hash.as_bytes());
    push_stream(out, stream);
    out.extend_from_slice(&version.get().to_be_bytes());
}

/// `i` + stream + token.
pub(crate) fn idempotency(stream: &StreamId, token: &str) -> Vec<u8> {
    let mut key = with_stream(schema::IDEMPOTENCY, stream, token.len());
    key.extend_from_slice(token.as_bytes());
    key
}

/// The smallest key greater than every key that starts with `prefix`, or `None` when
/// there is none (the prefix is all `0xff`).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_keys_sort_in_position_order() {
        let a = log(Position::new(255));
        let b = log(Position::new(256));
        assert!(a < b);
        assert_eq!(log_position(&b), Some(Position::new(256)));
        assert_eq!(log_position(b"x"), None);
    }

    #[test]
    fn every_stream_kind_is_encoded_in_exactly_its_computed_length() {
        use verso_domain::proton::TemplateName;
        use verso_domain::{ConnectInstanceId, ViewId};
        let template = TemplateName::parse("name", "env-template").unwrap();
        let streams = [
            StreamId::hosted(
                &ApplicationId::parse("abcd123").unwrap(),
                &ProfileId::parse("pppp").unwrap(),
            ),
            StreamId::ConnectView {
                instance: ConnectInstanceId::parse("inst-1").unwrap(),
                view: ViewId::parse("0a1b2c3d-0000-4000-8000-00000000000f").unwrap(),
            },
            StreamId::EnvironmentTemplate {
                template: template.clone(),
                generation: 2,
            },
            StreamId::EnvironmentTemplateMajor {
                template,
                generation: 2,
                major: 7,
            },
        ];
        for stream in &streams {
            let mut encoded = Vec::new();
            push_stream(&mut encoded, stream);
            assert_eq!(encoded.len(), stream_len(stream), "{stream}");
            let key = version(stream, StreamVersion::new(3));
            assert_eq!(key.len(), 1 + stream_len(stream) + 8);
            assert_eq!(
                key.capacity(),
                key.len(),
                "one allocation of the exact size"
            );
        }
    }

    #[test]
    fn version_keys_of_different_streams_never_interleave() {
        let app = ApplicationId::parse("abcd").unwrap();
        let s1 = StreamId::hosted(&app, &ProfileId::parse("pppp").unwrap());
        let s2 = StreamId::hosted(&app, &ProfileId::parse("ppppp").unwrap());
        let p1 = version_prefix(&s1);
        let k2 = version(&s2, StreamVersion::new(1));
        assert!(!k2.starts_with(&p1));
        assert_eq!(trailing_version(&k2), Some(StreamVersion::new(1)));
    }

    #[test]
    fn environment_keys_of_different_applications_never_interleave() {
        let a1 = ApplicationId::parse("abcd").unwrap();
        let a2 = ApplicationId::parse("abcde").unwrap();
        let e = EnvironmentId::parse("eeee").unwrap();
        assert!(!environment(&a2, &e).starts_with(&environment_prefix(&a1)));
        assert!(environment(&a1, &e).starts_with(&environment_prefix(&a1)));
        assert_ne!(environment(&a1, &e), retired_environment(&a1, &e));
    }

    #[test]
    fn deployment_keys_sort_by_number_within_their_environment() {
        let a = ApplicationId::parse("abcd").unwrap();
        let e1 = EnvironmentId::parse("eeee").unwrap();
        let e2 = EnvironmentId::parse("eeeee").unwrap();
        assert!(deployment(&a, &e1, 255) < deployment(&a, &e1, 256));
        assert!(deployment(&a, &e1, 7).starts_with(&deployment_prefix(&a, &e1)));
        assert!(!deployment(&a, &e2, 1).starts_with(&deployment_prefix(&a, &e1)));
    }

    #[test]
    fn prefix_end_is_the_next_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[b'a', 0xff]), Some(b"b".to_vec()));
        assert_eq!(prefix_end(&[0xff]), None);
    }
}

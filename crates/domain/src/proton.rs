//! What the AWS Proton face adds over the kernel: template names, version statuses, the
//! template version source and its canonical encoding, the field rules of the Proton
//! model (aws-api-surface.md §6), and the recommended versions as a function of the live
//! published versions (docs/design/connect-proton.md).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::content::Content;
use crate::id::StreamVersion;
use crate::rejection::Rejection;

/// A Proton environment template's name: 1 to 100 characters matching
/// `^[0-9A-Za-z]+[0-9A-Za-z_\-]*$`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TemplateName(String);

impl TemplateName {
    /// Parses a template name.
    ///
    /// # Errors
    /// `Invalid` naming `field` for anything not of the model's shape.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, Rejection> {
        let bytes = text.as_bytes();
        let shape = bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        if shape && bytes.len() <= 100 {
            Ok(Self(text.to_owned()))
        } else {
            Err(Rejection::invalid(
                field,
                format!(
                    "{text:?} must be 1 to 100 characters from [0-9A-Za-z_-], starting with a letter or digit"
                ),
            ))
        }
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TemplateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A template's `provisioning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Provisioning {
    /// `CUSTOMER_MANAGED`: infrastructure the customer provisions.
    CustomerManaged,
}

impl Provisioning {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CustomerManaged => "CUSTOMER_MANAGED",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// `Invalid` naming `provisioning` for anything else.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        match text {
            "CUSTOMER_MANAGED" => Ok(Self::CustomerManaged),
            _ => Err(Rejection::invalid(
                "provisioning",
                format!("{text:?} is not CUSTOMER_MANAGED"),
            )),
        }
    }
}

/// A template version's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TemplateVersionStatus {
    /// `REGISTRATION_IN_PROGRESS`: only in the create response (docs/design/connect-proton.md).
    RegistrationInProgress,
    /// `REGISTRATION_FAILED`: reserved; Verso fetches nothing, so registration cannot fail.
    RegistrationFailed,
    /// `DRAFT`.
    Draft,
    /// `PUBLISHED`.
    Published,
}

impl TemplateVersionStatus {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RegistrationInProgress => "REGISTRATION_IN_PROGRESS",
            Self::RegistrationFailed => "REGISTRATION_FAILED",
            Self::Draft => "DRAFT",
            Self::Published => "PUBLISHED",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// `Invalid` naming `status` for anything else.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        match text {
            "REGISTRATION_IN_PROGRESS" => Ok(Self::RegistrationInProgress),
            "REGISTRATION_FAILED" => Ok(Self::RegistrationFailed),
            "DRAFT" => Ok(Self::Draft),
            "PUBLISHED" => Ok(Self::Published),
            _ => Err(Rejection::invalid(
                "status",
                format!("{text:?} is not a template version status"),
            )),
        }
    }
}

/// A template version's source: the S3 object as given (nothing is fetched).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSource {
    /// The bucket: 3 to 63 characters matching `^[a-z0-9]+[a-z0-9-\.]+[a-z0-9]+$`.
    pub bucket: String,
    /// The key: 1 to 1024 characters.
    pub key: String,
}

#[derive(Serialize, Deserialize)]
struct Canonical {
    s3: TemplateSource,
}

impl TemplateSource {
    /// The canonical bytes, as stored: the JCS text of `{"s3":{"bucket":..,"key":..}}`
    /// (serde_json's compact output with the fields in this order is JCS for this
    /// strings-only shape).
    #[must_use]
    pub fn canonical(&self) -> Content {
        let bytes = serde_json::to_vec(&Canonical { s3: self.clone() }).unwrap_or_default();
        Content::new(bytes)
    }

    /// Decodes stored canonical bytes.
    ///
    /// # Errors
    /// A description of what is wrong when the bytes are not a canonical source.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let c: Canonical =
            serde_json::from_slice(bytes).map_err(|e| format!("not a template source: {e}"))?;
        if serde_json::to_vec(&c).map_err(|e| e.to_string())? != bytes {
            return Err("template source is not in its canonical form".to_owned());
        }
        Ok(c.s3)
    }

    /// The model's constraints on the bucket and key.
    ///
    /// # Errors
    /// `Invalid` naming `source.s3.bucket` or `source.s3.key`.
    pub fn check(&self) -> Result<(), Rejection> {
        let b = self.bucket.as_bytes();
        let inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        let bucket_ok = (3..=63).contains(&b.len())
            && b.first().is_some_and(inner)
            && b.last().is_some_and(inner)
            && b.iter().all(|c| inner(c) || matches!(c, b'-' | b'.'));
        if !bucket_ok {
            return Err(Rejection::invalid(
                "source.s3.bucket",
                format!("{:?} is not an S3 bucket name", self.bucket),
            ));
        }
        let k = self.key.chars().count();
        if !(1..=1024).contains(&k) {
            return Err(Rejection::invalid(
                "source.s3.key",
                format!("length {k} is outside 1..1024"),
            ));
        }
        Ok(())
    }
}

/// A template version number `M.m`, majors from 1 and minors from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TemplateVersion {
    /// The major.
    pub major: u64,
    /// The minor.
    pub minor: u64,
}

impl TemplateVersion {
    /// The version of `major` that is version `number` of the major's minors stream:
    /// minors start at 0, stream versions at 1, so minor m is stream version m + 1.
    #[must_use]
    pub const fn in_major(major: u64, number: StreamVersion) -> Self {
        Self {
            major,
            minor: number.get().saturating_sub(1),
        }
    }

    /// This version's number in its major's minors stream (the inverse of
    /// [`in_major`](Self::in_major)).
    #[must_use]
    pub const fn minor_stream_version(self) -> StreamVersion {
        StreamVersion::new(self.minor.saturating_add(1))
    }
}

impl fmt::Display for TemplateVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Parses a `majorVersion` or `minorVersion` string: `^(0|([1-9]{1}\d*))$`, 1 to 20
/// characters. `Ok(None)` for a well-formed number beyond `u64`, which names no version.
///
/// # Errors
/// `Invalid` naming `field` for anything else.
pub fn version_part(field: &'static str, text: &str) -> Result<Option<u64>, Rejection> {
    let b = text.as_bytes();
    let shape = !b.is_empty()
        && b.len() <= 20
        && b.iter().all(u8::is_ascii_digit)
        && (b.len() == 1 || b.first() != Some(&b'0'));
    if !shape {
        return Err(Rejection::invalid(
            field,
            format!("{text:?} is not a version number (digits, no leading zero)"),
        ));
    }
    Ok(text.parse::<u64>().ok())
}

/// The recommended versions of a template, from its live versions and their statuses:
/// the numerically highest published `M.m`, and per major its highest published minor.
#[must_use]
pub fn recommended<'a>(
    versions: impl IntoIterator<Item = (TemplateVersion, TemplateVersionStatus)> + 'a,
) -> (Option<TemplateVersion>, BTreeMap<u64, u64>) {
    let mut best = None;
    let mut minors = BTreeMap::new();
    for (v, status) in versions {
        if status != TemplateVersionStatus::Published {
            continue;
        }
        best = best.max(Some(v));
        let entry = minors.entry(v.major).or_insert(v.minor);
        *entry = (*entry).max(v.minor);
    }
    (best, minors)
}

fn bounded(field: &'static str, text: &str, min: usize, max: usize) -> Result<(), Rejection> {
    let n = text.chars().count();
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(Rejection::invalid(
            field,
            format!("length {n} is outside {min}..{max}"),
        ))
    }
}

/// A `description`: at most 500 characters.
///
/// # Errors
/// `Invalid` naming `description`.
pub fn description(text: &str) -> Result<(), Rejection> {
    bounded("description", text, 0, 500)
}

/// A `displayName`: 1 to 100 characters.
///
/// # Errors
/// `Invalid` naming `displayName`.
pub fn display_name(text: &str) -> Result<(), Rejection> {
    bounded("displayName", text, 1, 100)
}

/// An `encryptionKey`: 1 to 200 characters matching the model's ARN pattern
/// `^arn:(aws|aws-cn|aws-us-gov):[a-zA-Z0-9-]+:[a-zA-Z0-9-]*:\d{12}:([\w+=,.@-]+[/:])*[\w+=,.@-]+$`.
///
/// # Errors
/// `Invalid` naming `encryptionKey`.
pub fn encryption_key(text: &str) -> Result<(), Rejection> {
    bounded("encryptionKey", text, 1, 200)?;
    let refuse = || {
        Rejection::invalid(
            "encryptionKey",
            format!("{text:?} is not an ARN of the model's shape"),
        )
    };
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(refuse());
    };
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let resource = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    let ok = matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && !service.is_empty()
        && service.chars().all(word)
        && region.chars().all(word)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !rest.is_empty()
        && rest
            .split(['/', ':'])
            .all(|segment| !segment.is_empty() && segment.chars().all(resource));
    if ok { Ok(()) } else { Err(refuse()) }
}

/// Proton tags: at most 50; keys 1 to 128 characters, values at most 256.
///
/// # Errors
/// `Invalid` naming `tags`.
pub fn tags(tags: &BTreeMap<String, String>) -> Result<(), Rejection> {
    if tags.len() > 50 {
        return Err(Rejection::invalid(
            "tags",
            format!("{} tags is more than 50", tags.len()),
        ));
    }
    for (key, value) in tags {
        bounded("tags", key, 1, 128)?;
        bounded("tags", value, 0, 256)?;
    }
    Ok(())
}

/// A `clientToken`: at most 64 printable ASCII characters (`^[!-~]*$`).
///
/// # Errors
/// `Invalid` naming `clientToken`.
pub fn client_token(token: &str) -> Result<(), Rejection> {
    if token.len() <= 64 && token.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        Ok(())
    } else {
        Err(Rejection::invalid(
            "clientToken",
            "must be at most 64 printable ASCII characters",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_the_models_shape() {
        for good in ["a", "A1", "my-template_2", &"x".repeat(100)] {
            assert!(TemplateName::parse("name", good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "_a", "a b", "é", &"x".repeat(101)] {
            assert!(TemplateName::parse("name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_parts_are_integers_without_leading_zeros() {
        assert_eq!(version_part("m", "0").unwrap(), Some(0));
        assert_eq!(version_part("m", "10").unwrap(), Some(10));
        assert_eq!(version_part("m", "99999999999999999999").unwrap(), None);
        for bad in ["", "01", "1.0", "-1", "x", "123456789012345678901"] {
            assert!(version_part("m", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn minor_m_is_version_m_plus_one_of_its_majors_stream() {
        let v = TemplateVersion::in_major(3, StreamVersion::new(1));
        assert_eq!(v, TemplateVersion { major: 3, minor: 0 });
        assert_eq!(v.minor_stream_version(), StreamVersion::new(1));
        let v = TemplateVersion {
            major: 1,
            minor: 41,
        };
        assert_eq!(v.minor_stream_version(), StreamVersion::new(42));
        assert_eq!(TemplateVersion::in_major(1, v.minor_stream_version()), v);
    }

    #[test]
    fn recommended_versions_compare_numerically_and_skip_drafts() {
        let v = |major, minor| TemplateVersion { major, minor };
        let (best, minors) = recommended([
            (v(1, 9), TemplateVersionStatus::Published),
            (v(1, 10), TemplateVersionStatus::Published),
            (v(2, 0), TemplateVersionStatus::Draft),
            (v(9, 1), TemplateVersionStatus::Published),
            (v(10, 0), TemplateVersionStatus::Draft),
        ]);
        assert_eq!(best, Some(v(9, 1)));
        assert_eq!(minors, BTreeMap::from([(1, 10), (9, 1)]));
        assert_eq!(v(1, 10).to_string(), "1.10");
    }

    #[test]
    fn sources_are_canonical_and_checked() {
        let s = TemplateSource {
            bucket: "my-bucket.1".into(),
            key: "templates/env.tar.gz".into(),
        };
        let c = s.canonical();
        assert_eq!(
            std::str::from_utf8(c.bytes()).unwrap(),
            r#"{"s3":{"bucket":"my-bucket.1","key":"templates/env.tar.gz"}}"#
        );
        assert_eq!(TemplateSource::decode(c.bytes()), Ok(s.clone()));
        assert!(s.check().is_ok());
        for bad in ["ab", "-bucket", "Bucket", "bucket-"] {
            let t = TemplateSource {
                bucket: bad.into(),
                key: "k".into(),
            };
            assert!(t.check().is_err(), "{bad}");
        }
    }

    #[test]
    fn encryption_keys_are_arns() {
        assert!(encryption_key("arn:aws:kms:us-east-1:123456789012:key/abc-123").is_ok());
        assert!(encryption_key("arn:aws:kms::123456789012:alias/a:b").is_ok());
        assert!(encryption_key("arn:aws:kms:us-east-1:1234:key/abc").is_err());
        assert!(encryption_key("not-an-arn").is_err());
        assert!(encryption_key("arn:other:kms:us-east-1:123456789012:key/a").is_err());
    }
}

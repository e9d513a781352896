//! Typed identifiers, version numbers, positions and content hashes.
//!
//! No bare `u64` or `String` crosses a module boundary for these: each has a newtype
//! here, and a newtype that has a shape (resource ids) can only be built valid.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::connect::{ConnectInstanceId, ViewId};
use crate::proton::TemplateName;
use crate::rejection::Rejection;

/// The text of a resource id held inline: AppConfig's ids are at most seven ASCII
/// characters, so an id needs no allocation of its own. A fold of a large log keeps a
/// stream id (an application and a profile) in every version record, and millions of
/// small strings cost more to allocate, chase and free than everything else it keeps.
///
/// Ordered as the text is, like the `String` it stands for: the zero padding sorts below
/// every character an id may hold, and the length settles the rest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ShortId {
    /// The text, then zeros.
    bytes: [u8; ShortId::MAX],
    len: u8,
}

impl ShortId {
    const MAX: usize = 7;

    /// `text`, if it fits.
    fn new(text: &str) -> Option<Self> {
        let mut bytes = [0; Self::MAX];
        bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        Some(Self {
            bytes,
            len: u8::try_from(text.len()).ok()?,
        })
    }

    fn as_str(&self) -> &str {
        // Only ever built from a `&str` that fits, so both always succeed.
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

macro_rules! resource_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        ///
        /// Serialized as its text; decoding checks the shape as [`parse`](Self::parse)
        /// does.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(ShortId);

        impl $name {
            /// Parses an id, which must match `[a-z0-9]{4,7}` (AppConfig's `Id` shape).
            ///
            /// # Errors
            /// A [`Rejection`] of kind `Invalid` naming the field when the text has the
            /// wrong shape.
            pub fn parse(text: &str) -> Result<Self, Rejection> {
                match ShortId::new(text) {
                    Some(id) if is_resource_id(text) => Ok(Self(id)),
                    _ => Err(Rejection::invalid(
                        $what,
                        format!("{text:?} must be 4 to 7 characters from [a-z0-9]"),
                    )),
                }
            }

            /// The id as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_str()).finish()
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Text;
                impl serde::de::Visitor<'_> for Text {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("an ", $what, ": 4 to 7 characters from [a-z0-9]"))
                    }

                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        $name::parse(text).map_err(|_| {
                            E::invalid_value(serde::de::Unexpected::Str(text), &self)
                        })
                    }
                }
                deserializer.deserialize_str(Text)
            }
        }
    };
}

resource_id!(
    /// The id of an AppConfig application, e.g. `339ohji`.
    ApplicationId,
    "ApplicationId"
);
resource_id!(
    /// The id of a configuration profile within an application.
    ProfileId,
    "ConfigurationProfileId"
);
resource_id!(
    /// The id of an environment within an application. Never reused within its
    /// application, even after the environment is deleted.
    EnvironmentId,
    "EnvironmentId"
);

/// The id of a deployment strategy: either one a user created (`[a-z0-9]{4,7}`, like
/// other resource ids) or one of AppConfig's predefined strategies
/// (`AppConfig.` followed by 9 to 40 characters from `[A-Za-z0-9]`, e.g.
/// `AppConfig.AllAtOnce`). This is the model's pattern for the id in paths and bodies.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeploymentStrategyId(String);

/// The prefix of every predefined deployment strategy id.
const PREDEFINED_PREFIX: &str = "AppConfig.";

impl DeploymentStrategyId {
    /// Parses an id matching `^[a-z0-9]{4,7}$` or `^AppConfig\.[A-Za-z0-9]{9,40}$`.
    ///
    /// A well-formed `AppConfig.` id parses even when no such predefined strategy exists;
    /// looking it up then finds nothing.
    ///
    /// # Errors
    /// A [`Rejection`] of kind `Invalid` naming `DeploymentStrategyId` when the text has
    /// neither shape.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        let predefined = text.strip_prefix(PREDEFINED_PREFIX).is_some_and(|rest| {
            (9..=40).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if predefined || is_resource_id(text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(Rejection::invalid(
                "DeploymentStrategyId",
                format!(
                    "{text:?} must be 4 to 7 characters from [a-z0-9], or AppConfig. and 9 to 40 characters from [A-Za-z0-9]"
                ),
            ))
        }
    }

    /// A predefined strategy's id from the kernel's own table (never from input).
    pub(crate) fn predefined(id: &'static str) -> Self {
        debug_assert!(id.starts_with(PREDEFINED_PREFIX));
        Self(id.to_owned())
    }

    /// True for the id shape of AppConfig's predefined strategies (`AppConfig.*`), which
    /// no user can create, update, delete or tag.
    #[must_use]
    pub fn is_predefined(&self) -> bool {
        self.0.starts_with(PREDEFINED_PREFIX)
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeploymentStrategyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True when `text` matches `[a-z0-9]{4,7}` exactly.
#[must_use]
pub fn is_resource_id(text: &str) -> bool {
    (4..=7).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A record's place in the global log: the first record is at position 1, and each
/// next one at exactly one more (invariant E1 in docs/design/event-log.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Position(u64);

impl Position {
    /// The position of the first record.
    pub const FIRST: Self = Self(1);

    /// Wraps a raw position.
    #[must_use]
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The position after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A version number within one stream: 1, 2, 3, ... A number is never handed out twice,
/// deleted versions included (invariant E4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StreamVersion(u64);

impl StreamVersion {
    /// Wraps a raw version number.
    #[must_use]
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The version after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for StreamVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A point in time: milliseconds since the Unix epoch, UTC. The storage layer reads the
/// clock and passes it in; the kernel never does (style 3.1, principle 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Wraps milliseconds since the Unix epoch.
    #[must_use]
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    #[must_use]
    pub const fn as_millis(self) -> i64 {
        self.0
    }
}

/// The sha256 of some content.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The sha256 of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Wraps raw hash bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw hash bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 lowercase or uppercase hex digits.
    ///
    /// # Errors
    /// A [`Rejection`] of kind `Invalid` when the text is not 64 hex digits.
    pub fn parse_hex(text: &str) -> Result<Self, Rejection> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(Rejection::invalid("ContentSha256", "must be 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let hi = hex_digit(pair[0]);
            let lo = hex_digit(pair[1]);
            match (hi, lo) {
                (Some(hi), Some(lo)) => *slot = (hi << 4) | lo,
                _ => {
                    return Err(Rejection::invalid("ContentSha256", "must be 64 hex digits"));
                }
            }
        }
        Ok(Self(out))
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({self})")
    }
}

/// A versioned stream: the unit that version numbers, preconditions and idempotency
/// apply to: a configuration profile's hosted versions, a Connect view's versions, and
/// later Proton templates' (architecture.md D1). The kind fixes the kernel's policy for
/// the stream ([`crate::stream::Policy`], invariant E9).
///
/// Deliberately not `#[non_exhaustive]`: a new kind must be matched, and so given a key
/// encoding and replay rules, everywhere streams are handled.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum StreamId {
    /// The hosted configuration versions of one configuration profile.
    HostedConfiguration {
        /// The application that owns the profile.
        application: ApplicationId,
        /// The profile.
        profile: ProfileId,
    },
    /// The numbered versions of one Amazon Connect view.
    ConnectView {
        /// The instance (a namespace).
        instance: ConnectInstanceId,
        /// The view.
        view: ViewId,
    },
    /// The majors of one generation of a Proton environment template: version M is
    /// major M.
    EnvironmentTemplate {
        /// The template.
        template: TemplateName,
        /// Which creation of the name (1, 2, ... after deletes).
        generation: u32,
    },
    /// The minors of one major of a Proton environment template: version n is minor
    /// n - 1 (minors start at 0, stream versions at 1).
    EnvironmentTemplateMajor {
        /// The template.
        template: TemplateName,
        /// Which creation of the name.
        generation: u32,
        /// The major.
        major: u64,
    },
}

impl StreamId {
    /// The majors stream of a template generation.
    #[must_use]
    pub fn template(template: &TemplateName, generation: u32) -> Self {
        Self::EnvironmentTemplate {
            template: template.clone(),
            generation,
        }
    }

    /// The minors stream of one major of a template generation.
    #[must_use]
    pub fn template_major(template: &TemplateName, generation: u32, major: u64) -> Self {
        Self::EnvironmentTemplateMajor {
            template: template.clone(),
            generation,
            major,
        }
    }

    /// The stream of a Connect view's versions.
    #[must_use]
    pub fn view(instance: &ConnectInstanceId, view: &ViewId) -> Self {
        Self::ConnectView {
            instance: instance.clone(),
            view: view.clone(),
        }
    }

    /// The stream of a profile's hosted configuration versions.
    #[must_use]
    pub fn hosted(application: &ApplicationId, profile: &ProfileId) -> Self {
        Self::HostedConfiguration {
            application: application.clone(),
            profile: profile.clone(),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HostedConfiguration {
                application,
                profile,
            } => write!(f, "appconfig/{application}/{profile}"),
            Self::ConnectView { instance, view } => write!(f, "connect/{instance}/{view}"),
            Self::EnvironmentTemplate {
                template,
                generation,
            } => write!(f, "proton/{template}#{generation}"),
            Self::EnvironmentTemplateMajor {
                template,
                generation,
                major,
            } => write!(f, "proton/{template}#{generation}/{major}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_accept_only_4_to_7_lowercase_alphanumerics() {
        for good in ["abcd", "a1b2c3d", "0000", "339ohji"] {
            assert!(ApplicationId::parse(good).is_ok(), "{good}");
        }
        for bad in ["abc", "abcdefgh", "ABCD", "ab-d", "", "abc\u{e9}"] {
            assert!(ApplicationId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_ids_order_compare_and_serialize_as_their_text() {
        // Held inline, an id still behaves as the `String` it replaced: the order of the
        // text (shorter prefixes first), the text in every serialized form, the same
        // `Debug`.
        let ids = [
            "abcd", "abcde", "abcz", "abd0", "0000", "zzzzzzz", "a1b2c3d", "abcd1",
        ];
        let mut by_id: Vec<_> = ids
            .iter()
            .map(|t| ApplicationId::parse(t).unwrap())
            .collect();
        by_id.sort();
        let mut by_text = ids.to_vec();
        by_text.sort_unstable();
        assert_eq!(
            by_id.iter().map(ApplicationId::as_str).collect::<Vec<_>>(),
            by_text
        );
        let id = ProfileId::parse("339ohji").unwrap();
        assert_eq!(id, ProfileId::parse("339ohji").unwrap());
        assert_ne!(id, ProfileId::parse("339ohj").unwrap());
        assert_eq!(format!("{id:?}"), format!("ProfileId({:?})", "339ohji"));
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"339ohji\"");
        assert_eq!(
            serde_json::from_str::<ProfileId>("\"339ohji\"").unwrap(),
            id
        );
    }

    #[test]
    fn decoding_a_resource_id_checks_its_shape() {
        for bad in ["abc", "abcdefgh", "ABCD", "", "a\u{0}cd"] {
            let json = serde_json::to_string(bad).unwrap();
            let err = serde_json::from_str::<EnvironmentId>(&json).unwrap_err();
            assert!(
                err.to_string().contains("4 to 7 characters"),
                "{bad}: {err}"
            );
        }
        assert!(serde_json::from_str::<EnvironmentId>("7").is_err());
    }

    #[test]
    fn strategy_ids_accept_resource_ids_and_predefined_shapes_only() {
        for good in [
            "abcd",
            "a1b2c3d",
            "AppConfig.AllAtOnce",
            "AppConfig.Canary10Percent20Minutes",
            &format!("AppConfig.{}", "a".repeat(40)),
        ] {
            assert!(DeploymentStrategyId::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "abc",
            "ABCD",
            "AppConfig.Short",
            "AppConfig.All-At-Once",
            "appconfig.AllAtOnce",
            "AppConfig.",
            &format!("AppConfig.{}", "a".repeat(41)),
            "",
        ] {
            assert!(DeploymentStrategyId::parse(bad).is_err(), "{bad}");
        }
        assert!(
            DeploymentStrategyId::parse("AppConfig.AllAtOnce")
                .unwrap()
                .is_predefined()
        );
        assert!(!DeploymentStrategyId::parse("abcd").unwrap().is_predefined());
    }

    #[test]
    fn content_hash_round_trips_through_hex() {
        let h = ContentHash::of(b"hello");
        assert_eq!(
            h.to_string(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(ContentHash::parse_hex(&h.to_string()).ok(), Some(h));
        assert!(ContentHash::parse_hex("zz").is_err());
        assert!(ContentHash::parse_hex(&"g".repeat(64)).is_err());
    }
}

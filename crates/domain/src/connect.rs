//! What the Amazon Connect face adds over the kernel: instance and view ids, a view's
//! status, its content and the one canonical encoding that content is stored and hashed
//! in, and the field rules of the Connect model (aws-api-surface.md §5,
//! docs/design/connect-proton.md).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::content::Content;
use crate::rejection::Rejection;

/// A Connect instance id: only a namespace, nothing creates it. 1 to 100 characters from
/// `[a-zA-Z0-9_\-:/]` (the model's `InstanceId`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectInstanceId(String);

impl ConnectInstanceId {
    /// Parses an instance id.
    ///
    /// # Errors
    /// `Invalid` naming `InstanceId` for anything not of the model's shape.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        let shape = text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'/'));
        if (1..=100).contains(&text.len()) && shape {
            Ok(Self(text.to_owned()))
        } else {
            Err(Rejection::invalid(
                "InstanceId",
                format!("{text:?} must be 1 to 100 characters from [a-zA-Z0-9_-:/]"),
            ))
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectInstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A view id: a UUID in lowercase text (36 characters from `[0-9a-f-]`), drawn by the
/// store when the view is created.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ViewId(String);

impl ViewId {
    /// Parses a view id.
    ///
    /// # Errors
    /// `Invalid` naming `ViewId` for anything that is not a lowercase UUID.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        let bytes = text.as_bytes();
        let shape = bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
            });
        if shape {
            Ok(Self(text.to_owned()))
        } else {
            Err(Rejection::invalid(
                "ViewId",
                format!("{text:?} is not a view id (a lowercase UUID)"),
            ))
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ViewId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The status of a view write: `SAVED` moves `$SAVED` only, `PUBLISHED` moves `$SAVED`
/// and `$LATEST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ViewStatus {
    /// `SAVED`.
    Saved,
    /// `PUBLISHED`.
    Published,
}

impl ViewStatus {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Saved => "SAVED",
            Self::Published => "PUBLISHED",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// `Invalid` naming `Status` for anything else.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        match text {
            "SAVED" => Ok(Self::Saved),
            "PUBLISHED" => Ok(Self::Published),
            _ => Err(Rejection::invalid(
                "Status",
                format!("{text:?} is not SAVED or PUBLISHED"),
            )),
        }
    }
}

/// A view's content: its `Template` text and its `Actions`, in the order given.
///
/// Stored and hashed as the RFC 8785 (JCS) canonical JSON of
/// `{"Actions":[...],"Template":"..."}`, so the content's sha256 is the wire's
/// `ViewContentSha256` whatever escaping a client used (docs/design/connect-proton.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewContent {
    /// The actions, each a name of 1 to 255 characters.
    #[serde(rename = "Actions")]
    pub actions: Vec<String>,
    /// The template: any text (a JSON object for published content).
    #[serde(rename = "Template")]
    pub template: String,
}

impl ViewContent {
    /// The canonical bytes, as stored. For this strings-only shape serde_json's compact
    /// output with the fields in this order is exactly JCS: keys sorted, no whitespace,
    /// only `"`, `\` and control characters escaped (short forms, else lowercase
    /// `\u00xx`), everything else as UTF-8.
    #[must_use]
    pub fn canonical(&self) -> Content {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Content::new(bytes)
    }

    /// Decodes stored canonical bytes.
    ///
    /// # Errors
    /// A description of what is wrong when the bytes are not canonical view content
    /// (invariant V7).
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let content: Self =
            serde_json::from_slice(bytes).map_err(|e| format!("not view content: {e}"))?;
        if serde_json::to_vec(&content).map_err(|e| e.to_string())? != bytes {
            return Err("view content is not in its canonical form".to_owned());
        }
        Ok(content)
    }

    /// Parses stored bytes whose hash was verified, without the canonical-form check
    /// (`decode` has it): they are what a checked write stored.
    ///
    /// # Errors
    /// A description of what is wrong when the bytes are not view content at all.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not view content: {e}"))
    }

    /// The basic checks every write runs (`SAVED`): the actions' shapes.
    ///
    /// # Errors
    /// `Invalid` naming `Actions`.
    pub fn check_basic(&self) -> Result<(), Rejection> {
        for action in &self.actions {
            connect_name("Actions", action, 255)?;
        }
        Ok(())
    }

    /// The full check a `PUBLISHED` write runs: the basic checks, and the template is a
    /// JSON object.
    ///
    /// # Errors
    /// `Invalid` naming `Actions` or `Template`.
    pub fn check_full(&self) -> Result<(), Rejection> {
        self.check_basic()?;
        match serde_json::from_str::<serde_json::Value>(&self.template) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            Ok(_) => Err(Rejection::invalid(
                "Template",
                "a published template must be a JSON object",
            )),
            Err(e) => Err(Rejection::invalid(
                "Template",
                format!("a published template must be JSON: {e}"),
            )),
        }
    }

    /// The `InputSchema` derived from the template: `{"properties":{...},"type":"object"}`
    /// in JCS, with one empty schema for each distinct `X` such that some string value of
    /// the parsed template starts with `$.X` (X ends at the first `.` or `[`). `None` when
    /// the template is not JSON (only possible for `$SAVED` content).
    #[must_use]
    pub fn input_schema(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_str(&self.template).ok()?;
        let mut names = BTreeMap::new();
        collect_inputs(&value, &mut names);
        let schema = serde_json::json!({ "properties": names, "type": "object" });
        // serde_json's maps are sorted (no `preserve_order`), so this is canonical.
        Some(schema.to_string())
    }
}

/// View content in its canonical form with the checks of its bytes already run. It is
/// built only by [`ViewContent::encode`] or [`EncodedViewContent::from_bytes`], on the
/// caller's thread, so the single writer never parses JSON: the checks are pure functions
/// of the bytes, and `decide` reads their results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedViewContent {
    content: Content,
    /// The basic checks (`SAVED`): canonical form and the actions' shapes.
    basic: Result<(), Rejection>,
    /// The full checks (`PUBLISHED`): the basic ones, and the template is a JSON object.
    full: Result<(), Rejection>,
}

impl EncodedViewContent {
    /// Checks bytes claimed to be canonical view content (a non-canonical form fails both
    /// checks).
    #[must_use]
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        match ViewContent::decode(&bytes) {
            Ok(decoded) => decoded.encode(),
            Err(e) => {
                let refused = Err(Rejection::invalid("Content", e));
                Self {
                    content: Content::new(bytes),
                    basic: refused.clone(),
                    full: refused,
                }
            }
        }
    }

    /// The canonical bytes.
    #[must_use]
    pub const fn content(&self) -> &Content {
        &self.content
    }

    /// The checks a write with `status` runs: basic for `SAVED`, full for `PUBLISHED`.
    ///
    /// # Errors
    /// `Invalid` naming the member that fails.
    pub fn check(&self, status: ViewStatus) -> Result<(), Rejection> {
        match status {
            ViewStatus::Saved => self.basic.clone(),
            ViewStatus::Published => self.full.clone(),
        }
    }
}

impl ViewContent {
    /// The canonical bytes with the results of both checks.
    #[must_use]
    pub fn encode(&self) -> EncodedViewContent {
        let basic = self.check_basic();
        let full = basic.clone().and_then(|()| self.check_full());
        EncodedViewContent {
            content: self.canonical(),
            basic,
            full,
        }
    }
}

fn collect_inputs(value: &serde_json::Value, names: &mut BTreeMap<String, serde_json::Value>) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(rest) = s.strip_prefix("$.") {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                if let Some(name) = rest.get(..end).filter(|n| !n.is_empty()) {
                    names.insert(name.to_owned(), serde_json::json!({}));
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_inputs(item, names);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values() {
                collect_inputs(item, names);
            }
        }
        _ => {}
    }
}

/// `\p{Z}`: space, line and paragraph separators.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// `\p{L}` or `\p{N}`.
fn is_letter_or_number(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric()
}

/// The model's name pattern `^([\p{L}\p{N}_.:\/=+\-@()']+[\p{L}\p{Z}\p{N}_.:\/=+\-@()']*)$`
/// (with `,` also allowed when `comma`): the first character is no separator.
fn name_pattern(text: &str, comma: bool) -> bool {
    let symbol = |c: char| "_.:/=+-@()'".contains(c) || (comma && c == ',');
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| is_letter_or_number(c) || symbol(c))
        && chars.all(|c| is_letter_or_number(c) || is_separator(c) || symbol(c))
}

fn bounded(field: &'static str, text: &str, max: usize) -> Result<(), Rejection> {
    let n = text.chars().count();
    if (1..=max).contains(&n) {
        Ok(())
    } else {
        Err(Rejection::invalid(
            field,
            format!("length {n} is outside 1..{max}"),
        ))
    }
}

fn connect_name(field: &'static str, text: &str, max: usize) -> Result<(), Rejection> {
    bounded(field, text, max)?;
    if name_pattern(text, false) {
        Ok(())
    } else {
        Err(Rejection::invalid(
            field,
            format!("{text:?} has a character the name pattern does not allow"),
        ))
    }
}

/// A view's `Name`: 1 to 255 characters of the model's name pattern.
///
/// # Errors
/// `Invalid` naming `Name`.
pub fn view_name(name: &str) -> Result<(), Rejection> {
    connect_name("Name", name, 255)
}

/// A view's `Description` or a version's `VersionDescription` (`field`): 1 to 4096
/// characters of the model's description pattern.
///
/// # Errors
/// `Invalid` naming `field`.
pub fn view_description(field: &'static str, text: &str) -> Result<(), Rejection> {
    bounded(field, text, 4096)?;
    if name_pattern(text, true) {
        Ok(())
    } else {
        Err(Rejection::invalid(
            field,
            format!("{text:?} has a character the description pattern does not allow"),
        ))
    }
}

/// Connect tags: 1 to 50 when present; keys 1 to 128 characters from
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]` not starting with `aws:`; values at most 256.
///
/// # Errors
/// `Invalid` naming `Tags`.
pub fn view_tags(tags: &BTreeMap<String, String>) -> Result<(), Rejection> {
    if tags.len() > 50 {
        return Err(Rejection::invalid(
            "Tags",
            format!("{} tags is more than 50", tags.len()),
        ));
    }
    for (key, value) in tags {
        bounded("Tags", key, 128)?;
        let shape = key
            .chars()
            .all(|c| is_letter_or_number(c) || is_separator(c) || "_.:/=+-@".contains(c));
        if !shape || key.starts_with("aws:") {
            return Err(Rejection::invalid(
                "Tags",
                format!("tag key {key:?} is not allowed (pattern, or the aws: prefix)"),
            ));
        }
        let v = value.chars().count();
        if v > 256 {
            return Err(Rejection::invalid(
                "Tags",
                format!("value of {key:?} has length {v}, more than 256"),
            ));
        }
    }
    Ok(())
}

/// A `ClientToken`: at most 500 characters from `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
///
/// # Errors
/// `Invalid` naming `ClientToken`.
pub fn client_token(token: &str) -> Result<(), Rejection> {
    let n = token.chars().count();
    let shape = token
        .chars()
        .all(|c| is_letter_or_number(c) || is_separator(c) || "_.:/=+-@".contains(c));
    if n <= 500 && shape {
        Ok(())
    } else {
        Err(Rejection::invalid(
            "ClientToken",
            "must be at most 500 characters from letters, numbers, separators and _.:/=+-@",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(template: &str, actions: &[&str]) -> ViewContent {
        ViewContent {
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            template: template.to_owned(),
        }
    }

    #[test]
    fn canonical_content_hashes_to_the_documented_worked_example() {
        let template = r#"{"Head":{"Title":"Café"},"Body":[]}"#;
        let c = content(template, &["Submit", "Cancel"]).canonical();
        assert_eq!(c.bytes().len(), 89);
        assert_eq!(
            c.hash().to_string(),
            "d08d1f7a0f6dbe7908c8825f80bc7e5fb168ed031dcdbdb35c88c358092f385b"
        );
        assert_eq!(
            content(template, &["Cancel", "Submit"])
                .canonical()
                .hash()
                .to_string(),
            "3659e93d921a2ac3f0f20af54d8840b6b7e5537d8383f62a81ca484db90ca67f"
        );
        assert_eq!(
            content(template, &[]).canonical().hash().to_string(),
            "5b830d9264fab25acf5074e48e4736d672bda75abc4005341a370c0d062d6f69"
        );
    }

    #[test]
    fn canonical_escapes_only_quotes_backslashes_and_controls() {
        let c = content("a\"b\\c\n\u{1}é\u{2028}/", &[]).canonical();
        assert_eq!(
            std::str::from_utf8(c.bytes()).unwrap(),
            "{\"Actions\":[],\"Template\":\"a\\\"b\\\\c\\n\\u0001é\u{2028}/\"}"
        );
    }

    #[test]
    fn decode_accepts_canonical_bytes_only() {
        let c = content("{}", &["A"]);
        assert_eq!(ViewContent::decode(c.canonical().bytes()), Ok(c));
        assert!(ViewContent::decode(br#"{"Actions": ["A"],"Template":"{}"}"#).is_err());
        assert!(ViewContent::decode(br#"{"Template":"{}","Actions":["A"]}"#).is_err());
        assert!(ViewContent::decode(b"not json").is_err());
    }

    #[test]
    fn input_schema_names_each_top_level_input_once() {
        let c = content(
            r#"{"Head":{"Title":"$.Customer.Name"},"Body":["$.Items[0]","plain","$.Customer"]}"#,
            &[],
        );
        assert_eq!(
            c.input_schema().as_deref(),
            Some(r#"{"properties":{"Customer":{},"Items":{}},"type":"object"}"#)
        );
        assert_eq!(
            content("{}", &[]).input_schema().as_deref(),
            Some(r#"{"properties":{},"type":"object"}"#)
        );
        assert_eq!(content("not json", &[]).input_schema(), None);
    }

    #[test]
    fn published_content_needs_a_json_object_template() {
        assert!(content("{}", &[]).check_full().is_ok());
        assert!(content("[]", &[]).check_full().is_err());
        assert!(content("nope", &[]).check_full().is_err());
        assert!(content("nope", &[]).check_basic().is_ok());
        assert!(content("{}", &[" leading space"]).check_basic().is_err());
    }

    #[test]
    fn names_follow_the_model_pattern() {
        assert!(view_name("My view (v2) é").is_ok());
        assert!(view_name(" leading").is_err());
        assert!(view_name("").is_err());
        assert!(view_name(&"a".repeat(256)).is_err());
        assert!(view_name("semi;colon").is_err());
        assert!(view_description("Description", "a, b").is_ok());
        assert!(view_name("a, b").is_err());
    }

    #[test]
    fn tag_keys_refuse_the_aws_prefix() {
        let tags = |k: &str| BTreeMap::from([(k.to_owned(), "v".to_owned())]);
        assert!(view_tags(&tags("team")).is_ok());
        assert!(view_tags(&tags("aws:team")).is_err());
        assert!(view_tags(&tags("")).is_err());
    }

    #[test]
    fn ids_have_their_shapes() {
        assert!(ViewId::parse("0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d").is_ok());
        assert!(ViewId::parse("0B1C2D3E-4F50-4A6B-8C7D-9E0F1A2B3C4D").is_err());
        assert!(ViewId::parse("view").is_err());
        assert!(ConnectInstanceId::parse("inst-1:a/b_c").is_ok());
        assert!(ConnectInstanceId::parse("").is_err());
        assert!(ConnectInstanceId::parse("sp ace").is_err());
        assert!(ConnectInstanceId::parse(&"a".repeat(101)).is_err());
    }
}

//! JSON Schema validation of configuration content, reported as AppConfig's
//! `InvalidConfigurationDetail` entries.

use serde_json::{Value, json};

/// Most details reported for one validator: enough to act on, bounded in size.
const MAX_DETAILS: usize = 20;

/// Checks `content` against the JSON Schema `schema`. Returns one detail per violation;
/// empty when the content is valid. A schema or content that is not JSON is itself a
/// violation, never an error of the server.
#[must_use]
pub(crate) fn check(schema: &[u8], content: &[u8]) -> Vec<Value> {
    let detail = |constraint: &str, location: &str, reason: String, value: Option<String>| {
        let mut d = json!({
            "Type": "JSON_SCHEMA",
            "Constraint": constraint,
            "Location": location,
            "Reason": reason,
        });
        if let (Some(v), Some(map)) = (value, d.as_object_mut()) {
            map.insert("Value".into(), Value::String(v));
        }
        d
    };
    let schema: Value = match serde_json::from_slice(schema) {
        Ok(v) => v,
        Err(e) => {
            return vec![detail(
                "schema",
                "",
                format!("the validator is not valid JSON: {e}"),
                None,
            )];
        }
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => {
            return vec![detail(
                "schema",
                "",
                format!("the validator is not a usable JSON Schema: {e}"),
                None,
            )];
        }
    };
    let instance: Value = match serde_json::from_slice(content) {
        Ok(v) => v,
        Err(e) => {
            return vec![detail(
                "json",
                "",
                format!("the configuration is not valid JSON: {e}"),
                None,
            )];
        }
    };
    validator
        .iter_errors(&instance)
        .take(MAX_DETAILS)
        .map(|e| {
            let value = e.instance().to_string();
            detail(
                e.kind().keyword(),
                e.instance_path().as_str(),
                e.to_string(),
                Some(value),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &[u8] =
        br#"{"type":"object","properties":{"max":{"type":"integer","minimum":1}},"required":["max"]}"#;

    #[test]
    fn valid_content_has_no_details() {
        assert!(check(SCHEMA, br#"{"max": 3}"#).is_empty());
    }

    #[test]
    fn each_violation_is_a_detail_with_its_location_and_constraint() {
        let details = check(SCHEMA, br#"{"max": 0}"#);
        assert_eq!(details.len(), 1);
        assert_eq!(details[0]["Constraint"], "minimum");
        assert_eq!(details[0]["Location"], "/max");
        assert_eq!(details[0]["Value"], "0");
        let missing = check(SCHEMA, b"{}");
        assert_eq!(missing[0]["Constraint"], "required");
    }

    #[test]
    fn content_or_schema_that_is_not_json_is_a_violation_not_a_failure() {
        assert_eq!(check(SCHEMA, b"max: 3")[0]["Constraint"], "json");
        assert_eq!(check(b"{", b"{}")[0]["Constraint"], "schema");
        assert_eq!(check(br#"{"type": 12}"#, b"{}")[0]["Constraint"], "schema");
    }
}

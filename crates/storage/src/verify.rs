//! Full verification (architecture.md §3): the chain, every content's hash, and the
//! stored projections equal to a fresh fold of the log.

use std::collections::BTreeMap;

use verso_domain::ViewContent;
use verso_domain::projection::CanonicalKind;
use verso_domain::proton::TemplateSource;

use crate::content;
use crate::error::{Error, Result};
use crate::log::{Head, schema};
use crate::replay::{self, Violation};
use crate::view::View;

/// What a successful verification walked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The chain head: the last position and its chain hash.
    pub head: Head,
    /// Distinct contents checked.
    pub contents: u64,
    /// Projection entries compared.
    pub projection_entries: u64,
}

/// Verifies everything stored in `tree`.
pub(crate) fn verify(
    tree: &sled::Tree,
    progress: &mut dyn FnMut(u64),
) -> Result<std::result::Result<VerifyReport, Violation>> {
    let folded = match replay::fold(tree, progress)? {
        Ok(f) => f,
        Err(v) => return Ok(Err(v)),
    };
    // E7: every content the log refers to is stored and hashes to its key.
    let mut referenced: Vec<_> = folded.contents.iter().collect();
    referenced.sort_by_key(|(_, p)| **p);
    for (hash, position) in referenced {
        match content::read(tree, *hash) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Ok(Err(Violation::at(
                    *position,
                    format!("content {hash} is referenced but not stored"),
                )));
            }
            Err(e) => return Ok(Err(Violation::at(*position, e.to_string()))),
        }
    }
    // V7: contents a face stores in a canonical form decode and re-encode to their bytes.
    for (kind, reference) in folded.state.canonical_contents() {
        let bytes = match content::read(tree, reference.hash) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return Ok(Err(Violation::store(format!(
                    "content {} is referenced but not stored",
                    reference.hash
                ))));
            }
            Err(e) => return Ok(Err(Violation::store(e.to_string()))),
        };
        let decoded = match kind {
            CanonicalKind::ViewContent => ViewContent::decode(&bytes).map(|_| ()),
            CanonicalKind::TemplateSource => TemplateSource::decode(&bytes).map(|_| ()),
        };
        if let Err(problem) = decoded {
            return Ok(Err(Violation::store(format!(
                "content {}: {problem}",
                reference.hash
            ))));
        }
    }
    let expected = encode_projections(&folded.state);
    let entries = expected.len() as u64;
    if let Some(first) = differences(tree, expected)?.first() {
        return Ok(Err(Violation::store(first.describe())));
    }
    Ok(Ok(VerifyReport {
        head: folded.head,
        contents: folded.contents.len() as u64,
        projection_entries: entries,
    }))
}

/// The stored form of a fold: every projection key and value, as the writer stores them.
pub(crate) fn encode_projections(state: &verso_domain::MemState) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut view = View::detached();
    state.write_into(&mut view);
    let (pending, _) = view.into_pending();
    pending
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

/// One way the stored projections differ from the fold of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Difference {
    /// Stored, but not in the fold.
    Extra(Vec<u8>),
    /// In the fold (with this value), but not stored.
    Missing(Vec<u8>, Vec<u8>),
    /// Stored with another value than the fold's (given).
    Differs(Vec<u8>, Vec<u8>),
}

impl Difference {
    /// What verification reports for it.
    fn describe(&self) -> String {
        match self {
            Self::Extra(k) => format!(
                "projection entry {} is not in the fold of the log",
                show_key(k)
            ),
            Self::Missing(k, _) => format!("projection entry {} is missing", show_key(k)),
            Self::Differs(k, _) => format!(
                "projection entry {} differs from the fold of the log",
                show_key(k)
            ),
        }
    }
}

/// Every way the projections stored in `tree` differ from `wanted` (the fold's
/// encoding), in key order: one merge of sled's sorted scan with the sorted fold, with
/// no lookups and no copy of the stored entries. Verification reports the first;
/// rebuild writes them all.
pub(crate) fn differences(
    tree: &sled::Tree,
    wanted: BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<Vec<Difference>> {
    // The prefixes are disjoint, so their scans in ascending prefix order are one sorted
    // sequence.
    let mut prefixes = schema::PROJECTION_PREFIXES;
    prefixes.sort_unstable();
    let stored = prefixes
        .into_iter()
        .flat_map(|prefix| tree.scan_prefix([prefix]))
        .map(|item| item.map_err(Error::sled("scan projections")));
    merge(stored, wanted)
}

fn merge(
    stored: impl Iterator<Item = Result<(sled::IVec, sled::IVec)>>,
    wanted: BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<Vec<Difference>> {
    let mut out = Vec::new();
    let mut stored = stored.peekable();
    for (key, value) in wanted {
        // Everything stored below this key is not in the fold (a scan error is taken
        // here too, and returned).
        while let Some(item) =
            stored.next_if(|item| item.as_ref().map_or(true, |(k, _)| k.as_ref() < &key[..]))
        {
            out.push(Difference::Extra(item?.0.to_vec()));
        }
        match stored.next_if(|item| matches!(item, Ok((k, _)) if k.as_ref() == &key[..])) {
            Some(Ok((_, v))) if v.as_ref() == &value[..] => {}
            Some(_) => out.push(Difference::Differs(key, value)),
            None => out.push(Difference::Missing(key, value)),
        }
    }
    for item in stored {
        out.push(Difference::Extra(item?.0.to_vec()));
    }
    Ok(out)
}

fn show_key(key: &[u8]) -> String {
    key.iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(pairs: &[(&str, &str)]) -> Vec<Result<(sled::IVec, sled::IVec)>> {
        pairs
            .iter()
            .map(|(k, v)| {
                Ok((
                    sled::IVec::from(k.as_bytes()),
                    sled::IVec::from(v.as_bytes()),
                ))
            })
            .collect()
    }

    fn wanted(pairs: &[(&str, &str)]) -> BTreeMap<Vec<u8>, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn merge_finds_extra_missing_and_different_entries_in_key_order() {
        let got = merge(
            stored(&[("a", "1"), ("b", "2"), ("c", "3"), ("e", "5")]).into_iter(),
            wanted(&[("b", "2"), ("c", "x"), ("d", "4")]),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                Difference::Extra(b"a".to_vec()),
                Difference::Differs(b"c".to_vec(), b"x".to_vec()),
                Difference::Missing(b"d".to_vec(), b"4".to_vec()),
                Difference::Extra(b"e".to_vec()),
            ]
        );
        let same = merge(stored(&[("k", "v")]).into_iter(), wanted(&[("k", "v")]));
        assert!(same.unwrap().is_empty());
    }
}

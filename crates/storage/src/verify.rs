//! Full verification (architecture.md §3): the chain, every content's hash, and the
//! stored projections equal to a fresh fold of the log.

use std::collections::BTreeMap;

use crate::content;
use crate::error::Result;
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
    let expected = encode_projections(&folded.state);
    let stored = stored_projections(tree)?;
    if let Some(problem) = first_difference(&expected, &stored) {
        return Ok(Err(Violation::store(problem)));
    }
    Ok(Ok(VerifyReport {
        head: folded.head,
        contents: folded.contents.len() as u64,
        projection_entries: stored.len() as u64,
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

/// Every stored projection entry.
pub(crate) fn stored_projections(tree: &sled::Tree) -> Result<BTreeMap<Vec<u8>, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for prefix in schema::PROJECTION_PREFIXES {
        for item in tree.scan_prefix([prefix]) {
            let (k, v) = item.map_err(crate::error::Error::sled("scan projections"))?;
            out.insert(k.to_vec(), v.to_vec());
        }
    }
    Ok(out)
}

fn first_difference(
    expected: &BTreeMap<Vec<u8>, Vec<u8>>,
    stored: &BTreeMap<Vec<u8>, Vec<u8>>,
) -> Option<String> {
    for (k, v) in expected {
        match stored.get(k) {
            None => return Some(format!("projection entry {} is missing", show_key(k))),
            Some(s) if s != v => {
                return Some(format!(
                    "projection entry {} differs from the fold of the log",
                    show_key(k)
                ));
            }
            Some(_) => {}
        }
    }
    stored.keys().find(|k| !expected.contains_key(*k)).map(|k| {
        format!(
            "projection entry {} is not in the fold of the log",
            show_key(k)
        )
    })
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

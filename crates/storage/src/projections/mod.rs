//! The projections in memory (ADR 0007): the writer decides against them, readers read
//! the snapshots it publishes, and a checkpointer writes them to the engine now and then.
//!
//! | module | what it owns |
//! | --- | --- |
//! | `snapshot` | [`Published`] (a snapshot and its head) and the writer's two copies |
//! | `checkpoint` | the checkpointer thread and its batches (invariant K1) |
//! | `load` | loading a checkpoint at open and folding the log's tail into it (K2, K3) |
//! | `overlay` | [`Overlay`](overlay::Overlay): the projections' stored form behind the kernel's traits, with pending writes on top |
//!
//! The map holds each projection entry in its stored form (key and value bytes as in
//! docs/design/event-log.md), and the content headers, so that the writer answers "is
//! this content stored?" without reading storage.

pub(crate) mod checkpoint;
pub(crate) mod load;
pub(crate) mod overlay;
pub(crate) mod snapshot;

use std::collections::BTreeMap;

use crate::log::schema;
use crate::projections::overlay::Writes;

/// Projection entries (and content headers) in key order.
pub(crate) type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// Whether `key` belongs to a projection keyspace: what verification compares with the
/// fold of the log (content headers are checkpointed too, but are not projections).
pub(crate) fn is_projection(key: &[u8]) -> bool {
    key.first()
        .is_some_and(|p| schema::PROJECTION_PREFIXES.contains(p))
}

/// Whether `key` is held in memory and checkpointed, never written by a group: a
/// projection entry or a content header.
pub(crate) fn is_in_memory(key: &[u8]) -> bool {
    key.first() == Some(&schema::CONTENT) || is_projection(key)
}

/// Applies `writes` (a `None` value removes) to `map`.
pub(crate) fn apply_writes(map: &mut Map, writes: &Writes) {
    for (key, value) in writes {
        match value {
            Some(v) => {
                map.insert(key.clone(), v.clone());
            }
            None => {
                map.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_keys_and_content_headers_are_in_memory_but_log_and_chunks_are_not() {
        assert!(is_in_memory(&[schema::VERSION, 1]));
        assert!(is_in_memory(&[schema::CONTENT, 1]));
        assert!(!is_projection(&[schema::CONTENT, 1]));
        assert!(!is_in_memory(&[schema::LOG, 0]));
        assert!(!is_in_memory(&[schema::CHUNK, 1]));
        assert!(!is_in_memory(schema::META_HEAD));
    }

    #[test]
    fn applying_writes_inserts_replaces_and_removes() {
        let mut map = Map::new();
        map.insert(b"a".to_vec(), b"old".to_vec());
        map.insert(b"b".to_vec(), b"gone".to_vec());
        let mut writes = Writes::new();
        writes.insert(b"a".to_vec(), Some(b"new".to_vec()));
        writes.insert(b"b".to_vec(), None);
        writes.insert(b"c".to_vec(), Some(b"added".to_vec()));
        apply_writes(&mut map, &writes);
        let got: Vec<_> = map.into_iter().collect();
        assert_eq!(
            got,
            vec![
                (b"a".to_vec(), b"new".to_vec()),
                (b"c".to_vec(), b"added".to_vec())
            ]
        );
    }
}

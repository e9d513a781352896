//! The content store: each distinct content once, keyed by its sha256 (D3), in chunks of
//! at most [`schema::CHUNK_LEN`] bytes (ADR 0003). Reading verifies the hash (E7).
//!
//! A group writes only the chunks. The content header (`c` + sha256 -> length), which
//! tells the writer that a content is stored, is held in memory with the projections
//! and checkpointed with them (ADR 0007): a header is only ever made for content whose
//! chunks went into an acknowledged group, so it never claims content that is not
//! stored. A header lost in a crash is made again by the fold of the log after the
//! checkpoint; one missing for another reason only makes the writer store the same
//! chunks again, under the same keys. The empty content has no chunks: its sha256 alone
//! says what it is.

use verso_domain::{Content, ContentHash, ContentRef};

use crate::error::{Error, Result};
use crate::log::{keys, schema};
use crate::projections::overlay::Overlay;

/// Adds `content` to the pending writes. The caller has checked with [`contains`] that
/// the store does not hold it yet (one lookup per new content, not two).
pub(crate) fn write_new(view: &mut Overlay<'_>, content: &Content) -> Result<()> {
    // The writer sends chunks to sled and the header to memory (projections::is_in_memory).
    let header = keys::content(content.hash());
    let bytes = content.bytes();
    for (index, chunk) in bytes.chunks(schema::CHUNK_LEN).enumerate() {
        let index = u32::try_from(index)
            .map_err(|_| Error::Config("content has more than 2^32 chunks".to_owned()))?;
        view.put_raw(keys::chunk(content.hash(), index).to_vec(), chunk.to_vec());
    }
    view.put_raw(header.to_vec(), (bytes.len() as u64).to_be_bytes().to_vec());
    Ok(())
}

/// Whether the store (or the pending writes) holds `hash`.
pub(crate) fn contains(view: &Overlay<'_>, hash: ContentHash) -> Result<bool> {
    view.contains(&keys::content(hash))
}

/// Whether sled holds the chunks of the content with `hash` (the empty content needs
/// none), without reading or verifying them.
pub(crate) fn stored(tree: &sled::Tree, hash: ContentHash) -> Result<bool> {
    if hash == ContentHash::of(&[]) {
        return Ok(true);
    }
    tree.contains_key(keys::chunk(hash, 0))
        .map_err(Error::sled("read content"))
}

/// Adds the header of a content already stored to the pending writes.
pub(crate) fn remember(view: &mut Overlay<'_>, reference: &ContentRef) {
    view.put_raw(
        keys::content(reference.hash).to_vec(),
        reference.len.to_be_bytes().to_vec(),
    );
}

/// Reads and verifies the content with `hash`; `None` when the store does not hold it.
///
/// # Errors
/// [`Error::Corrupted`] when a chunk is missing or the bytes do not hash to `hash`.
pub(crate) fn read(tree: &sled::Tree, hash: ContentHash) -> Result<Option<Vec<u8>>> {
    if hash == ContentHash::of(&[]) {
        return Ok(Some(Vec::new()));
    }
    let mut prefix = vec![schema::CHUNK];
    prefix.extend_from_slice(hash.as_bytes());
    let mut out = Vec::new();
    let mut chunks = 0u32;
    for item in tree.scan_prefix(&prefix) {
        let (key, chunk) = item.map_err(Error::sled("read content"))?;
        // Chunks are numbered from 0 with no gap: a missing one is corruption, not a
        // shorter content.
        if key != keys::chunk(hash, chunks).as_slice() {
            return Err(Error::corrupted(
                None,
                format!("content {hash}: chunk {chunks} is missing"),
            ));
        }
        out.extend_from_slice(&chunk);
        chunks += 1;
    }
    if chunks == 0 {
        return Ok(None);
    }
    if ContentHash::of(&out) != hash {
        return Err(Error::corrupted(
            None,
            format!("content {hash}: stored bytes do not hash to their key"),
        ));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn tree_with(content: &[u8]) -> (tempfile::TempDir, sled::Db, ContentHash) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let hash = ContentHash::of(content);
        for (index, chunk) in (0u32..).zip(content.chunks(schema::CHUNK_LEN)) {
            db.insert(keys::chunk(hash, index), chunk).unwrap();
        }
        (dir, db, hash)
    }

    #[test]
    fn content_reads_whole_from_its_chunks_without_a_header() {
        // E7: reading verifies the sha256; the header is not needed to read.
        let bytes: Vec<u8> = (0..3 * schema::CHUNK_LEN + 5)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let (_dir, db, hash) = tree_with(&bytes);
        assert_eq!(read(&db, hash).unwrap(), Some(bytes));
        assert!(stored(&db, hash).unwrap());
        let absent = ContentHash::of(b"never stored");
        assert_eq!(read(&db, absent).unwrap(), None);
        assert!(!stored(&db, absent).unwrap());
    }

    #[test]
    fn a_missing_middle_chunk_is_corruption_not_a_shorter_content() {
        // E7: a content is stored whole or reported.
        let bytes = vec![7u8; 3 * schema::CHUNK_LEN];
        let (_dir, db, hash) = tree_with(&bytes);
        db.remove(keys::chunk(hash, 1)).unwrap();
        let err = read(&db, hash).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        assert!(err.to_string().contains("chunk 1 is missing"), "{err}");
    }

    #[test]
    fn the_empty_content_needs_no_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let empty = ContentHash::of(&[]);
        assert_eq!(read(&db, empty).unwrap(), Some(Vec::new()));
        assert!(stored(&db, empty).unwrap());
    }
}

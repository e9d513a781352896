//! The content store: each distinct content once, keyed by its sha256 (D3), in chunks of
//! at most [`schema::CHUNK_LEN`] bytes (ADR 0003). Reading verifies the hash (E7).

use verso_domain::{Content, ContentHash};

use crate::error::{Error, Result};
use crate::log::{keys, schema};
use crate::view::View;

/// Adds `content` to the pending writes. The caller has checked with [`contains`] that
/// the store does not hold it yet (one lookup per new content, not two).
pub(crate) fn write_new(view: &mut View<'_>, content: &Content) -> Result<()> {
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
pub(crate) fn contains(view: &View<'_>, hash: ContentHash) -> Result<bool> {
    view.contains(&keys::content(hash))
}

/// Reads and verifies the content with `hash`; `None` when the store does not hold it.
///
/// # Errors
/// [`Error::Corrupted`] when a chunk is missing or the bytes do not hash to `hash`.
pub(crate) fn read(tree: &sled::Tree, hash: ContentHash) -> Result<Option<Vec<u8>>> {
    let Some(header) = tree
        .get(keys::content(hash))
        .map_err(Error::sled("read content"))?
    else {
        return Ok(None);
    };
    let len = <[u8; 8]>::try_from(header.as_ref())
        .map(u64::from_be_bytes)
        .map_err(|_| Error::corrupted(None, format!("content {hash}: bad header")))?;
    let len = usize::try_from(len)
        .map_err(|_| Error::corrupted(None, format!("content {hash}: length {len}")))?;
    let mut out = Vec::with_capacity(len.min(64 * 1024 * 1024));
    let mut prefix = vec![schema::CHUNK];
    prefix.extend_from_slice(hash.as_bytes());
    for item in tree.scan_prefix(&prefix) {
        let (_, chunk) = item.map_err(Error::sled("read content"))?;
        out.extend_from_slice(&chunk);
        if out.len() > len {
            break;
        }
    }
    if out.len() != len || ContentHash::of(&out) != hash {
        return Err(Error::corrupted(
            None,
            format!("content {hash}: stored bytes do not hash to their key"),
        ));
    }
    Ok(Some(out))
}

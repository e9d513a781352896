//! The content store: each distinct content once, keyed by its sha256 (D3), stored by
//! the engine (sled's in chunks, ADR 0003). Reading verifies the hash (E7).
//!
//! A group writes only the content itself. The content header (`c` + sha256 ->
//! length), which tells the writer that a content is stored, is held in memory with the
//! projections and checkpointed with them (ADR 0007): a header is only ever made for
//! content that went into an acknowledged group, so it never claims content that is not
//! stored. A header lost in a crash is made again by the fold of the log after the
//! checkpoint; one missing for another reason only makes the writer store the same
//! chunks again, under the same keys. The empty content has no chunks: its sha256 alone
//! says what it is.

use verso_domain::{ContentHash, ContentRef};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::log::keys;
use crate::projections::overlay::Overlay;

/// Whether the store (or the pending writes) holds `hash`.
pub(crate) fn contains(view: &Overlay<'_>, hash: ContentHash) -> Result<bool> {
    view.contains(&keys::content(hash))
}

/// Adds the header of a content to the pending writes: one the group stores, or one
/// already stored.
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
pub(crate) fn read(engine: &dyn Engine, hash: ContentHash) -> Result<Option<Vec<u8>>> {
    let Some(bytes) = engine.content(hash)? else {
        return Ok(None);
    };
    if ContentHash::of(&bytes) != hash {
        return Err(Error::corrupted(
            None,
            format!("content {hash}: stored bytes do not hash to their key"),
        ));
    }
    Ok(Some(bytes))
}

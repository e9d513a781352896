//! The content store: each distinct content once, keyed by its sha256 (D3), stored by
//! the engine (sled's in chunks, ADR 0003). Reading verifies the hash (E7).
//!
//! A group writes only the content itself. The content header (`c` + sha256 -> length
//! and the engine's location for the bytes), which tells the writer that a content is
//! stored and readers where, is held in memory with the projections and checkpointed
//! with them (ADR 0007): a header is only ever made for content that went into an
//! acknowledged group, so it never claims content that is not stored. Headers lost in a
//! crash are made again from the engine's record of where the groups after the
//! checkpoint put their content ([`Engine::contents_from`]), and a rebuild or verify
//! derives all of them the same way. The empty content needs no bytes: its sha256 alone
//! says what it is.

use verso_domain::{ContentHash, ContentRef, Position};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::log::keys;
use crate::projections::overlay::Overlay;

/// Whether the store (or the pending writes) holds `hash`.
pub(crate) fn contains(view: &Overlay<'_>, hash: ContentHash) -> Result<bool> {
    view.contains(&keys::content(hash))
}

/// A content header's value: the length (u64 BE), then the engine's location for the
/// bytes (empty for content of store format 1, kept by hash).
pub(crate) fn header(len: u64, location: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + location.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(location);
    out
}

/// The length and location a header holds.
fn parse_header(hash: ContentHash, value: &[u8]) -> Result<(u64, &[u8])> {
    match value.split_first_chunk::<8>() {
        Some((len, location)) => Ok((u64::from_be_bytes(*len), location)),
        None => Err(Error::corrupted(
            None,
            format!("content {hash}: malformed header"),
        )),
    }
}

/// Adds the header of a content to the pending writes: one already stored, or, until
/// the group is appended and the engine says where, one the group stores.
pub(crate) fn remember(view: &mut Overlay<'_>, reference: &ContentRef, location: &[u8]) {
    view.put_raw(
        keys::content(reference.hash).to_vec(),
        header(reference.len, location),
    );
}

/// Reads and verifies the content with `hash`, whose header `view` holds; `None` when
/// the store does not hold it.
///
/// # Errors
/// [`Error::Corrupted`] when part of it is missing or the bytes do not hash to `hash`.
pub(crate) fn read(
    engine: &dyn Engine,
    view: &Overlay<'_>,
    hash: ContentHash,
) -> Result<Option<Vec<u8>>> {
    match view.get_raw(&keys::content(hash))? {
        None => Ok(None),
        Some(header) => read_at(engine, hash, &header),
    }
}

/// Reads and verifies the content with `hash`, which a record (at `position`, when
/// known) references, so the store must hold it.
///
/// # Errors
/// [`Error::Corrupted`] when it is not stored, or as [`read`].
pub(crate) fn read_referenced(
    engine: &dyn Engine,
    view: &Overlay<'_>,
    hash: ContentHash,
    position: Option<Position>,
) -> Result<Vec<u8>> {
    read(engine, view, hash)?
        .ok_or_else(|| Error::corrupted(position, format!("content {hash} is not stored")))
}

/// Reads and verifies the content with `hash` whose header is `header`.
///
/// # Errors
/// As [`read`].
pub(crate) fn read_at(
    engine: &dyn Engine,
    hash: ContentHash,
    header: &[u8],
) -> Result<Option<Vec<u8>>> {
    let (len, location) = parse_header(hash, header)?;
    let Some(bytes) = engine.content(hash, len, location)? else {
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

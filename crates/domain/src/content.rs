//! Content: bytes with their sha256, and the reference to them that events carry.
//!
//! Events never hold content bytes; they hold a [`ContentRef`] and the store keeps each
//! distinct content once, keyed by its hash (architecture.md D3).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::id::ContentHash;

/// Content bytes and their sha256, hashed once when built (on the caller's thread, so the
/// single writer never spends its time hashing).
#[derive(Clone, PartialEq, Eq)]
pub struct Content {
    bytes: Arc<[u8]>,
    hash: ContentHash,
}

impl Content {
    /// Hashes `bytes`.
    #[must_use]
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Self {
        let bytes = bytes.into();
        let hash = ContentHash::of(&bytes);
        Self { bytes, hash }
    }

    /// The bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The sha256 of the bytes.
    #[must_use]
    pub const fn hash(&self) -> ContentHash {
        self.hash
    }

    /// The reference an event stores.
    #[must_use]
    pub fn to_ref(&self) -> ContentRef {
        ContentRef {
            hash: self.hash,
            len: self.bytes.len() as u64,
        }
    }
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Content")
            .field("len", &self.bytes.len())
            .field("hash", &self.hash)
            .finish()
    }
}

/// What an event records of some content: its hash and length in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContentRef {
    /// The sha256 of the content.
    pub hash: ContentHash,
    /// The length in bytes.
    pub len: u64,
}

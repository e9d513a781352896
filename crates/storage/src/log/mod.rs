//! The event log in sled: records at gapless positions, chained by hash (D2, D3).

pub(crate) mod codec;
pub(crate) mod keys;
pub(crate) mod schema;

use verso_domain::Position;

pub use codec::ChainHash;

use crate::error::{Error, Result};

/// The chain head: the last record's position and chain hash. An empty log has position
/// 0 and the genesis hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    /// The last position (0 when the log is empty).
    pub position: u64,
    /// The chain hash of the last record.
    pub hash: ChainHash,
}

impl Head {
    /// The head of an empty log.
    pub const EMPTY: Self = Self {
        position: 0,
        hash: codec::GENESIS,
    };

    /// The chain hash as lowercase hex.
    #[must_use]
    pub fn hash_hex(&self) -> String {
        self.hash.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Reads the head meta entry.
pub(crate) fn read_head(tree: &sled::Tree) -> Result<Head> {
    match tree
        .get(schema::META_HEAD)
        .map_err(Error::sled("read head"))?
    {
        None => Ok(Head::EMPTY),
        Some(bytes) => codec::decode_value(&bytes)
            .map_err(|e| Error::corrupted(None, format!("chain head: {e}"))),
    }
}

/// The position of the last record in the log keyspace, if any.
pub(crate) fn last_position(tree: &sled::Tree) -> Result<Option<Position>> {
    let last = tree
        .scan_prefix([schema::LOG])
        .next_back()
        .transpose()
        .map_err(Error::sled("read log"))?;
    match last {
        None => Ok(None),
        Some((key, _)) => keys::log_position(&key)
            .map(Some)
            .ok_or_else(|| Error::corrupted(None, "malformed log key")),
    }
}

/// Raw log entries from `from` on: `(position from the key, record bytes)`.
pub(crate) fn raw_from(
    tree: &sled::Tree,
    from: Position,
) -> impl Iterator<Item = Result<(Position, sled::IVec)>> + '_ {
    tree.range(keys::log(from)..)
        .take_while(|item| {
            item.as_ref()
                .map_or(true, |(key, _)| key.first() == Some(&schema::LOG))
        })
        .map(|item| {
            let (key, value) = item.map_err(Error::sled("read log"))?;
            let position = keys::log_position(&key)
                .ok_or_else(|| Error::corrupted(None, "malformed log key"))?;
            Ok((position, value))
        })
}

//! The event log: records at gapless positions, chained by hash (D2, D3), and the key
//! layout the engine stores them under.

pub(crate) mod codec;
pub(crate) mod keys;
pub(crate) mod schema;

pub use codec::ChainHash;

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

//! The frozen record format (architecture.md D3, docs/design/event-log.md §Record format).
//!
//! A record is one format byte followed by the bincode 2 (standard configuration, serde)
//! encoding of [`RecordV1`]. Decoding never panics and never allocates more than
//! [`MAX_RECORD`] bytes, whatever the input.

#![deny(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use verso_domain::{Event, Position, Recorded, Timestamp};

use super::schema::{CHAIN_TAG, LOG_FORMAT};

/// The largest record decode will accept. Events are small (content lives in the content
/// store); this bounds what a corrupted length prefix can make us allocate.
pub(crate) const MAX_RECORD: usize = 1 << 20;

/// A chain hash: sha256 over the domain tag, the previous hash and the record bytes.
pub type ChainHash = [u8; 32];

/// The hash that precedes the first record.
pub(crate) const GENESIS: ChainHash = [0u8; 32];

/// Format 1 of a log record. Frozen: any change is a new format byte.
#[derive(Serialize, Deserialize)]
struct RecordV1 {
    position: u64,
    prev_hash: ChainHash,
    timestamp: i64,
    actor: Option<String>,
    event: Event,
}

/// A decoded record: the event with its place, and the hash of its predecessor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// The event and its position, time and actor.
    pub recorded: Recorded,
    /// The chain hash of the record before it ([`GENESIS`] for the first).
    pub prev_hash: ChainHash,
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_RECORD>()
}

/// Encodes a record.
///
/// # Errors
/// A message when the event does not encode (it always does for well-formed events).
pub(crate) fn encode(recorded: &Recorded, prev_hash: &ChainHash) -> Result<Vec<u8>, String> {
    let record = RecordV1 {
        position: recorded.position.get(),
        prev_hash: *prev_hash,
        timestamp: recorded.timestamp.as_millis(),
        actor: recorded.actor.clone(),
        event: recorded.event.clone(),
    };
    let mut out = vec![LOG_FORMAT];
    bincode::serde::encode_into_std_write(&record, &mut out, config())
        .map_err(|e| format!("record at position {}: {e}", recorded.position))?;
    Ok(out)
}

/// Decodes a record.
///
/// # Errors
/// A message saying what is wrong: an unknown format byte, bytes that do not decode, or
/// trailing bytes after the record.
pub(crate) fn decode(bytes: &[u8]) -> Result<Record, String> {
    let Some((&format, body)) = bytes.split_first() else {
        return Err("empty record".to_owned());
    };
    if format != LOG_FORMAT {
        return Err(format!("unknown record format {format}"));
    }
    let (record, read): (RecordV1, usize) =
        bincode::serde::decode_from_slice(body, config()).map_err(|e| e.to_string())?;
    if read != body.len() {
        return Err(format!(
            "{} trailing bytes after the record",
            body.len() - read
        ));
    }
    Ok(Record {
        recorded: Recorded {
            position: Position::new(record.position),
            timestamp: Timestamp::from_millis(record.timestamp),
            actor: record.actor,
            event: record.event,
        },
        prev_hash: record.prev_hash,
    })
}

/// The chain hash of a record given its encoded bytes and its predecessor's hash.
pub(crate) fn chain_hash(prev_hash: &ChainHash, record_bytes: &[u8]) -> ChainHash {
    let mut h = Sha256::new();
    h.update(CHAIN_TAG);
    h.update(prev_hash);
    h.update(record_bytes);
    h.finalize().into()
}

/// Encodes a projection or meta value.
pub(crate) fn encode_value<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| e.to_string())
}

/// [`encode_value`], appended to `out`. On an error `out` may hold part of the value.
pub(crate) fn append_value<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), String> {
    bincode::serde::encode_into_std_write(value, out, config())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Frames a record for storage: its bytes followed by its own chain hash. The trailer
/// lets verification name the exact record whose bytes changed; the chain itself is
/// still carried by each record's `prev_hash` (docs/design/event-log.md §Record format).
pub(crate) fn frame(record_bytes: &[u8], hash: &ChainHash) -> Vec<u8> {
    let mut out = Vec::with_capacity(record_bytes.len() + 32);
    out.extend_from_slice(record_bytes);
    out.extend_from_slice(hash);
    out
}

/// Splits a stored value into the record bytes and the stored chain hash.
pub(crate) fn unframe(value: &[u8]) -> Result<(&[u8], ChainHash), String> {
    let split = value
        .len()
        .checked_sub(32)
        .ok_or_else(|| format!("stored record of {} bytes is too short", value.len()))?;
    let (body, trailer) = value.split_at(split);
    let hash: ChainHash = trailer
        .try_into()
        .map_err(|_| "stored record trailer".to_owned())?;
    Ok((body, hash))
}

/// Decodes a projection or meta value, refusing trailing bytes.
pub(crate) fn decode_value<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, read): (T, usize) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|e| e.to_string())?;
    if read != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - read));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use verso_domain::ApplicationId;

    fn sample() -> Recorded {
        Recorded {
            position: Position::new(7),
            timestamp: Timestamp::from_millis(1_700_000_000_000),
            actor: Some("AKIDEXAMPLE".into()),
            event: Event::ApplicationDeleted {
                application: ApplicationId::parse("abcd123").unwrap(),
            },
        }
    }

    #[test]
    fn records_round_trip() {
        let bytes = encode(&sample(), &[9u8; 32]).unwrap();
        let record = decode(&bytes).unwrap();
        assert_eq!(record.recorded, sample());
        assert_eq!(record.prev_hash, [9u8; 32]);
    }

    #[test]
    fn decoding_garbage_is_an_error_not_a_panic() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[2, 0, 0]).is_err());
        let mut bytes = encode(&sample(), &GENESIS).unwrap();
        bytes.push(0);
        assert!(decode(&bytes).is_err(), "trailing byte");
        bytes.truncate(bytes.len() - 3);
        assert!(decode(&bytes).is_err(), "truncated");
        // A huge length prefix must not allocate: 0xFF... varints.
        let huge = [1u8, 7, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(decode(&huge).is_err());
        for len in 0u8..64 {
            let noise: Vec<u8> = (0..len)
                .map(|i: u8| i.wrapping_mul(37).wrapping_add(11))
                .collect();
            let _ = decode(&noise);
        }
    }

    #[test]
    fn the_chain_hash_covers_the_previous_hash_and_every_byte() {
        let bytes = encode(&sample(), &GENESIS).unwrap();
        let h = chain_hash(&GENESIS, &bytes);
        assert_ne!(h, chain_hash(&[1u8; 32], &bytes));
        let mut flipped = bytes.clone();
        if let Some(b) = flipped.last_mut() {
            *b ^= 1;
        }
        assert_ne!(h, chain_hash(&GENESIS, &flipped));
    }
}

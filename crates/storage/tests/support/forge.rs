//! Forging log records the way an attacker with the record format would: bytes that
//! decode, with a trailer recomputed to match them (docs/design/event-log.md §Record
//! format, log format 1). Included with `#[path]` by the tests that forge.

use sha2::{Digest, Sha256};

/// The chain-hash domain tag (`log::schema::CHAIN_TAG`, frozen with log format 1).
const CHAIN_TAG: &[u8] = b"verso.chain.v1\0";

/// A record's chain hash: sha256 over the tag, the previous chain hash and the record
/// bytes.
pub(crate) fn chain_hash(previous: &[u8; 32], record: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(CHAIN_TAG);
    h.update(previous);
    h.update(record);
    h.finalize().into()
}

/// The chain-hash trailer of a stored record value.
pub(crate) fn trailer(value: &[u8]) -> [u8; 32] {
    value[value.len() - 32..].try_into().unwrap()
}

/// The stored record `value` (record bytes, then its trailer) of a position under 251,
/// whose predecessor's chain hash is `previous`, re-encoded with one bit of its
/// embedded previous hash flipped and a trailer recomputed for the new bytes: a record
/// that decodes, holds its own position and matches its trailer, but does not chain.
pub(crate) fn with_wrong_previous_hash(value: &[u8], previous: &[u8; 32]) -> Vec<u8> {
    let mut record = value[..value.len() - 32].to_vec();
    // The format byte, the position as one varint byte (under 251), the previous hash.
    assert_eq!(record[2..34], previous[..], "record layout of log format 1");
    assert_eq!(
        trailer(value),
        chain_hash(previous, &record),
        "chain hash of log format 1"
    );
    record[2] ^= 1;
    let forged = chain_hash(previous, &record);
    record.extend_from_slice(&forged);
    record
}

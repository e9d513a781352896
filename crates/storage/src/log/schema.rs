//! On-disk names: key prefixes and format markers (docs/design/event-log.md, L-rules).
//!
//! Meta keys start with 0x00. Everything lives in sled's default tree, so that a group's
//! log records, content and head are written by one `apply_batch`, and a checkpoint's
//! projection entries and marker by another, each atomic within the tree (invariants C3,
//! K1). Keys are prefixed by one byte; numbers inside keys are
//! big-endian so that sled's byte order is numeric order (L1).

/// `META` key holding the log format marker, written once at creation (L2).
pub(crate) const META_FORMAT: &[u8] = b"\x00format";
/// `META` key holding the projection format version; a mismatch triggers a rebuild.
pub(crate) const META_PROJECTION_FORMAT: &[u8] = b"\x00projection-format";
/// `META` key holding the chain head: the last position and its chain hash (E2).
pub(crate) const META_HEAD: &[u8] = b"\x00head";
/// `META` key holding the checkpoint marker: the head (position and chain hash) whose
/// fold the stored projections are (invariants K1–K3).
pub(crate) const META_APPLIED: &[u8] = b"\x00applied";
/// `META` key present while a rebuild is under way; its presence at open means the
/// projections are incomplete and must be rebuilt.
pub(crate) const META_REBUILDING: &[u8] = b"\x00rebuilding";

/// The log keyspace: `L` + position (u64 BE) -> record.
pub(crate) const LOG: u8 = b'L';
/// Content headers: `c` + sha256 -> length (u64 BE), then where the engine put the
/// bytes (nothing for content in `C` chunks; see `engine::sled_engine`). Held in memory
/// and checkpointed, never written by a group.
pub(crate) const CONTENT: u8 = b'c';
/// Content chunks of store format 1: `C` + sha256 + chunk index (u32 BE) -> at most
/// `CHUNK_LEN` bytes. Read, never written, since store format 2.
pub(crate) const CHUNK: u8 = b'C';
/// Packed content (store format 2): `P`, the segment (first position u64 BE, batch
/// u32 BE) and the part (u32 BE) -> at most `CHUNK_LEN` bytes of the contents a group
/// introduced, end to end.
pub(crate) const PACKED: u8 = b'P';
/// Packed content's index: `Q` + segment -> each content's sha256, length and offset in
/// the segment, so that locations are found without reading the bytes.
pub(crate) const PACKED_INDEX: u8 = b'Q';

/// The checkpoint (store format 3): `K` + segment number (u64 BE) + part (u32 BE) ->
/// at most `CHUNK_LEN` bytes of a checkpoint write's change set, end to end (see
/// `engine::sled_engine::segments`).
pub(crate) const CHECKPOINT: u8 = b'K';

/// Projection keyspaces. All of them are dropped and refilled by a rebuild. Since store
/// format 3 their entries are kept in checkpoint segments (`K`); a store of format 2 or
/// older may still hold some under these prefixes, read beneath the segments.
pub(crate) const APPLICATION: u8 = b'a';
/// `p` + application + profile.
pub(crate) const PROFILE: u8 = b'p';
/// `s` + stream -> stream head.
pub(crate) const STREAM: u8 = b's';
/// `v` + stream + version (u64 BE) -> version record.
pub(crate) const VERSION: u8 = b'v';
/// `l` + stream + label (u16 BE length + bytes) + version (u64 BE) -> empty.
pub(crate) const LABEL: u8 = b'l';
/// `h` + sha256 + stream + version (u64 BE) -> empty.
pub(crate) const CONTENT_USE: u8 = b'h';
/// `i` + stream + token -> idempotency record.
pub(crate) const IDEMPOTENCY: u8 = b'i';
/// `b` -> total live hosted bytes (u64 BE).
pub(crate) const HOSTED_BYTES: &[u8] = b"b";
/// `e` + application + environment -> environment record.
pub(crate) const ENVIRONMENT: u8 = b'e';
/// `r` + application + environment -> empty: the ids of deleted environments, never
/// reused (invariant E8).
pub(crate) const RETIRED_ENVIRONMENT: u8 = b'r';
/// `d` + strategy id -> a user deployment strategy record (predefined strategies are
/// kernel constants and never stored).
pub(crate) const DEPLOYMENT_STRATEGY: u8 = b'd';

/// `D` + application + environment + deployment number (u32 BE) -> deployment record.
pub(crate) const DEPLOYMENT: u8 = b'D';

/// `w` + instance + view -> Connect view record (deleted views included: ids are never
/// reused, invariant V1).
pub(crate) const VIEW: u8 = b'w';
/// `n` + instance + name -> view id: the live views' names (V2), in ListViews order.
pub(crate) const VIEW_NAME: u8 = b'n';
/// `k` + instance + token -> what a CreateView `ClientToken` first produced.
pub(crate) const VIEW_TOKEN: u8 = b'k';

/// `t` + name -> Proton template record (its last generation, deleted or not).
pub(crate) const TEMPLATE: u8 = b't';
/// `T` + name + generation + major + minor -> a live template version record.
pub(crate) const TEMPLATE_VERSION: u8 = b'T';
/// `q` + name + generation + token -> what a version `clientToken` first produced.
pub(crate) const TEMPLATE_TOKEN: u8 = b'q';

/// `u` + name + generation + major + minor -> empty: the published live versions, whose
/// last key is the recommended version (and, within a major, its recommended minor).
pub(crate) const PUBLISHED: u8 = b'u';

/// Every projection prefix, for rebuild and verification.
pub(crate) const PROJECTION_PREFIXES: [u8; 19] = [
    APPLICATION,
    PROFILE,
    STREAM,
    VERSION,
    LABEL,
    CONTENT_USE,
    IDEMPOTENCY,
    b'b',
    ENVIRONMENT,
    RETIRED_ENVIRONMENT,
    DEPLOYMENT_STRATEGY,
    DEPLOYMENT,
    VIEW,
    VIEW_NAME,
    VIEW_TOKEN,
    TEMPLATE,
    TEMPLATE_VERSION,
    TEMPLATE_TOKEN,
    PUBLISHED,
];

/// The record format this build writes and reads (the first byte of every record, and of
/// a bundle's records).
pub(crate) const LOG_FORMAT: u8 = 1;
/// The store format this build writes: the format marker's value is `b"verso-log"`
/// followed by this byte. 2: new content is packed (`P`, `Q`); 1: content in `C` chunks
/// by hash. This build reads both and marks a format-1 store 2 when it opens it for
/// writing (nothing else changes: its chunks stay readable).
pub(crate) const STORE_FORMAT: u8 = 3;
/// The store formats this build opens.
pub(crate) const STORE_FORMATS_READ: [u8; 3] = [1, 2, 3];
/// The marker's fixed text.
pub(crate) const LOG_FORMAT_MAGIC: &[u8] = b"verso-log";
/// The projection encoding this build writes. Bump it when a projection record changes;
/// stores with another value are rebuilt at open. 2: the stored projections are a
/// checkpoint with an `applied` marker (ADR 0007); 1 had them at the head, no marker.
/// 3: every stored content has a header, which says where its bytes are (store format
/// 2), and verify and rebuild derive the headers from the log like the projections.
pub(crate) const PROJECTION_FORMAT: u8 = 3;

/// Content is stored in chunks of at most this many bytes, so that no sled value, and
/// no sled leaf node of at most 17 entries, reaches sled's blob threshold (a quarter of
/// its 512 KiB segment), whose files sled never syncs (architecture.md D4, ADR 0003).
pub(crate) const CHUNK_LEN: usize = 4096;

/// The domain tag of the chain hash (D3).
pub(crate) const CHAIN_TAG: &[u8] = b"verso.chain.v1\0";

//! Bundles: a store's whole history in one self-verifying file
//! (docs/design/bundle.md, checks B1–B6).
//!
//! [`Store::export_bundle`] writes one, [`verify_bundle`] checks one offline without any
//! store, and [`import_bundle`] turns one into a store in an empty directory, writing
//! nothing unless all of it verifies.

#![deny(clippy::indexing_slicing)]

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use verso_domain::{ContentHash, MemState, Position};

use crate::content;
use crate::engine::{Engine, Group, Meta, SledEngine};
use crate::error::{Error, Result};
use crate::log::{ChainHash, Head, codec, schema};
use crate::options::{Durability, StoreOptions};
use crate::replay::{PROGRESS_EVERY, Violation, ViolationKind};
use crate::store::Store;

/// The file's first bytes.
const MAGIC: &[u8] = b"VERSO-BUNDLE\n";
/// The bundle format this build writes and reads.
const BUNDLE_FORMAT: u8 = 1;
/// The largest frame a reader accepts (B1): a corrupted length cannot make it allocate
/// without bound.
const MAX_FRAME: usize = 64 << 20;
const HEADER: u8 = b'H';
const RECORD: u8 = b'R';
const BLOB: u8 = b'B';
const END: u8 = b'E';
/// Records and contents per group on import.
const IMPORT_BATCH: usize = 10_000;

/// What a bundle holds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BundleReport {
    /// The exported head: the last position and its chain hash.
    pub head: Head,
    /// Records in the bundle.
    pub records: u64,
    /// Distinct contents in the bundle.
    pub blobs: u64,
}

/// What verification hands to its caller, in file order, once each item passed its
/// own checks.
enum Item<'a> {
    Record(Position, &'a [u8]),
    Blob(ContentHash, &'a [u8]),
}

/// A writer that hashes everything written.
struct Hashing<W> {
    inner: W,
    digest: Sha256,
}

impl<W: Write> Hashing<W> {
    fn frame(&mut self, tag: u8, payload: &[&[u8]]) -> Result<()> {
        let len: usize = payload.iter().map(|p| p.len()).sum();
        let len = u32::try_from(len)
            .ok()
            .filter(|l| usize::try_from(*l).is_ok_and(|l| l <= MAX_FRAME))
            .ok_or_else(|| Error::Config(format!("bundle frame of {len} bytes is too large")))?;
        self.write(&[tag])?;
        self.write(&len.to_be_bytes())?;
        for p in payload {
            self.write(p)?;
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.digest.update(bytes);
        self.inner
            .write_all(bytes)
            .map_err(Error::io("write bundle"))
    }
}

impl Store {
    /// Writes the history up to the head as it is when the export starts (later appends
    /// are not included), with its contents, to `out` (docs/design/bundle.md).
    ///
    /// # Errors
    /// I/O errors writing `out`; fail-stop errors reading the store, including a record
    /// that does not decode or a content that does not verify.
    pub fn export_bundle(&self, out: &mut dyn Write) -> Result<BundleReport> {
        self.export_bundle_with_progress(out, &mut |_, _| {})
    }

    /// [`Store::export_bundle`], calling `progress(done, in all)` as it goes: records
    /// written out of the head's position, then records and contents written out of
    /// both (the contents are counted once the records are written).
    ///
    /// # Errors
    /// As [`Store::export_bundle`].
    pub fn export_bundle_with_progress(
        &self,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<BundleReport> {
        let head = self.head();
        let engine = &*self.inner.engine;
        let view = self.view();
        let mut w = Hashing {
            inner: io::BufWriter::new(out),
            digest: Sha256::new(),
        };
        w.write(MAGIC)?;
        w.frame(
            HEADER,
            &[
                &[BUNDLE_FORMAT, schema::LOG_FORMAT],
                &head.position.to_be_bytes(),
                &head.position.to_be_bytes(),
                &head.hash,
            ],
        )?;
        let mut contents: Vec<ContentHash> = Vec::new();
        let mut seen = HashSet::new();
        let mut records = 0u64;
        for item in engine.log_from(Position::FIRST) {
            let (position, value) = item?;
            if position.get() > head.position {
                break;
            }
            let (bytes, _) =
                codec::unframe(&value).map_err(|e| Error::corrupted(Some(position), e))?;
            let record = codec::decode(bytes).map_err(|e| Error::corrupted(Some(position), e))?;
            for r in record.recorded.event.contents() {
                if seen.insert(r.hash) {
                    contents.push(r.hash);
                }
            }
            w.frame(RECORD, &[&value])?;
            records += 1;
            if records.is_multiple_of(PROGRESS_EVERY) {
                progress(records, head.position);
            }
        }
        progress(records, head.position);
        if records != head.position {
            return Err(Error::corrupted(
                Some(Position::new(records + 1)),
                format!(
                    "the log has {records} records below the head {}",
                    head.position
                ),
            ));
        }
        let items = records + contents.len() as u64;
        for (done, hash) in (records + 1..).zip(&contents) {
            let bytes = content::read_referenced(engine, &view, *hash, None)?;
            w.frame(BLOB, &[hash.as_bytes(), &bytes])?;
            if done.is_multiple_of(PROGRESS_EVERY) {
                progress(done, items);
            }
        }
        progress(items, items);
        let digest: [u8; 32] = w.digest.clone().finalize().into();
        let blobs = contents.len() as u64;
        w.frame(
            END,
            &[&records.to_be_bytes(), &blobs.to_be_bytes(), &digest],
        )?;
        w.inner.flush().map_err(Error::io("write bundle"))?;
        Ok(BundleReport {
            head,
            records,
            blobs,
        })
    }
}

/// Verifies a bundle offline (B1–B6), without opening any store. With `expected`, the
/// bundle's head must also be that head (B4).
///
/// # Errors
/// I/O errors reading `input`; everything wrong with the bundle itself is the inner
/// [`Violation`].
pub fn verify_bundle(
    input: &mut dyn Read,
    expected: Option<Head>,
) -> Result<std::result::Result<BundleReport, Violation>> {
    verify_bundle_with_progress(input, expected, &mut |_, _| {})
}

/// [`verify_bundle`], calling `progress(records checked, records the header announces)`
/// as it goes.
///
/// # Errors
/// As [`verify_bundle`].
pub fn verify_bundle_with_progress(
    input: &mut dyn Read,
    expected: Option<Head>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<std::result::Result<BundleReport, Violation>> {
    walk(input, expected, &mut |_| Ok(()), progress)
}

/// The steps of an import, in order, as [`import_bundle_with_progress`] reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportStep {
    /// Checking the whole bundle; nothing is written yet.
    Verifying,
    /// Checking it again while writing its records and contents.
    Writing,
    /// Replaying the imported log to build its projections (every rule re-checked).
    Rebuilding,
    /// Writing the projections built; counted in projection entries, not records.
    WritingProjections,
}

/// Imports the bundle at `bundle` into `dir`, which must be missing or empty: verifies
/// all of it first (writing nothing if it fails), then writes the records and contents,
/// and opens the store once, which rebuilds the projections and makes it durable.
///
/// # Errors
/// An I/O error of kind `AlreadyExists` when `dir` is not empty; I/O and sled errors;
/// a bundle that does not verify is the inner [`Violation`].
pub fn import_bundle(
    bundle: &Path,
    dir: &Path,
) -> Result<std::result::Result<BundleReport, Violation>> {
    import_bundle_with_progress(bundle, dir, &mut |_, _, _| {})
}

/// [`import_bundle`], calling `progress(step, done, in all)` as it goes through each
/// [`ImportStep`]: records checked; records and contents written; records replayed;
/// projection entries written.
///
/// # Errors
/// As [`import_bundle`].
pub fn import_bundle_with_progress(
    bundle: &Path,
    dir: &Path,
    progress: &mut dyn FnMut(ImportStep, u64, u64),
) -> Result<std::result::Result<BundleReport, Violation>> {
    let not_empty = || Error::Io {
        context: "import",
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is not empty: import only into an empty data directory",
                dir.display()
            ),
        ),
    };
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(Error::io("read data directory"))?
            .next()
            .is_some()
    {
        return Err(not_empty());
    }
    let open = || std::fs::File::open(bundle).map_err(Error::io("open bundle"));
    // First pass: verify everything, write nothing.
    let report = match walk(
        &mut io::BufReader::new(open()?),
        None,
        &mut |_| Ok(()),
        &mut |done, total| progress(ImportStep::Verifying, done, total),
    )? {
        Ok(r) => r,
        Err(v) => return Ok(Err(v)),
    };
    std::fs::create_dir_all(dir).map_err(Error::io("create data directory"))?;
    let engine = SledEngine::open(
        dir,
        StoreOptions::default().cache_capacity,
        Durability::Flush,
        #[cfg(feature = "failpoints")]
        std::sync::Arc::default(),
    )?;
    // Second pass: the same checks again (the file could have changed), writing as it
    // goes, in groups as the writer appends them, without the projections. The format
    // marker is written last, so an import that stops early leaves a directory that
    // `open` refuses (L2).
    let mut records: Vec<(Position, Vec<u8>)> = Vec::new();
    let mut blobs: Vec<(ContentHash, Vec<u8>)> = Vec::new();
    let mut head = Head::EMPTY;
    // Progress counts records and contents alike, against the first pass's totals.
    let items = report.records + report.blobs;
    let mut written = 0u64;
    let append = |records: &mut Vec<(Position, Vec<u8>)>,
                  blobs: &mut Vec<(ContentHash, Vec<u8>)>,
                  head: &mut Head|
     -> Result<()> {
        let before = *head;
        if let Some((position, value)) = records.last() {
            let (_, hash) =
                codec::unframe(value).map_err(|e| Error::corrupted(Some(*position), e))?;
            *head = Head {
                position: position.get(),
                hash,
            };
        }
        let group = Group {
            records: std::mem::take(records),
            contents: blobs.iter().map(|(h, b)| (*h, b.as_slice())).collect(),
            head: *head,
        };
        engine.append(before, &group)?;
        blobs.clear();
        Ok(())
    };
    let mut write = |item: Item<'_>| -> Result<()> {
        match item {
            Item::Record(position, value) => records.push((position, value.to_vec())),
            Item::Blob(hash, bytes) => blobs.push((hash, bytes.to_vec())),
        }
        written += 1;
        if written.is_multiple_of(PROGRESS_EVERY) {
            progress(ImportStep::Writing, written, items);
        }
        if records.len() + blobs.len() >= IMPORT_BATCH {
            append(&mut records, &mut blobs, &mut head)?;
        }
        Ok(())
    };
    let second = walk(
        &mut io::BufReader::new(open()?),
        Some(report.head),
        &mut write,
        &mut |_, _| {},
    )?;
    if let Err(v) = second {
        return Ok(Err(v));
    }
    append(&mut records, &mut blobs, &mut head)?;
    progress(ImportStep::Writing, items, items);
    let format = [schema::LOG_FORMAT_MAGIC, &[schema::STORE_FORMAT]].concat();
    engine.set_meta(&[
        (Meta::Rebuilding, Some(&[1u8])),
        (Meta::ProjectionFormat, Some(&[schema::PROJECTION_FORMAT])),
        (Meta::Format, Some(&format)),
    ])?;
    engine.sync(Durability::Flush)?;
    drop(engine);
    // Open rebuilds the projections from the log (the `rebuilding` marker), re-checking
    // every invariant, and its barrier makes the whole import durable; close syncs again.
    let store = Store::open_after_import(dir, progress)?;
    if store.head() != report.head {
        return Err(Error::corrupted(
            None,
            "imported head differs from the bundle's",
        ));
    }
    store.close()?;
    Ok(Ok(report))
}

/// A frame's tag and payload.
type Frame = (u8, Vec<u8>);

/// A reader that hashes everything read and knows where it is.
struct Hashed<'a> {
    inner: &'a mut dyn Read,
    digest: Sha256,
}

impl Hashed<'_> {
    /// Reads exactly `buf.len()` bytes; `Ok(false)` on a clean end of file before the
    /// first byte.
    fn fill(&mut self, buf: &mut [u8]) -> Result<std::result::Result<bool, String>> {
        let mut read = 0;
        while read < buf.len() {
            let rest = buf.get_mut(read..).unwrap_or_default();
            match self.inner.read(rest) {
                Ok(0) if read == 0 => return Ok(Ok(false)),
                Ok(0) => return Ok(Err("the bundle is truncated".to_owned())),
                Ok(n) => read += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::Io {
                        context: "read bundle",
                        source: e,
                    });
                }
            }
        }
        self.digest.update(&*buf);
        Ok(Ok(true))
    }

    /// The next frame, `None` at the end of the file.
    fn frame(&mut self) -> Result<std::result::Result<Option<Frame>, String>> {
        let mut head = [0u8; 5];
        match self.fill(&mut head)? {
            Ok(true) => {}
            Ok(false) => return Ok(Ok(None)),
            Err(e) => return Ok(Err(e)),
        }
        let [tag, l0, l1, l2, l3] = head;
        let len = u32::from_be_bytes([l0, l1, l2, l3]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > MAX_FRAME {
            return Ok(Err(format!(
                "a frame claims {len} bytes, more than any bundle holds"
            )));
        }
        let mut payload = vec![0u8; len];
        match self.fill(&mut payload)? {
            Ok(true) => Ok(Ok(Some((tag, payload)))),
            Ok(false) if len == 0 => Ok(Ok(Some((tag, payload)))),
            Ok(false) | Err(_) => Ok(Err("the bundle is truncated".to_owned())),
        }
    }
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let raw: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_be_bytes(raw))
}

/// Walks a bundle, checking B1–B6, handing each record and content to `sink`, and
/// calling `progress(records walked, records the header announces)` every
/// [`PROGRESS_EVERY`] records and once at the end of the records.
fn walk(
    input: &mut dyn Read,
    expected: Option<Head>,
    sink: &mut dyn FnMut(Item<'_>) -> Result<()>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<std::result::Result<BundleReport, Violation>> {
    let file = |p: String| Violation::store(ViolationKind::Bundle, format!("bundle: {p}"));
    let mut r = Hashed {
        inner: input,
        digest: Sha256::new(),
    };
    // B1.
    let mut magic = [0u8; MAGIC.len()];
    match r.fill(&mut magic)? {
        Ok(true) if magic == MAGIC => {}
        Ok(_) | Err(_) => return Ok(Err(file("not a Verso bundle (bad magic)".to_owned()))),
    }
    let header = match r.frame()? {
        Ok(Some((HEADER, h))) => h,
        Ok(_) => return Ok(Err(file("the header frame is missing".to_owned()))),
        Err(e) => return Ok(Err(file(e))),
    };
    let (Some(&format), Some(&log_format), Some(count), Some(position), Some(hash)) = (
        header.first(),
        header.get(1),
        u64_at(&header, 2),
        u64_at(&header, 10),
        header.get(18..50).and_then(|h| ChainHash::try_from(h).ok()),
    ) else {
        return Ok(Err(file("the header frame is malformed".to_owned())));
    };
    if header.len() != 50 {
        return Ok(Err(file("the header frame is malformed".to_owned())));
    }
    if format != BUNDLE_FORMAT || log_format != schema::LOG_FORMAT {
        return Ok(Err(file(format!(
            "bundle format {format} with log format {log_format}; this build reads {BUNDLE_FORMAT} with {}",
            schema::LOG_FORMAT
        ))));
    }
    let claimed = Head { position, hash };
    let mut state = MemState::new();
    let mut chain = Head::EMPTY;
    let mut referenced: HashMap<ContentHash, Position> = HashMap::new();
    let mut blobs = 0u64;
    let mut seen_blobs = HashSet::new();
    let end;
    loop {
        let before_frame = r.digest.clone();
        let (tag, payload) = match r.frame()? {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Ok(Err(file(
                    "the bundle is truncated: no end frame".to_owned(),
                )));
            }
            Err(e) if blobs == 0 => {
                let at = Position::new(chain.position + 1);
                return Ok(Err(Violation::at(
                    at,
                    ViolationKind::Bundle,
                    format!("{e} after position {}", chain.position),
                )));
            }
            Err(e) => return Ok(Err(file(e))),
        };
        match tag {
            RECORD if blobs == 0 => {
                let expected_position = Position::new(chain.position + 1);
                match crate::replay::fold_record(&mut state, &chain, expected_position, &payload) {
                    Ok((hash, refs)) => {
                        for h in refs {
                            referenced.entry(h).or_insert(expected_position);
                        }
                        chain = Head {
                            position: expected_position.get(),
                            hash,
                        };
                        if chain.position.is_multiple_of(PROGRESS_EVERY) {
                            progress(chain.position, count);
                        }
                    }
                    Err((kind, problem)) => {
                        return Ok(Err(Violation::at(expected_position, kind, problem)));
                    }
                }
                sink(Item::Record(expected_position, &payload))?;
            }
            BLOB => {
                // B4 once the records end.
                if blobs == 0 {
                    progress(chain.position, count);
                    if let Err(v) = check_head(chain, claimed, expected) {
                        return Ok(Err(v));
                    }
                }
                let (Some(hash), Some(bytes)) = (
                    payload.get(..32).and_then(|h| <[u8; 32]>::try_from(h).ok()),
                    payload.get(32..),
                ) else {
                    return Ok(Err(file("a blob frame is malformed".to_owned())));
                };
                let hash = ContentHash::from_bytes(hash);
                let at = referenced.get(&hash).copied();
                // B5.
                let Some(at) = at else {
                    return Ok(Err(Violation::store(
                        ViolationKind::Content,
                        format!("bundle: content {hash} is not referenced by any record"),
                    )));
                };
                if !seen_blobs.insert(hash) {
                    return Ok(Err(Violation::at(
                        at,
                        ViolationKind::Content,
                        format!("content {hash} appears twice"),
                    )));
                }
                if ContentHash::of(bytes) != hash {
                    return Ok(Err(Violation::at(
                        at,
                        ViolationKind::Content,
                        format!("content {hash}: the bytes do not hash to their sha256"),
                    )));
                }
                blobs += 1;
                sink(Item::Blob(hash, bytes))?;
            }
            END => {
                end = (payload, before_frame);
                break;
            }
            RECORD => return Ok(Err(file("a record frame follows the contents".to_owned()))),
            other => return Ok(Err(file(format!("unknown frame type {other:#04x}")))),
        }
    }
    if blobs == 0 {
        progress(chain.position, count);
        if let Err(v) = check_head(chain, claimed, expected) {
            return Ok(Err(v));
        }
    }
    if count != chain.position {
        return Ok(Err(file(format!(
            "the header says {count} records but the bundle holds {}",
            chain.position
        ))));
    }
    // B5: every referenced content is there.
    let mut missing: Vec<_> = referenced
        .iter()
        .filter(|(h, _)| !seen_blobs.contains(*h))
        .collect();
    missing.sort_by_key(|(_, p)| **p);
    if let Some((hash, at)) = missing.first() {
        return Ok(Err(Violation::at(
            **at,
            ViolationKind::Content,
            format!("content {hash} is referenced but not in the bundle"),
        )));
    }
    // B6.
    let (payload, digest_before) = end;
    let digest: [u8; 32] = digest_before.finalize().into();
    let ok = payload.len() == 48
        && u64_at(&payload, 0) == Some(chain.position)
        && u64_at(&payload, 8) == Some(blobs)
        && payload.get(16..48) == Some(&digest[..]);
    if !ok {
        return Ok(Err(file(
            "the end frame does not match the bundle (counts or digest)".to_owned(),
        )));
    }
    let mut extra = [0u8; 1];
    if r.inner.read(&mut extra).map_err(Error::io("read bundle"))? != 0 {
        return Ok(Err(file("bytes follow the end frame".to_owned())));
    }
    Ok(Ok(BundleReport {
        head: chain,
        records: chain.position,
        blobs,
    }))
}

/// B4: the records reach the header's head, and `expected` when given.
fn check_head(
    chain: Head,
    claimed: Head,
    expected: Option<Head>,
) -> std::result::Result<(), Violation> {
    for (what, head) in [
        ("the bundle's header", Some(claimed)),
        ("the expected head", expected),
    ] {
        let Some(head) = head else { continue };
        if chain.position < head.position {
            return Err(Violation::at(
                Position::new(chain.position + 1),
                ViolationKind::Head,
                format!(
                    "the records end at position {} but {what} is at {}: records are missing (truncated)",
                    chain.position, head.position
                ),
            ));
        }
        if chain.position > head.position {
            return Err(Violation::at(
                Position::new(head.position + 1),
                ViolationKind::Head,
                format!(
                    "{what} is at position {} but the records go on to {}",
                    head.position, chain.position
                ),
            ));
        }
        if chain.hash != head.hash {
            return Err(Violation::at(
                Position::new(chain.position.max(1)),
                ViolationKind::Head,
                format!("the chain hash differs from {what}"),
            ));
        }
    }
    Ok(())
}

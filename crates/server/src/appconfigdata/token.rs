//! AppConfigData configuration tokens: what a session's client holds between polls
//! (docs/design/deployments.md §AppConfigData sessions, "Tokens").
//!
//! A token is self-describing and authenticated: its [`Claims`] (the session, the
//! version the client holds, when the token was issued, its per-session sequence
//! number) are written in a small fixed layout and sealed with HMAC-SHA256 under the
//! store's [`TokenKey`]. The server keeps no per-token state apart from the single-use
//! table (`super::sessions`).
//!
//! # Token layout (format 1)
//!
//! The token text is the lowercase hex of these bytes (integers big-endian):
//!
//! | bytes | field |
//! | --- | --- |
//! | 1 | format, `1` |
//! | 16 | session id |
//! | 1 + n | application id: length n (4..=7), then its ASCII |
//! | 1 + n | environment id, the same way |
//! | 1 + n | profile id, the same way |
//! | 4 | minimum poll interval in seconds, `u32` (15..=86400) |
//! | 1 | held: `0` nothing, `1` followed by the next two fields |
//! | (8) | held version, `u64` |
//! | (32) | held content sha256 |
//! | 8 | issued at, `i64` milliseconds since the Unix epoch |
//! | 8 | sequence, `u64` |
//! | 32 | HMAC-SHA256 under the key of every byte before it |
//!
//! At most 134 bytes, so at most 268 characters: well inside AppConfigData's
//! `\S{1,8192}`. The format is frozen: a change is a new format byte, and tokens of an
//! unknown format are `Corrupted` (a client then starts a new session).
//!
//! Opening never panics and never allocates more than the largest token, whatever the
//! text; every way a token can be malformed is [`TokenProblem::Corrupted`].

#![deny(clippy::indexing_slicing)]

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::RangeInclusive;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use verso_domain::{
    ApplicationId, ContentHash, EnvironmentId, ProfileId, StreamVersion, Timestamp,
};

/// How long a token can be used after it was issued: 24 hours, as AppConfigData says.
pub(crate) const TOKEN_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// How far in the future a token's issue time may lie before it is refused as
/// `Corrupted`: room for the clock to be stepped back a little between two polls.
const CLOCK_SKEW_MS: i64 = 60 * 1000;

/// The minimum poll intervals a session may have, in seconds (AppConfigData's
/// `RequiredMinimumPollIntervalInSeconds`). A token whose interval is outside is
/// `Corrupted`.
pub(crate) const POLL_INTERVAL_SECS: RangeInclusive<u32> = 15..=86_400;

/// The format byte every token starts with.
const FORMAT: u8 = 1;

/// Length of the HMAC-SHA256 tag that ends a token.
const TAG_LEN: usize = 32;

/// The largest a resource id can be in bytes (`[a-z0-9]{4,7}`).
const MAX_ID_LEN: usize = 7;

/// The largest token in bytes: every optional field present and every id at its
/// longest. Text longer than twice this is refused before it is decoded.
const MAX_TOKEN_BYTES: usize = 1 + 16 + 3 * (1 + MAX_ID_LEN) + 4 + 1 + 8 + 32 + 8 + 8 + TAG_LEN;

/// The name of the key file inside the directory given to [`TokenKey::load_or_create`].
const KEY_FILE: &str = "key";

/// HMAC-SHA256, the token seal.
type HmacSha256 = Hmac<Sha256>;

/// 32 secret bytes that seal tokens (HMAC-SHA256).
///
/// Created once per store and kept in its data directory, so that tokens stay valid
/// across restarts. Its `Debug` does not print the bytes.
pub(crate) struct TokenKey {
    /// The MAC already keyed: every token clones it instead of hashing the key's
    /// inner and outer pads again (two of the seven SHA-256 blocks per token).
    keyed: HmacSha256,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// Wraps raw key bytes.
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self::keyed(&bytes)
    }

    fn keyed(bytes: &[u8; 32]) -> Self {
        Self {
            keyed: HmacSha256::new_from_slice(bytes).expect("HMAC accepts a key of any length"),
        }
    }

    /// Reads `<dir>/key`, or creates it if it does not exist.
    ///
    /// A new key is 32 bytes from two random (v4) uuids, i.e. from the operating
    /// system's random source; the uuid version and variant bits leave 244 random bits.
    /// It is written durably: to `key.tmp` in `dir` (mode 0600 on Unix), fsync, rename
    /// to `key`, fsync of `dir`, so a crash leaves either no key or the whole key.
    /// `dir` is created if missing. Assumes one process per directory (the store's data
    /// directory lock).
    ///
    /// # Errors
    /// Any I/O error, with the file named; a key file that is not exactly 32 bytes is
    /// [`io::ErrorKind::InvalidData`] (it is never replaced: tokens sealed with the old
    /// key would silently stop working).
    pub(crate) fn load_or_create(dir: &Path) -> io::Result<Self> {
        let path = dir.join(KEY_FILE);
        match File::open(&path) {
            Ok(file) => {
                let mut bytes = Vec::with_capacity(33);
                // Read one byte more than a key, to tell "too long" from "exact".
                file.take(33)
                    .read_to_end(&mut bytes)
                    .map_err(with_path(&path))?;
                let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "token key {}: expected exactly 32 bytes, found {}",
                            path.display(),
                            if bytes.len() > 32 {
                                "more than 32".to_owned()
                            } else {
                                bytes.len().to_string()
                            }
                        ),
                    )
                })?;
                Ok(Self::keyed(&key))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                let (first, second) = key.split_at_mut(16);
                first.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                second.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                replace_file(dir, KEY_FILE, &key)?;
                Ok(Self::keyed(&key))
            }
            Err(e) => Err(with_path(&path)(e)),
        }
    }

    /// The token text for `claims`: lowercase hex, matching `\S{1,8192}`.
    ///
    /// `claims.poll_interval_secs` must be in [`POLL_INTERVAL_SECS`] (checked in debug
    /// builds); a token sealed with another interval will not open.
    pub(crate) fn seal(&self, claims: &Claims) -> String {
        debug_assert!(
            POLL_INTERVAL_SECS.contains(&claims.poll_interval_secs),
            "poll interval {} outside {POLL_INTERVAL_SECS:?}",
            claims.poll_interval_secs
        );
        let mut bytes = encode_claims(claims);
        let tag = self.mac(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag);
        hex_encode(&bytes)
    }

    /// The claims of `token`, or why it cannot be used.
    ///
    /// Checked in this order: the text decodes and its tag verifies (in constant time),
    /// and its fields are well-formed, else `Corrupted`; it was not issued more than a
    /// minute after `now`, else `Corrupted`; `issued_at + 24h > now`, else `Expired`.
    ///
    /// # Errors
    /// The [`TokenProblem`].
    pub(crate) fn open(&self, token: &str, now: Timestamp) -> Result<Claims, TokenProblem> {
        let claims = self.verify(token).ok_or(TokenProblem::Corrupted)?;
        let age = i128::from(now.as_millis()) - i128::from(claims.issued_at.as_millis());
        if age < -i128::from(CLOCK_SKEW_MS) {
            return Err(TokenProblem::Corrupted);
        }
        if age >= i128::from(TOKEN_LIFETIME_MS) {
            return Err(TokenProblem::Expired);
        }
        Ok(claims)
    }

    /// Decodes the text, checks the tag, then decodes the claims.
    fn verify(&self, token: &str) -> Option<Claims> {
        if token.len() > 2 * MAX_TOKEN_BYTES {
            return None;
        }
        let bytes = hex_decode(token)?;
        let (body, tag) = bytes.split_at_checked(bytes.len().checked_sub(TAG_LEN)?)?;
        // IMPORTANT: the tag is checked before any field is looked at, and in constant
        // time (`verify_slice`), so nothing about the key leaks through timing.
        self.mac(body).verify_slice(tag).ok()?;
        decode_claims(body)
    }

    /// A MAC over `bytes` under this key.
    fn mac(&self, bytes: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(bytes);
        mac
    }
}

/// What a token says. All fields are authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    /// The session id: random, from a v4 uuid at StartConfigurationSession.
    pub(crate) session: [u8; 16],
    /// The session's application.
    pub(crate) application: ApplicationId,
    /// The session's environment.
    pub(crate) environment: EnvironmentId,
    /// The session's configuration profile.
    pub(crate) profile: ProfileId,
    /// The session's minimum poll interval, in [`POLL_INTERVAL_SECS`].
    pub(crate) poll_interval_secs: u32,
    /// What the client already holds; `None` for the initial token.
    pub(crate) held: Option<Held>,
    /// When the token was issued.
    pub(crate) issued_at: Timestamp,
    /// The per-session sequence number of this token; the initial token's is 0.
    pub(crate) sequence: u64,
}

/// The configuration a client holds: the version and its content hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Held {
    /// The hosted version number.
    pub(crate) version: StreamVersion,
    /// The sha256 of its content.
    pub(crate) content: ContentHash,
}

/// Why a token cannot be used. Both are AppConfigData's BadRequestException with
/// `Reason` `InvalidParameters`; [`TokenProblem::as_str`] is the problem's name there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    /// The token does not decode, does not verify, or says something impossible.
    Corrupted,
    /// The token was issued 24 hours or more ago.
    Expired,
}

impl TokenProblem {
    /// `"Corrupted"` or `"Expired"`.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Corrupted => "Corrupted",
            Self::Expired => "Expired",
        }
    }
}

/// The token bytes before the tag (the layout in the module doc).
fn encode_claims(claims: &Claims) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAX_TOKEN_BYTES);
    out.push(FORMAT);
    out.extend_from_slice(&claims.session);
    for id in [
        claims.application.as_str(),
        claims.environment.as_str(),
        claims.profile.as_str(),
    ] {
        let len = u8::try_from(id.len()).expect("resource ids are at most 7 bytes");
        out.push(len);
        out.extend_from_slice(id.as_bytes());
    }
    out.extend_from_slice(&claims.poll_interval_secs.to_be_bytes());
    match claims.held {
        None => out.push(0),
        Some(held) => {
            out.push(1);
            out.extend_from_slice(&held.version.get().to_be_bytes());
            out.extend_from_slice(held.content.as_bytes());
        }
    }
    out.extend_from_slice(&claims.issued_at.as_millis().to_be_bytes());
    out.extend_from_slice(&claims.sequence.to_be_bytes());
    out
}

/// The claims in `body` (a verified token without its tag), if it is well-formed.
fn decode_claims(body: &[u8]) -> Option<Claims> {
    let mut r = Reader(body);
    if r.byte()? != FORMAT {
        return None;
    }
    let session = r.array::<16>()?;
    let application = ApplicationId::parse(r.id()?).ok()?;
    let environment = EnvironmentId::parse(r.id()?).ok()?;
    let profile = ProfileId::parse(r.id()?).ok()?;
    let poll_interval_secs = u32::from_be_bytes(r.array()?);
    if !POLL_INTERVAL_SECS.contains(&poll_interval_secs) {
        return None;
    }
    let held = match r.byte()? {
        0 => None,
        1 => Some(Held {
            version: StreamVersion::new(u64::from_be_bytes(r.array()?)),
            content: ContentHash::from_bytes(r.array()?),
        }),
        _ => return None,
    };
    let issued_at = Timestamp::from_millis(i64::from_be_bytes(r.array()?));
    let sequence = u64::from_be_bytes(r.array()?);
    if !r.0.is_empty() {
        return None;
    }
    Some(Claims {
        session,
        application,
        environment,
        profile,
        poll_interval_secs,
        held,
        issued_at,
        sequence,
    })
}

/// A cursor over bytes whose every read is checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// A length-prefixed id; its shape is checked by the id's own `parse`.
    fn id(&mut self) -> Option<&'a str> {
        let len = usize::from(self.byte()?);
        if len > MAX_ID_LEN {
            return None;
        }
        std::str::from_utf8(self.take(len)?).ok()
    }
}

/// Lowercase hex of `bytes`.
fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// The bytes of lowercase hex text; `None` for odd length or any other character
/// (uppercase too, so that a token has exactly one spelling).
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 2);
    for pair in text.chunks_exact(2) {
        let [hi, lo] = *pair else { return None };
        out.push((digit(hi)? << 4) | digit(lo)?);
    }
    Some(out)
}

/// Replaces `dir/name` with `bytes` so that a crash leaves the old file or the new one,
/// whole: write `dir/name.tmp` (mode 0600 on Unix), fsync it, rename it to `name`, fsync
/// `dir`. Creates `dir` if missing (and fsyncs its parent). One writer per file at a
/// time: the temporary name is fixed.
pub(super) fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    ensure_dir(dir)?;
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(name);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(with_path(&tmp))?;
    file.write_all(bytes).map_err(with_path(&tmp))?;
    file.sync_all().map_err(with_path(&tmp))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(with_path(&path))?;
    // IMPORTANT: the rename is durable only once the directory is fsynced.
    sync_dir(dir)
}

/// Creates `dir` if it does not exist, and fsyncs its parent so the new entry survives a
/// crash.
fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(with_path(dir))?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

/// `fsync` of a directory, so that entries created or renamed in it survive a crash.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(with_path(dir))
}

/// Adds the path to an I/O error's message, keeping its kind.
pub(super) fn with_path(path: &Path) -> impl Fn(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn key() -> TokenKey {
        TokenKey::from_bytes([7; 32])
    }

    fn claims(held: Option<Held>) -> Claims {
        Claims {
            session: [0xab; 16],
            application: ApplicationId::parse("abc1234").unwrap(),
            environment: EnvironmentId::parse("env1").unwrap(),
            profile: ProfileId::parse("prof123").unwrap(),
            poll_interval_secs: 60,
            held,
            issued_at: Timestamp::from_millis(NOW),
            sequence: 3,
        }
    }

    fn held() -> Held {
        Held {
            version: StreamVersion::new(42),
            content: ContentHash::of(b"{\"a\":1}"),
        }
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    /// Seals arbitrary body bytes, so tests can build tokens whose tag verifies but
    /// whose fields are wrong.
    fn sign(key: &TokenKey, body: &[u8]) -> String {
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(&key.mac(body).finalize().into_bytes());
        hex_encode(&bytes)
    }

    #[test]
    fn seal_then_open_returns_the_same_claims() {
        for c in [claims(None), claims(Some(held()))] {
            let token = key().seal(&c);
            assert_eq!(key().open(&token, at(NOW)), Ok(c));
        }
    }

    #[test]
    fn token_text_is_lowercase_hex_within_the_aws_shape() {
        let longest = Claims {
            environment: EnvironmentId::parse("env1234").unwrap(),
            ..claims(Some(held()))
        };
        let token = key().seal(&longest);
        assert_eq!(token.len(), 2 * MAX_TOKEN_BYTES);
        assert!((1..=8192).contains(&token.len()));
        assert!(
            token
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        );
    }

    #[test]
    fn the_format_is_stable() {
        // A golden token: if this changes, old tokens stop opening (a new format byte
        // is needed instead).
        let token = key().seal(&claims(Some(held())));
        assert_eq!(token, GOLDEN, "the token format changed; got {token}");
        assert_eq!(key().open(GOLDEN, at(NOW)), Ok(claims(Some(held()))));
    }

    #[rustfmt::skip]
    const GOLDEN: &str = concat!(
        "01",                                                                 // format
        "abababababababababababababababab",                                   // session
        "07", "61626331323334",                                               // abc1234
        "04", "656e7631",                                                     // env1
        "07", "70726f66313233",                                               // prof123
        "0000003c",                                                           // 60 s
        "01", "000000000000002a",                                             // held, v42
        "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862",   // its sha256
        "0000018bcfe56800",                                                   // issued at
        "0000000000000003",                                                   // sequence
        "a8e50b46c832cb0473e6b8399a4c4b749ceb925d5769d38899798a4d1a7cc29f",   // tag
    );

    #[test]
    fn every_flipped_bit_is_corrupted() {
        let token = key().seal(&claims(Some(held())));
        let bytes = hex_decode(&token).unwrap();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut changed = bytes.clone();
                changed[i] ^= 1 << bit;
                assert_eq!(
                    key().open(&hex_encode(&changed), at(NOW)),
                    Err(TokenProblem::Corrupted),
                    "byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn every_replaced_character_is_corrupted() {
        let token = key().seal(&claims(None));
        for i in 0..token.len() {
            for c in "0123456789abcdefABCDEFg- \u{e9}".chars() {
                if token[i..].starts_with(c) {
                    continue;
                }
                let changed = format!("{}{c}{}", &token[..i], &token[i + 1..]);
                assert_eq!(
                    key().open(&changed, at(NOW)),
                    Err(TokenProblem::Corrupted),
                    "char {i} -> {c:?}"
                );
            }
        }
    }

    #[test]
    fn truncated_or_extended_tokens_are_corrupted() {
        let token = key().seal(&claims(Some(held())));
        for len in 0..token.len() {
            assert_eq!(
                key().open(&token[..len], at(NOW)),
                Err(TokenProblem::Corrupted),
                "length {len}"
            );
        }
        for suffix in ["0", "00", "ab", " "] {
            assert_eq!(
                key().open(&format!("{token}{suffix}"), at(NOW)),
                Err(TokenProblem::Corrupted)
            );
        }
    }

    #[test]
    fn empty_non_hex_odd_and_oversize_text_is_corrupted() {
        let token = key().seal(&claims(None));
        for text in [
            String::new(),
            "zz".to_owned(),
            "abc".to_owned(),
            token.to_uppercase(),
            "a".repeat(8193),
            "00".repeat(100_000),
            "\u{0}".repeat(2),
            "é".to_owned(),
        ] {
            assert_eq!(
                key().open(&text, at(NOW)),
                Err(TokenProblem::Corrupted),
                "{:?}",
                text.get(..20)
            );
        }
    }

    #[test]
    fn a_token_sealed_with_another_key_is_corrupted() {
        let token = TokenKey::from_bytes([8; 32]).seal(&claims(None));
        assert_eq!(key().open(&token, at(NOW)), Err(TokenProblem::Corrupted));
    }

    #[test]
    fn a_verified_token_with_malformed_fields_is_corrupted() {
        let good = encode_claims(&claims(Some(held())));
        assert!(key().open(&sign(&key(), &good), at(NOW)).is_ok());
        let with_poll = |secs: u32| {
            encode_claims(&Claims {
                poll_interval_secs: secs,
                ..claims(None)
            })
        };
        let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut b = good.clone();
        b[0] = 2;
        cases.push(("unknown format", b));
        let mut b = good.clone();
        b[17] = 8;
        cases.push(("id too long", b));
        let mut b = good.clone();
        b[17] = 0;
        cases.push(("id empty", b));
        let mut b = good.clone();
        b[18] = b'A';
        cases.push(("id not [a-z0-9]", b));
        let mut b = good.clone();
        b[18] = 0xff;
        cases.push(("id not utf-8", b));
        let held_at = 1 + 16 + 8 + 5 + 8 + 4;
        let mut b = good.clone();
        b[held_at] = 2;
        cases.push(("held tag 2", b));
        let mut b = good.clone();
        b.push(0);
        cases.push(("trailing byte", b));
        cases.push(("missing sequence", good[..good.len() - 8].to_vec()));
        cases.push(("poll interval 14", with_poll(14)));
        cases.push(("poll interval 86401", with_poll(86_401)));
        cases.push(("nothing", Vec::new()));
        for (what, body) in cases {
            assert_eq!(
                key().open(&sign(&key(), &body), at(NOW)),
                Err(TokenProblem::Corrupted),
                "{what}"
            );
        }
        for secs in [15, 86_400] {
            assert!(key().open(&sign(&key(), &with_poll(secs)), at(NOW)).is_ok());
        }
    }

    #[test]
    fn a_token_expires_24_hours_after_it_was_issued() {
        let token = key().seal(&claims(None));
        assert!(key().open(&token, at(NOW + TOKEN_LIFETIME_MS - 1)).is_ok());
        assert_eq!(
            key().open(&token, at(NOW + TOKEN_LIFETIME_MS)),
            Err(TokenProblem::Expired)
        );
        assert_eq!(key().open(&token, at(i64::MAX)), Err(TokenProblem::Expired));
    }

    #[test]
    fn a_token_from_more_than_a_minute_in_the_future_is_corrupted() {
        let token = key().seal(&claims(None));
        assert!(key().open(&token, at(NOW - CLOCK_SKEW_MS)).is_ok());
        assert_eq!(
            key().open(&token, at(NOW - CLOCK_SKEW_MS - 1)),
            Err(TokenProblem::Corrupted)
        );
        assert_eq!(
            key().open(&token, at(i64::MIN)),
            Err(TokenProblem::Corrupted)
        );
    }

    #[test]
    fn a_tampered_expired_token_is_corrupted_not_expired() {
        let token = key().seal(&claims(None));
        let tampered = format!(
            "{}{}",
            &token[..token.len() - 1],
            if token.ends_with('0') { '1' } else { '0' }
        );
        assert_eq!(
            key().open(&tampered, at(NOW + 2 * TOKEN_LIFETIME_MS)),
            Err(TokenProblem::Corrupted)
        );
    }

    #[test]
    fn extreme_issue_times_do_not_overflow() {
        for issued in [i64::MIN, i64::MAX] {
            let token = key().seal(&Claims {
                issued_at: at(issued),
                ..claims(None)
            });
            for now in [i64::MIN, 0, i64::MAX] {
                let _ = key().open(&token, at(now));
            }
            assert!(key().open(&token, at(issued)).is_ok());
        }
    }

    #[test]
    fn problems_have_their_aws_names() {
        assert_eq!(TokenProblem::Corrupted.as_str(), "Corrupted");
        assert_eq!(TokenProblem::Expired.as_str(), "Expired");
    }

    #[test]
    fn hex_round_trips_and_rejects_non_hex() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_decode(&hex_encode(&all)).unwrap(), all);
        assert_eq!(hex_encode(&[0x0f, 0xa0]), "0fa0");
        assert_eq!(hex_decode(""), Some(Vec::new()));
        for bad in ["0", "0g", "0F", "+1", "é"] {
            assert_eq!(hex_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn load_or_create_creates_the_key_once_then_reloads_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested").join("tokens");
        let created = TokenKey::load_or_create(&dir).unwrap();
        let bytes: [u8; 32] = fs::read(dir.join(KEY_FILE)).unwrap().try_into().unwrap();
        let token = created.seal(&claims(None));
        assert_eq!(
            TokenKey::from_bytes(bytes).open(&token, at(NOW)),
            Ok(claims(None)),
            "the file holds the key that sealed the token"
        );
        assert!(!dir.join("key.tmp").exists());
        let reloaded = TokenKey::load_or_create(&dir).unwrap();
        assert_eq!(reloaded.open(&token, at(NOW)), Ok(claims(None)));
        // Two stores get different keys.
        let other = TokenKey::load_or_create(&tmp.path().join("other")).unwrap();
        assert_eq!(other.open(&token, at(NOW)), Err(TokenProblem::Corrupted));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_invalid_data() {
        for len in [0, 31, 33, 1000] {
            let tmp = tempfile::tempdir().unwrap();
            fs::write(tmp.path().join(KEY_FILE), vec![1u8; len]).unwrap();
            let err = TokenKey::load_or_create(tmp.path()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "length {len}");
            let message = err.to_string();
            assert!(
                message.contains("token key") && message.contains("32 bytes"),
                "{message}"
            );
            // The bad file is left alone.
            assert_eq!(fs::read(tmp.path().join(KEY_FILE)).unwrap().len(), len);
        }
    }

    #[test]
    fn key_debug_does_not_print_the_key() {
        assert_eq!(format!("{:?}", key()), "TokenKey(..)");
    }
}

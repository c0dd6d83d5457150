//! Signed content bundles: the `.kbundle` file format, signing keys, building a bundle from a
//! content source, verifying one and unpacking it safely (docs/bundles.md is the reference).
//!
//! Nothing here knows about the data directory: installing is [`crate::install`]'s work.

mod build;
pub mod channel;
mod format;
pub mod keynote;
pub mod keys;
pub mod manifest;
mod unpack;

pub use build::{build, next_seq, record_seq, BuildOptions};
pub use format::{
    read_manifest_unverified, verify, verify_header, verify_payload, write_signed, Verified, MAGIC,
};
pub use keys::{PublicKey, SecretKey};
pub use manifest::{Limits, Manifest};
pub use unpack::unpack;

use std::path::PathBuf;

/// Why a bundle cannot be built, or why a bundle file is refused. Every message says what is
/// wrong in words an admin can act on.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path} is not a kiosk bundle (it does not start with the bundle header)")]
    NotABundle { path: PathBuf },
    #[error("the bundle is damaged: {0}")]
    Malformed(String),
    #[error("the bundle is signed with key {key_id}, which this terminal does not trust (trusted: {trusted})")]
    UntrustedKey { key_id: String, trusted: String },
    #[error("the bundle's signature does not match: it was changed after it was signed, or signed with another key (trusted: {trusted})")]
    BadSignature { trusted: String },
    #[error("the bundle is signed with key {key_id}, which a key note revoked on this terminal")]
    Revoked { key_id: String },
    #[error("the key note is refused: {0}")]
    KeyNote(String),
    #[error("no public key is pinned, so no bundle can be trusted; set `public_keys` in the config or pass --pubkey")]
    NoTrustedKeys,
    #[error("the bundle is truncated: {0}")]
    Truncated(String),
    #[error("the bundle has {extra} bytes after its signed end")]
    TrailingData { extra: u64 },
    #[error("the bundle's contents do not match its signed checksum: the file is damaged or was altered")]
    PayloadMismatch,
    #[error("the bundle holds {path}, which is not allowed: {why}")]
    UnsafeEntry { path: String, why: String },
    #[error("{path} in the bundle is larger than its signed size of {declared} bytes")]
    TooLarge { path: String, declared: u64 },
    #[error("{path} in the bundle does not match its signed checksum")]
    FileMismatch { path: String },
    #[error("{path} is listed in the bundle's manifest but missing from its contents")]
    MissingFile { path: String },
    #[error("{path} is in the bundle's contents but not in its signed manifest")]
    ExtraFile { path: String },
    #[error("the bundle unpacks to more data than it declares (a decompression bomb?); refused after {limit} bytes")]
    Bomb { limit: u64 },
    #[error("the bundle is too large: {0}")]
    OverLimit(String),
    #[error(
        "the content source has {errors} error(s); fix them first (`kiosk check {dir}` lists them)"
    )]
    SourceHasErrors { errors: usize, dir: PathBuf },
    #[error("cannot read the content source: {0}")]
    Source(#[from] crate::source::SourceError),
    #[error("key file {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn io_error(path: &std::path::Path) -> impl Fn(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The bytes of lower- or upper-case hex text, when it is that.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// SHA-256 of some bytes, as hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(super::hex(&bytes), "0001abff");
        assert_eq!(super::unhex("0001ABff").unwrap(), bytes);
        assert_eq!(super::unhex("0g"), None);
        assert_eq!(super::unhex("abc"), None);
    }
}

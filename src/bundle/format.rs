//! The `.kbundle` file:
//!
//! ```text
//! "kiosk-bundle v1\n"      16 bytes
//! manifest length          4 bytes, big-endian
//! manifest                 JSON (see manifest.rs)
//! signature                64 bytes: Ed25519 over the three parts above
//! payload                  tar + zstd, exactly manifest.payload.size bytes, nothing after
//! ```
//!
//! The signature covers the manifest, and the manifest the payload's size and SHA-256, so one
//! flipped byte anywhere in the file is caught.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::keys::{self, PublicKey};
use super::manifest::{Limits, Manifest};
use super::{io_error, BundleError};

pub const MAGIC: &[u8; 16] = b"kiosk-bundle v1\n";
const MAX_MANIFEST: u32 = 16 << 20;

/// A bundle whose signature and manifest were checked.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    /// The id of the trusted key that signed it.
    pub key_id: String,
    /// Where the payload starts in the file.
    pub payload_offset: u64,
}

struct Header {
    signed: Vec<u8>,
    signature: [u8; 64],
}

impl Header {
    fn manifest_bytes(&self) -> &[u8] {
        &self.signed[MAGIC.len() + 4..]
    }
}

fn read_header(file: &mut File, path: &Path) -> Result<Header, BundleError> {
    let truncated = |what: &str| BundleError::Truncated(format!("it ends inside the {what}"));
    let mut magic = [0u8; 16];
    match file.read_exact(&mut magic) {
        Ok(()) if &magic == MAGIC => {}
        Ok(()) => {
            return Err(BundleError::NotABundle {
                path: path.to_owned(),
            })
        }
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(BundleError::NotABundle {
                path: path.to_owned(),
            })
        }
        Err(err) => return Err(io_error(path)(err)),
    }
    let mut len = [0u8; 4];
    read_or(file, &mut len, path, || truncated("header"))?;
    let len = u32::from_be_bytes(len);
    if len == 0 || len > MAX_MANIFEST {
        return Err(BundleError::Malformed(format!(
            "its manifest length {len} is not plausible"
        )));
    }
    let mut signed = Vec::with_capacity(MAGIC.len() + 4 + len as usize);
    signed.extend_from_slice(MAGIC);
    signed.extend_from_slice(&(len).to_be_bytes());
    signed.resize(MAGIC.len() + 4 + len as usize, 0);
    read_or(file, &mut signed[MAGIC.len() + 4..], path, || {
        truncated("manifest")
    })?;
    let mut signature = [0u8; 64];
    read_or(file, &mut signature, path, || truncated("signature"))?;
    Ok(Header { signed, signature })
}

fn read_or(
    file: &mut File,
    buf: &mut [u8],
    path: &Path,
    eof: impl Fn() -> BundleError,
) -> Result<(), BundleError> {
    file.read_exact(buf).map_err(|err| {
        if err.kind() == std::io::ErrorKind::UnexpectedEof {
            eof()
        } else {
            io_error(path)(err)
        }
    })
}

/// Checks the signature against the trusted keys and the manifest against the limits; the
/// payload is not read (see [`verify_payload`]).
pub fn verify_header(
    path: &Path,
    trusted: &[PublicKey],
    limits: &Limits,
) -> Result<Verified, BundleError> {
    if trusted.is_empty() {
        return Err(BundleError::NoTrustedKeys);
    }
    let mut file = File::open(path).map_err(io_error(path))?;
    let header = read_header(&mut file, path)?;
    let signer = trusted
        .iter()
        .find(|key| key.verifies(&header.signed, &header.signature));
    let parsed = serde_json::from_slice::<Manifest>(header.manifest_bytes());
    let Some(signer) = signer else {
        // Say which key signed it when the manifest can tell: the likeliest mistake.
        if let Ok(manifest) = &parsed {
            if !trusted.iter().any(|key| key.id() == manifest.key_id) {
                return Err(BundleError::UntrustedKey {
                    key_id: manifest.key_id.clone(),
                    trusted: keys::ids(trusted),
                });
            }
        }
        return Err(BundleError::BadSignature {
            trusted: keys::ids(trusted),
        });
    };
    let manifest = parsed
        .map_err(|err| BundleError::Malformed(format!("its manifest cannot be read: {err}")))?;
    if manifest.key_id != signer.id() {
        return Err(BundleError::Malformed(format!(
            "its manifest names key {} but key {} signed it",
            manifest.key_id,
            signer.id()
        )));
    }
    manifest.check(limits)?;
    Ok(Verified {
        manifest,
        key_id: signer.id().to_owned(),
        payload_offset: header.signed.len() as u64 + 64,
    })
}

/// Checks that the payload is exactly the signed size and checksum.
pub fn verify_payload(
    path: &Path,
    verified: &Verified,
    progress: &mut dyn FnMut(f32),
) -> Result<(), BundleError> {
    use sha2::Digest;
    let mut file = File::open(path).map_err(io_error(path))?;
    let file_len = file.metadata().map_err(io_error(path))?.len();
    let expected = verified.payload_offset + verified.manifest.payload.size;
    if file_len < expected {
        return Err(BundleError::Truncated(format!(
            "it has {file_len} bytes of the {expected} it was signed with"
        )));
    }
    if file_len > expected {
        return Err(BundleError::TrailingData {
            extra: file_len - expected,
        });
    }
    file.seek(SeekFrom::Start(verified.payload_offset))
        .map_err(io_error(path))?;
    let mut hash = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut done = 0u64;
    let total = verified.manifest.payload.size.max(1);
    loop {
        let n = file.read(&mut buf).map_err(io_error(path))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        done += n as u64;
        progress(done as f32 / total as f32);
    }
    if done != verified.manifest.payload.size {
        return Err(BundleError::Truncated(format!(
            "its payload has {done} bytes of {}",
            verified.manifest.payload.size
        )));
    }
    if super::hex(&hash.finalize()) != verified.manifest.payload.sha256 {
        return Err(BundleError::PayloadMismatch);
    }
    Ok(())
}

/// Verifies a whole bundle file: signature, manifest and payload.
pub fn verify(
    path: &Path,
    trusted: &[PublicKey],
    limits: &Limits,
) -> Result<Verified, BundleError> {
    let verified = verify_header(path, trusted, limits)?;
    verify_payload(path, &verified, &mut |_| {})?;
    Ok(verified)
}

/// Reads a bundle's manifest without checking its signature: only to choose among files
/// (which stick file is newest) before one is verified for real.
pub fn read_manifest_unverified(path: &Path) -> Result<Manifest, BundleError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    let header = read_header(&mut file, path)?;
    serde_json::from_slice(header.manifest_bytes())
        .map_err(|err| BundleError::Malformed(format!("its manifest cannot be read: {err}")))
}

/// Writes a bundle file for `manifest` and `payload`, signed with `key`, as it is: no check
/// that the two agree (the builder makes them agree; tests make them disagree on purpose).
pub fn write_signed(
    out: &Path,
    manifest: &Manifest,
    key: &super::SecretKey,
    payload: &[u8],
) -> Result<(), BundleError> {
    let json = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    let mut file = File::create(out).map_err(io_error(out))?;
    write(&mut file, &json, |m| key.sign(m), payload)
        .and_then(|()| file.sync_all())
        .map_err(io_error(out))
}

/// Writes a bundle file: header, manifest, signature, payload.
pub(super) fn write(
    out: &mut impl Write,
    manifest_json: &[u8],
    sign: impl Fn(&[u8]) -> [u8; 64],
    payload: &[u8],
) -> std::io::Result<()> {
    let mut signed = Vec::with_capacity(MAGIC.len() + 4 + manifest_json.len());
    signed.extend_from_slice(MAGIC);
    signed.extend_from_slice(&(manifest_json.len() as u32).to_be_bytes());
    signed.extend_from_slice(manifest_json);
    out.write_all(&signed)?;
    out.write_all(&sign(&signed))?;
    out.write_all(payload)
}

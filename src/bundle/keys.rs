//! Ed25519 signing keys and their files.
//!
//! ```text
//! secret key file (mode 0600):  kiosk-secret-key ed25519 <64 hex digits: the seed>
//! public key file (.pub):       kiosk-public-key ed25519 <64 hex digits>
//! ```
//!
//! A public key's line can be pasted into the config's `public_keys` as it is. A key's id is the
//! first 8 bytes of the SHA-256 of the public key, in hex; manifests and messages name keys by it.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::BundleError;

const SECRET_TAG: &str = "kiosk-secret-key ed25519 ";
const PUBLIC_TAG: &str = "kiosk-public-key ed25519 ";

/// A signing key (kept on the office PC, never on a terminal).
pub struct SecretKey {
    key: SigningKey,
}

/// A public key a terminal trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: String,
}

impl SecretKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<SecretKey, String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|err| format!("no random numbers: {err}"))?;
        Ok(SecretKey {
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey {
            key: SigningKey::from_bytes(&seed),
        }
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::new(self.key.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The secret key file's text.
    pub fn to_text(&self) -> String {
        format!("{SECRET_TAG}{}\n", super::hex(self.key.as_bytes()))
    }

    pub fn parse(text: &str) -> Result<SecretKey, String> {
        let line = key_line(text, SECRET_TAG).ok_or("it is not a kiosk secret key file")?;
        let seed: [u8; 32] = super::unhex(line)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the key is not 64 hex digits")?;
        Ok(SecretKey::from_seed(seed))
    }

    /// Reads a secret key file.
    pub fn read(path: &Path) -> Result<SecretKey, BundleError> {
        let text = std::fs::read_to_string(path).map_err(super::io_error(path))?;
        SecretKey::parse(&text).map_err(|message| BundleError::Key {
            path: path.to_owned(),
            message: message.into(),
        })
    }

    /// Writes a new key pair: the secret key to `path` (mode 0600, never over an existing
    /// file) and the public key to `path.pub`.
    pub fn write_pair(&self, path: &Path) -> Result<PathBuf, BundleError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let public_path = public_path_of(path);
        for existing in [path, public_path.as_path()] {
            if existing.exists() {
                return Err(BundleError::Key {
                    path: existing.to_owned(),
                    message: "already exists; a key is never overwritten (choose another path)"
                        .into(),
                });
            }
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(super::io_error(path))?;
        file.write_all(self.to_text().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(super::io_error(path))?;
        std::fs::write(&public_path, self.public().to_text())
            .map_err(super::io_error(&public_path))?;
        Ok(public_path)
    }
}

/// `key` → `key.pub`.
pub fn public_path_of(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

fn key_line<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .and_then(|line| line.strip_prefix(tag))
        .map(str::trim)
}

impl PublicKey {
    fn new(key: VerifyingKey) -> PublicKey {
        use sha2::Digest;
        let id = super::hex(&sha2::Sha256::digest(key.as_bytes())[..8]);
        PublicKey { key, id }
    }

    /// The key's id: 16 hex digits.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The public key file's text (also what the config's `public_keys` takes inline).
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_TAG}{}\n", super::hex(self.key.as_bytes()))
    }

    pub fn parse(text: &str) -> Result<PublicKey, String> {
        let line = key_line(text, PUBLIC_TAG).ok_or("it is not a kiosk public key")?;
        let bytes: [u8; 32] = super::unhex(line)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the key is not 64 hex digits")?;
        let key =
            VerifyingKey::from_bytes(&bytes).map_err(|_| "the key is not a valid Ed25519 key")?;
        Ok(PublicKey::new(key))
    }

    /// Reads a public key file.
    pub fn read(path: &Path) -> Result<PublicKey, BundleError> {
        let text = std::fs::read_to_string(path).map_err(super::io_error(path))?;
        PublicKey::parse(&text).map_err(|message| BundleError::Key {
            path: path.to_owned(),
            message: message.into(),
        })
    }

    /// A config entry: a public key line, or the path of a public key file.
    pub fn from_config_entry(entry: &str) -> Result<PublicKey, BundleError> {
        if entry.trim_start().starts_with(PUBLIC_TAG.trim_end()) {
            PublicKey::parse(entry).map_err(|message| BundleError::Key {
                path: PathBuf::from("(config public_keys)"),
                message: message.into(),
            })
        } else {
            PublicKey::read(Path::new(entry.trim()))
        }
    }

    /// Whether `signature` is this key's signature of `message` (strict Ed25519 verification).
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

/// The ids of some keys, for messages.
pub fn ids(keys: &[PublicKey]) -> String {
    if keys.is_empty() {
        return "none".into();
    }
    keys.iter()
        .map(PublicKey::id)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_key_and_message() {
        let key = SecretKey::from_seed([7; 32]);
        let other = SecretKey::from_seed([8; 32]);
        let signature = key.sign(b"manifest");
        assert!(key.public().verifies(b"manifest", &signature));
        assert!(!key.public().verifies(b"manifesT", &signature));
        assert!(!other.public().verifies(b"manifest", &signature));
    }

    #[test]
    fn key_files_round_trip() {
        let key = SecretKey::from_seed([1; 32]);
        let again = SecretKey::parse(&key.to_text()).unwrap();
        assert_eq!(again.public(), key.public());
        let public =
            PublicKey::parse(&format!("# office key\n{}", key.public().to_text())).unwrap();
        assert_eq!(public, key.public());
        assert_eq!(public.id().len(), 16);
        assert!(PublicKey::parse(&key.to_text()).is_err());
        assert!(SecretKey::parse("kiosk-secret-key ed25519 abcd").is_err());
    }
}

//! The channel file a web server publishes beside its bundles: a small signed note naming the
//! latest bundle, so a terminal polls a few hundred bytes and downloads only what is new.
//!
//! ```text
//! kiosk-channel v1
//! {"site":"qljkq","seq":12,"version":"…","bundle":"qljkq-12.kbundle","size":123456,"sha256":"…"}
//! signature <key id> <128 hex digits: Ed25519 over the first two lines, newlines included>
//! ```

use super::keys::{self, PublicKey, SecretKey};
use super::manifest::Manifest;

const HEADER: &str = "kiosk-channel v1\n";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Channel {
    pub site: String,
    pub seq: u64,
    pub version: String,
    /// The bundle's address, relative to the channel file's (or absolute).
    pub bundle: String,
    /// The bundle file's size and SHA-256, checked after the download.
    pub size: u64,
    pub sha256: String,
}

impl Channel {
    pub fn for_bundle(manifest: &Manifest, file_name: &str, bytes: &[u8]) -> Channel {
        Channel {
            site: manifest.site.clone(),
            seq: manifest.seq,
            version: manifest.version.clone(),
            bundle: file_name.to_owned(),
            size: bytes.len() as u64,
            sha256: super::sha256_hex(bytes),
        }
    }

    /// The signed channel file.
    pub fn sign(&self, key: &SecretKey) -> String {
        let body = format!(
            "{HEADER}{}\n",
            serde_json::to_string(self).expect("serialises")
        );
        let signature = key.sign(body.as_bytes());
        format!(
            "{body}signature {} {}\n",
            key.public().id(),
            super::hex(&signature)
        )
    }

    /// Parses a channel file and checks its signature against the trusted keys.
    pub fn verify(text: &[u8], trusted: &[PublicKey]) -> Result<Channel, String> {
        let text = std::str::from_utf8(text).map_err(|_| "the channel file is not text")?;
        let rest = text
            .strip_prefix(HEADER)
            .ok_or("it is not a kiosk channel file")?;
        let (json, signature_line) = rest
            .split_once('\n')
            .ok_or("the channel file is cut short")?;
        let signed = &text[..HEADER.len() + json.len() + 1];
        let mut words = signature_line.trim_end().split(' ');
        let (Some("signature"), Some(key_id), Some(sig), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err("the channel file has no signature line".into());
        };
        let signature: [u8; 64] = super::unhex(sig)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the channel file's signature is not 128 hex digits")?;
        let Some(key) = trusted.iter().find(|key| key.id() == key_id) else {
            return Err(format!(
                "the channel file is signed with key {key_id}, which this terminal does not trust (trusted: {})",
                keys::ids(trusted)
            ));
        };
        if !key.verifies(signed.as_bytes(), &signature) {
            return Err("the channel file's signature does not match: it was altered".into());
        }
        serde_json::from_str(json).map_err(|err| format!("the channel file cannot be read: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> Channel {
        Channel {
            site: "qljkq".into(),
            seq: 12,
            version: "2026-11 第12期".into(),
            bundle: "qljkq-12.kbundle".into(),
            size: 1000,
            sha256: "00".repeat(32),
        }
    }

    #[test]
    fn a_signed_channel_verifies_and_an_altered_one_does_not() {
        let key = SecretKey::from_seed([3; 32]);
        let text = channel().sign(&key);
        assert_eq!(
            Channel::verify(text.as_bytes(), &[key.public()]),
            Ok(channel())
        );
        let altered = text.replace("\"seq\":12", "\"seq\":13");
        assert!(Channel::verify(altered.as_bytes(), &[key.public()])
            .unwrap_err()
            .contains("altered"));
        let stranger = SecretKey::from_seed([4; 32]).public();
        assert!(Channel::verify(text.as_bytes(), &[stranger])
            .unwrap_err()
            .contains("does not trust"));
        assert!(Channel::verify(b"<html>", &[key.public()]).is_err());
    }
}

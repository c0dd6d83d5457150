//! Key notes: how an office recovers when a signing key leaks. A key note is a small signed
//! file, signed with a *recovery key* (kept offline, pinned on the terminals as
//! `[bundles] recovery_keys`, never used for bundles), that tells a terminal to stop trusting
//! keys, to trust new ones, and to lower its seq floor, as TUF's root rotation does for its
//! signing keys. A leaked bundle key can sign bundles, but never a key note.
//!
//! ```text
//! kiosk-key-note v1
//! {"site":"qljkq","number":1,"revoke":["<key id>"],"trust":["kiosk-public-key ed25519 …"],"floor":0,"created":"…","reason":"…"}
//! signature <key id> <128 hex digits: Ed25519 over the first two lines, newlines included>
//! ```
//!
//! `number` counts the notes of a site: a terminal applies a note only when its number is above
//! that of the last one it applied, so an old note cannot be played again.

use super::keys::{self, PublicKey, SecretKey};

pub const HEADER: &str = "kiosk-key-note v1\n";

/// What a key note says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyNote {
    pub site: String,
    /// Above the number of every note of this site applied before.
    pub number: u64,
    /// Key ids no longer trusted, for bundles or notes.
    #[serde(default)]
    pub revoke: Vec<String>,
    /// Public keys (`kiosk-public-key ed25519 …` lines) trusted for bundles from now on.
    #[serde(default)]
    pub trust: Vec<String>,
    /// The new seq floor: bundles above it are installed again (the highest seq installed
    /// before, by a revoked key, may be far above what the office's builds have reached).
    pub floor: u64,
    /// When it was made (UTC, RFC 3339), and why, for the record.
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub reason: String,
}

impl KeyNote {
    /// The signed note.
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

    /// Whether these bytes are a key note (by its first line), before checking anything.
    pub fn looks_like(bytes: &[u8]) -> bool {
        bytes.starts_with(HEADER.as_bytes())
    }

    /// Parses a note and checks its signature against the recovery keys; returns the note
    /// and the id of the key that signed it. The trusted public keys it names must parse.
    pub fn verify(bytes: &[u8], recovery: &[PublicKey]) -> Result<(KeyNote, String), String> {
        if recovery.is_empty() {
            return Err("no recovery key is pinned (`[bundles] recovery_keys` in the config), so no key note can be trusted".into());
        }
        if bytes.len() > 64 * 1024 {
            return Err("it is larger than 64 KiB, so it is not a key note".into());
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "the key note is not text")?;
        let rest = text
            .strip_prefix(HEADER)
            .ok_or("it is not a kiosk key note")?;
        let (json, signature_line) = rest.split_once('\n').ok_or("the key note is cut short")?;
        let signed = &text[..HEADER.len() + json.len() + 1];
        let mut words = signature_line.trim_end().split(' ');
        let (Some("signature"), Some(key_id), Some(sig), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err("the key note has no signature line".into());
        };
        let signature: [u8; 64] = super::unhex(sig)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the key note's signature is not 128 hex digits")?;
        let Some(key) = recovery.iter().find(|key| key.id() == key_id) else {
            return Err(format!(
                "the key note is signed with key {key_id}, which is not a recovery key of this terminal (recovery keys: {})",
                keys::ids(recovery)
            ));
        };
        if !key.verifies(signed.as_bytes(), &signature) {
            return Err("the key note's signature does not match: it was altered".into());
        }
        let note: KeyNote = serde_json::from_str(json)
            .map_err(|err| format!("the key note cannot be read: {err}"))?;
        if note.revoke.iter().any(|id| id == key_id) {
            return Err("the key note revokes the key that signed it".into());
        }
        for line in &note.trust {
            PublicKey::parse(line)
                .map_err(|err| format!("the key note trusts a key that cannot be read: {err}"))?;
        }
        if note.floor > super::manifest::MAX_SEQ {
            return Err(format!(
                "its floor {} is above the highest seq {}",
                note.floor,
                super::manifest::MAX_SEQ
            ));
        }
        Ok((note, key_id.to_owned()))
    }
}

/// What a terminal keeps of the key notes it applied (`content/keys.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyState {
    /// The site of the notes, and the number of the last one applied.
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub number: u64,
    #[serde(default)]
    pub revoked: Vec<String>,
    /// Public key lines trusted by notes, beside the config's.
    #[serde(default)]
    pub trusted: Vec<String>,
}

impl KeyState {
    /// The keys a bundle may be signed with now: the pinned ones and those notes added, less
    /// those notes revoked.
    pub fn effective(&self, pinned: &[PublicKey]) -> Vec<PublicKey> {
        let mut keys: Vec<PublicKey> = pinned.to_vec();
        for line in &self.trusted {
            if let Ok(key) = PublicKey::parse(line) {
                if !keys.iter().any(|k| k.id() == key.id()) {
                    keys.push(key);
                }
            }
        }
        keys.retain(|key| !self.revoked.iter().any(|id| id == key.id()));
        keys
    }

    pub fn is_revoked(&self, key_id: &str) -> bool {
        self.revoked.iter().any(|id| id == key_id)
    }

    /// Applies a verified note (checked to be newer and of the right site by the caller).
    pub fn apply(&mut self, note: &KeyNote) {
        self.site = note.site.clone();
        self.number = note.number;
        for id in &note.revoke {
            if !self.revoked.contains(id) {
                self.revoked.push(id.clone());
            }
        }
        for line in &note.trust {
            let id = PublicKey::parse(line).map(|k| k.id().to_owned()).ok();
            let known = self
                .trusted
                .iter()
                .any(|t| PublicKey::parse(t).ok().map(|k| k.id().to_owned()) == id);
            if !known {
                self.trusted.push(line.clone());
            }
        }
        // A key trusted again by a later note is no longer revoked.
        let trusted_ids: Vec<String> = note
            .trust
            .iter()
            .filter_map(|line| PublicKey::parse(line).ok().map(|k| k.id().to_owned()))
            .collect();
        self.revoked.retain(|id| !trusted_ids.contains(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> KeyNote {
        KeyNote {
            site: "qljkq".into(),
            number: 1,
            revoke: vec![SecretKey::from_seed([1; 32]).public().id().to_owned()],
            trust: vec![SecretKey::from_seed([3; 32]).public().to_text()],
            floor: 0,
            created: "2026-12-04T00:00:00Z".into(),
            reason: "the office PC was stolen".into(),
        }
    }

    #[test]
    fn only_a_recovery_key_signs_a_note_and_it_cannot_be_altered() {
        let recovery = SecretKey::from_seed([2; 32]);
        let text = note().sign(&recovery);
        assert!(KeyNote::looks_like(text.as_bytes()));
        let (parsed, signer) = KeyNote::verify(text.as_bytes(), &[recovery.public()]).unwrap();
        assert_eq!(parsed, note());
        assert_eq!(signer, recovery.public().id());
        let altered = text.replace("\"floor\":0", "\"floor\":9");
        assert!(KeyNote::verify(altered.as_bytes(), &[recovery.public()])
            .unwrap_err()
            .contains("altered"));
        // The leaked bundle key cannot sign a note.
        let leaked = SecretKey::from_seed([1; 32]);
        let forged = note().sign(&leaked);
        assert!(KeyNote::verify(forged.as_bytes(), &[recovery.public()])
            .unwrap_err()
            .contains("not a recovery key"));
        assert!(KeyNote::verify(text.as_bytes(), &[])
            .unwrap_err()
            .contains("no recovery key"));
    }

    #[test]
    fn applying_a_note_revokes_and_trusts() {
        let old = SecretKey::from_seed([1; 32]).public();
        let new = SecretKey::from_seed([3; 32]).public();
        let mut state = KeyState::default();
        state.apply(&note());
        assert_eq!(state.number, 1);
        let keys = state.effective(std::slice::from_ref(&old));
        assert_eq!(keys.iter().map(|k| k.id()).collect::<Vec<_>>(), [new.id()]);
        assert!(state.is_revoked(old.id()));
    }
}

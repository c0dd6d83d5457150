//! The admin mode's rules: the hidden gesture that opens the PIN pad ([`Gesture`]), the PIN
//! itself (an Argon2 hash in a file, [`PinFile`]), the lockout after wrong PINs ([`Lockout`]),
//! and the log of what admins did ([`AdminLog`]). The PIN is never logged or kept in clear.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a press on the corner must last to start the gesture.
pub const LONG_PRESS: Duration = Duration::from_secs(3);
/// Taps on the same corner that must follow the long press...
pub const TAPS: u32 = 3;
/// ...within this time.
pub const TAPS_WITHIN: Duration = Duration::from_secs(5);

/// The hidden gesture: a long press on the screen's top-left corner (over the hall's name, which
/// does nothing for a visitor), then three taps on it within five seconds. Pure: times are
/// given in milliseconds of any monotonic clock.
#[derive(Debug, Default, Clone)]
pub struct Gesture {
    /// When the long press ended, and the taps since.
    armed: Option<(u64, u32)>,
}

impl Gesture {
    /// A press on the corner lasting `held`, ending at `now_ms`. Returns true when the gesture
    /// is complete (open the PIN pad).
    pub fn press(&mut self, held: Duration, now_ms: u64) -> bool {
        if held >= LONG_PRESS {
            self.armed = Some((now_ms, 0));
            return false;
        }
        match &mut self.armed {
            Some((since, taps))
                if now_ms.saturating_sub(*since) <= TAPS_WITHIN.as_millis() as u64 =>
            {
                *taps += 1;
                if *taps >= TAPS {
                    self.armed = None;
                    return true;
                }
                false
            }
            _ => {
                self.armed = None;
                false
            }
        }
    }
}

/// Wrong PINs lock the pad: after three, for 30 seconds, then twice as long after each further
/// wrong PIN, up to an hour. A right PIN clears the count. Pure: the time is given.
///
/// The lock is measured on the clock since boot, which setting the wall clock does not move;
/// after a reboot, by the wall clock, but never for longer than the lock was for. So moving the
/// clock back never locks the pad for longer than an hour.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lockout {
    pub failures: u32,
    /// No PIN is checked before this time (Unix seconds).
    pub locked_until: i64,
    /// How long the lock is for, in seconds.
    #[serde(default)]
    pub locked_for: i64,
    /// The boot the lock began in, and when it ends on that boot's clock.
    #[serde(default)]
    pub boot: Option<(String, i64)>,
}

/// Wrong PINs allowed before the first lock.
pub const FREE_TRIES: u32 = 3;

/// The longest lock, in seconds.
pub const MAX_LOCK: i64 = 3600;

/// The time, as the lockout reads it: the wall clock, and this boot's id and seconds since it
/// started (`None` where the system cannot tell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Now {
    pub wall: i64,
    pub boot: Option<(String, i64)>,
}

impl Now {
    /// The time now.
    pub fn read() -> Now {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty());
        let mut spec = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid clock id and a writable timespec.
        let since_boot = (unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut spec) } == 0)
            .then_some(spec.tv_sec);
        Now {
            wall: crate::content::unix_now(),
            boot: boot_id.zip(since_boot),
        }
    }
}

impl Lockout {
    /// Seconds left before a PIN may be tried (0: now).
    pub fn wait(&self, now: &Now) -> i64 {
        // Files of earlier versions have no length: an hour at most.
        let longest = if self.locked_for > 0 {
            self.locked_for.min(MAX_LOCK)
        } else {
            MAX_LOCK
        };
        let left = match (&self.boot, &now.boot) {
            (Some((boot, until)), Some((now_boot, since))) if boot == now_boot => until - since,
            _ => self.locked_until - now.wall,
        };
        left.clamp(0, longest)
    }

    pub fn failed(&mut self, now: &Now) {
        self.failures += 1;
        if self.failures >= FREE_TRIES {
            let doublings = (self.failures - FREE_TRIES).min(7);
            let seconds = (30i64 << doublings).min(MAX_LOCK);
            self.locked_for = seconds;
            self.locked_until = now.wall + seconds;
            self.boot = now
                .boot
                .as_ref()
                .map(|(id, since)| (id.clone(), since + seconds));
        }
    }

    pub fn succeeded(&mut self) {
        *self = Lockout::default();
    }

    /// Reads the saved lockout (a restart does not clear it).
    pub fn load(path: &Path) -> Lockout {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(err) = std::fs::write(path, serde_json::to_vec(self).expect("serialises")) {
            tracing::warn!(file = %path.display(), cause = %err, "cannot keep the PIN lockout");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("the PIN must be 6 to 12 digits")]
    Format,
    #[error("no admin PIN is set on this terminal (`kiosk admin set-pin` sets one)")]
    NotSet,
    #[error("the PIN file {path} cannot be used: {cause}")]
    File { path: PathBuf, cause: String },
}

/// The admin PIN's Argon2id hash, in a file of its own (PHC string format).
pub struct PinFile {
    path: PathBuf,
}

impl PinFile {
    pub fn new(path: impl Into<PathBuf>) -> PinFile {
        PinFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a PIN looks acceptable: 6 to 12 digits.
    pub fn acceptable(pin: &str) -> bool {
        (6..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
    }

    /// Hashes and writes a new PIN (mode 0640, through a temporary file). The file keeps the
    /// group of the one it replaces; a new one written by root goes to the group `kiosk`, when
    /// there is one, so the service (the user kiosk) can read it and nobody else can.
    pub fn set(&self, pin: &str) -> Result<(), PinError> {
        use argon2::password_hash::{PasswordHasher, SaltString};
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if !PinFile::acceptable(pin) {
            return Err(PinError::Format);
        }
        let file_error = |cause: String| PinError::File {
            path: self.path.clone(),
            cause,
        };
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| file_error(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| file_error(e.to_string()))?;
        let hash = argon2::Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map_err(|e| file_error(e.to_string()))?
            .to_string();
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| file_error(e.to_string()))?;
        }
        let tmp = self.path.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(&tmp)
            .map_err(|e| file_error(e.to_string()))?;
        file.write_all(format!("{hash}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| file_error(e.to_string()))?;
        if let Some(gid) = self.reader_group() {
            // Only root may give a file away; elsewhere the file stays the writer's.
            if let Err(err) = std::os::unix::fs::chown(&tmp, None, Some(gid)) {
                tracing::warn!(file = %tmp.display(), gid, cause = %err, "cannot set the PIN file's group");
            }
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| file_error(e.to_string()))
    }

    /// The group that must be able to read the PIN file: the present file's, else, for root,
    /// the group `kiosk` of the system package.
    fn reader_group(&self) -> Option<u32> {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::metadata(&self.path) {
            return Some(meta.gid());
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        group_id(&std::fs::read_to_string("/etc/group").ok()?, "kiosk")
    }

    /// Whether `pin` is the admin PIN.
    pub fn verify(&self, pin: &str) -> Result<bool, PinError> {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(PinError::NotSet),
            Err(err) => {
                return Err(PinError::File {
                    path: self.path.clone(),
                    cause: err.to_string(),
                })
            }
        };
        let hash = PasswordHash::new(text.trim()).map_err(|e| PinError::File {
            path: self.path.clone(),
            cause: format!("it does not hold a PIN hash ({e})"),
        })?;
        Ok(argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &hash)
            .is_ok())
    }

    pub fn is_set(&self) -> bool {
        self.path.is_file()
    }
}

/// One admin action, as `admin.jsonl` in the data directory keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdminAction {
    /// Unix seconds.
    pub at: i64,
    /// The admin session (one a right PIN), so a log reader can tell visits apart.
    pub session: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The log of admin actions: appended to, never rewritten.
pub struct AdminLog {
    path: PathBuf,
}

impl AdminLog {
    pub fn new(path: impl Into<PathBuf>) -> AdminLog {
        AdminLog { path: path.into() }
    }

    pub fn append(&self, session: &str, action: &str, detail: &str) {
        use std::io::Write;
        let entry = AdminAction {
            at: crate::content::unix_now(),
            session: session.to_owned(),
            action: action.to_owned(),
            detail: detail.to_owned(),
        };
        tracing::info!(admin_session = %session, action, detail, "admin action");
        let line = serde_json::to_string(&entry).expect("serialises") + "\n";
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(line.as_bytes()).and_then(|()| f.sync_data()));
        if let Err(err) = written {
            tracing::warn!(file = %self.path.display(), cause = %err, "cannot write the admin log");
        }
    }

    pub fn read(&self) -> Vec<AdminAction> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// The id of group `name` in the text of /etc/group (`name:x:GID:members`).
pub fn group_id(etc_group: &str, name: &str) -> Option<u32> {
    etc_group.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then(|| fields.nth(1)?.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gesture_is_a_long_press_then_three_quick_taps() {
        let mut g = Gesture::default();
        // Taps alone do nothing.
        for t in 0..5 {
            assert!(!g.press(Duration::from_millis(100), t * 100));
        }
        assert!(!g.press(Duration::from_secs(3), 1_000));
        assert!(!g.press(Duration::from_millis(100), 1_500));
        assert!(!g.press(Duration::from_millis(100), 2_000));
        assert!(g.press(Duration::from_millis(100), 2_500));
        // Too slow: the taps must come within five seconds of the long press.
        assert!(!g.press(Duration::from_secs(4), 10_000));
        assert!(!g.press(Duration::from_millis(100), 11_000));
        assert!(!g.press(Duration::from_millis(100), 16_000));
        assert!(!g.press(Duration::from_millis(100), 16_100));
    }

    /// The time at wall clock `wall` and `since` seconds into boot `boot`.
    fn at(wall: i64, boot: &str, since: i64) -> Now {
        Now {
            wall,
            boot: Some((boot.into(), since)),
        }
    }

    #[test]
    fn wrong_pins_lock_for_longer_and_longer() {
        let mut lock = Lockout::default();
        let now = |t: i64| at(t, "b1", t);
        lock.failed(&now(100));
        lock.failed(&now(100));
        assert_eq!(lock.wait(&now(100)), 0);
        lock.failed(&now(100));
        assert_eq!(lock.wait(&now(100)), 30);
        lock.failed(&now(200));
        assert_eq!(lock.wait(&now(200)), 60);
        lock.failed(&now(300));
        assert_eq!(lock.wait(&now(300)), 120);
        for _ in 0..20 {
            lock.failed(&now(1_000));
        }
        assert_eq!(lock.wait(&now(1_000)), 3600);
        lock.succeeded();
        assert_eq!(lock, Lockout::default());
    }

    #[test]
    fn moving_the_clock_never_locks_the_pad_for_longer_than_the_lock() {
        let mut lock = Lockout::default();
        for _ in 0..3 {
            lock.failed(&at(1_000_000, "b1", 500));
        }
        assert_eq!(lock.wait(&at(1_000_000, "b1", 500)), 30);
        // The wall clock back a day, same boot: the boot clock counts.
        assert_eq!(lock.wait(&at(1_000_000 - 86_400, "b1", 510)), 20);
        assert_eq!(lock.wait(&at(1_000_000 - 86_400, "b1", 531)), 0);
        // After a reboot the wall clock counts, but never beyond the lock's length.
        assert_eq!(lock.wait(&at(1_000_000 - 86_400, "b2", 5)), 30);
        assert_eq!(lock.wait(&at(1_000_020, "b2", 5)), 10);
        // A file of an earlier version (no length, no boot) waits an hour at most.
        let old = Lockout {
            failures: 9,
            locked_until: 1_000_000,
            ..Lockout::default()
        };
        assert_eq!(
            old.wait(&Now {
                wall: 1_000_000 - 86_400,
                boot: None
            }),
            MAX_LOCK
        );
    }

    #[test]
    fn a_pin_is_kept_as_a_hash_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let pins = PinFile::new(dir.path().join("admin-pin"));
        assert!(matches!(pins.verify("123456"), Err(PinError::NotSet)));
        assert!(matches!(pins.set("12ab"), Err(PinError::Format)));
        pins.set("20261126").unwrap();
        let stored = std::fs::read_to_string(pins.path()).unwrap();
        assert!(stored.starts_with("$argon2id$") && !stored.contains("20261126"));
        assert!(pins.verify("20261126").unwrap());
        assert!(!pins.verify("20261127").unwrap());
    }

    #[test]
    fn a_new_pin_keeps_the_group_of_the_file_it_replaces() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let pins = PinFile::new(dir.path().join("admin-pin"));
        pins.set("20261126").unwrap();
        // A group this process may give a file to: root any, anyone else their own.
        // SAFETY: getegid has no preconditions and cannot fail.
        let group = if unsafe { libc::geteuid() } == 0 {
            4321
        } else {
            unsafe { libc::getegid() }
        };
        std::os::unix::fs::chown(pins.path(), None, Some(group)).unwrap();
        pins.set("31415926").unwrap();
        let meta = std::fs::metadata(pins.path()).unwrap();
        assert_eq!(meta.gid(), group);
        assert_eq!(meta.mode() & 0o777, 0o640);
        assert!(pins.verify("31415926").unwrap());
    }

    #[test]
    fn groups_are_found_by_name_in_etc_group() {
        let text = "root:x:0:\nvideo:x:44:kiosk\nkiosk:x:998:\nkiosks:x:997:\n";
        assert_eq!(group_id(text, "kiosk"), Some(998));
        assert_eq!(group_id(text, "video"), Some(44));
        assert_eq!(group_id(text, "kios"), None);
        assert_eq!(group_id("kiosk:x:oops:\n", "kiosk"), None);
    }
}

//! Talking to systemd: `READY=1` once the screen shows, `WATCHDOG=1` from the screen's event
//! loop (so a hung screen is restarted), `STOPPING=1` on the way out. The datagram protocol of
//! sd_notify(3), spoken directly: no library, nothing when `NOTIFY_SOCKET` is unset.
//!
//! Under cage the kiosk is the compositor's child, so the unit has `NotifyAccess=all`, and
//! `WATCHDOG_PID` (cage's) is not ours: the watchdog is fed whenever `WATCHDOG_USEC` is set.

use std::time::Duration;

/// Sends one notification; false when there is no socket or it failed (never fatal).
pub fn notify(state: &str) -> bool {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return false;
    };
    let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else {
        return false;
    };
    let bytes = path.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        // An abstract socket name.
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
    } else {
        socket.send_to(state.as_bytes(), std::path::Path::new(&path))
    };
    match sent {
        Ok(_) => true,
        Err(err) => {
            tracing::warn!(cause = %err, "cannot notify systemd");
            false
        }
    }
}

/// How often to feed the watchdog: half its timeout, when systemd set one.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    #[test]
    fn notifications_reach_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        // SAFETY-free: the variable is only read by this process's notify() below.
        std::env::set_var("NOTIFY_SOCKET", &path);
        assert!(super::notify("READY=1"));
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        std::env::remove_var("NOTIFY_SOCKET");
        assert!(!super::notify("READY=1"));
    }
}

//! Linux TUN device, opened the way Android hands the fd over: bare IP packets (`IFF_TUN | IFF_NO_PI`).
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::StackError;

/// Opens or creates the TUN device `name` in the calling thread's network namespace.
/// Address, MTU and routes are set by the caller (`ip`), as Android's `VpnService.Builder` does.
pub fn open_tun(name: &str) -> Result<OwnedFd, StackError> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(StackError::Config("tun name must have 1 to 15 bytes and no NUL"));
    }
    let file =
        OpenOptions::new().read(true).write(true).open("/dev/net/tun").map_err(StackError::io("open /dev/net/tun"))?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    // The flags fit the c_short of ifr_flags (0x1001).
    req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes one ifreq, which lives for the whole call.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) };
    if rc < 0 {
        return Err(StackError::Io { what: "ioctl TUNSETIFF", source: io::Error::last_os_error() });
    }
    Ok(OwnedFd::from(file))
}

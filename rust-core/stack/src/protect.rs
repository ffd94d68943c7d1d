//! Linux socket protection: a fwmark that policy routing (`ip rule fwmark N lookup T`) sends around the tun.
use std::os::fd::{BorrowedFd, RawFd};

use crate::SocketProtector;

/// Marks each outbound socket with `SO_MARK` (needs CAP_NET_ADMIN).
#[derive(Clone, Copy, Debug)]
pub struct FwmarkProtector {
    mark: u32,
}

impl FwmarkProtector {
    /// A protector that sets `mark` on every socket.
    pub fn new(mark: u32) -> Self {
        FwmarkProtector { mark }
    }
}

impl SocketProtector for FwmarkProtector {
    fn protect(&self, fd: RawFd) -> std::io::Result<()> {
        // SAFETY: the stack calls protect with a socket it owns and keeps open for the whole call.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        socket2::SockRef::from(&fd).set_mark(self.mark)
    }
}

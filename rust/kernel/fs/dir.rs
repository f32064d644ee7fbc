// SPDX-License-Identifier: GPL-2.0

//! Directory listing (`readdir`).
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h).
//!
//! # Soundness
//!
//! [`Emitter::emit`] refuses names the VFS would warn about (empty or containing `/`) and
//! names with a NUL or longer than `NAME_MAX`, with `EUCLEAN`.

use crate::{bindings, error::code::EUCLEAN, error::Result};
use core::marker::PhantomData;

/// The type of a directory entry, as `readdir` reports it (`DT_*`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum EntryType {
    /// Unknown: the caller has to `stat` the entry.
    Unknown = bindings::DT_UNKNOWN as u8,
    /// A regular file.
    Reg = bindings::DT_REG as u8,
    /// A directory.
    Dir = bindings::DT_DIR as u8,
    /// A symbolic link.
    Lnk = bindings::DT_LNK as u8,
    /// A character device node.
    Chr = bindings::DT_CHR as u8,
    /// A block device node.
    Blk = bindings::DT_BLK as u8,
    /// A FIFO.
    Fifo = bindings::DT_FIFO as u8,
    /// A socket.
    Sock = bindings::DT_SOCK as u8,
}

/// Where a directory listing stands and where its entries go: C's `struct dir_context`.
///
/// The position is the filesystem's cookie of the next entry to emit; `0` is where listing
/// starts. It is what `telldir`/`seekdir` and the next `getdents` call resume from.
///
/// # Invariants
///
/// `ctx` is a valid `dir_context` for the duration of the `iterate_shared` call that created the
/// emitter, which borrows it for `'a`.
pub struct Emitter<'a> {
    ctx: *mut bindings::dir_context,
    _p: PhantomData<&'a mut bindings::dir_context>,
}

impl Emitter<'_> {
    /// # Safety
    ///
    /// `ctx` is valid for the returned lifetime and not used elsewhere meanwhile.
    pub(crate) unsafe fn from_raw<'a>(ctx: *mut bindings::dir_context) -> Emitter<'a> {
        Emitter {
            ctx,
            _p: PhantomData,
        }
    }

    /// The position of the next entry to emit.
    pub fn pos(&self) -> i64 {
        // SAFETY: `ctx` is valid (type invariant).
        unsafe { (*self.ctx).pos }
    }

    /// Emits an entry and moves the position to `next`. Returns `Ok(false)` when the caller's
    /// buffer is full: the entry was not emitted, the position did not move, and listing must
    /// stop.
    ///
    /// A name that no directory entry can have (empty, containing `/` or NUL, or longer than
    /// 255 bytes) is not emitted: `EUCLEAN`, as for any corrupt directory (the VFS would fail
    /// the listing with a kernel warning).
    pub fn emit(&mut self, next: i64, name: &[u8], ino: u64, typ: EntryType) -> Result<bool> {
        if name.is_empty() || name.len() > NAME_MAX || name.iter().any(|&b| b == b'/' || b == 0) {
            return Err(EUCLEAN);
        }
        // `name.len()` is at most `NAME_MAX`: it fits.
        let len = name.len() as i32;
        // SAFETY: `ctx` is valid (type invariant); `name` is valid for `len` bytes.
        let emitted =
            unsafe { bindings::dir_emit(self.ctx, name.as_ptr().cast(), len, ino, typ as u32) };
        if emitted {
            // SAFETY: As above.
            unsafe { (*self.ctx).pos = next };
        }
        Ok(emitted)
    }
}

/// The longest name of a directory entry (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

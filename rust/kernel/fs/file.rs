// SPDX-License-Identifier: GPL-2.0

//! The `file_operations` of a Rust filesystem.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use super::{dir, inode::INode, FileSystem};
use crate::{
    bindings,
    error::from_result,
    error::Result,
    prelude::*,
    uio::{IovIter, Kiocb},
};
use core::marker::PhantomData;

/// Reads through the page cache (`generic_file_read_iter()`): the usual `read_iter` of a file
/// whose address-space operations read it in.
pub fn generic_read(kiocb: &mut Kiocb, to: &mut IovIter) -> Result<usize> {
    // SAFETY: Both are valid and exclusively ours for the call (their type invariants).
    let ret = unsafe { bindings::generic_file_read_iter(kiocb.as_raw(), to.as_raw()) };
    if ret < 0 {
        return Err(Error::from_errno(ret as i32));
    }
    Ok(ret as usize)
}

/// The `file_operations` of a Rust filesystem.
#[vtable]
pub trait Operations {
    /// The filesystem.
    type FileSystem: FileSystem;

    /// Lists directory `dir` from `emitter.pos()` on, until its end or until
    /// [`dir::Emitter::emit`] returns `false`.
    fn read_dir(_dir: &INode<Self::FileSystem>, _emitter: &mut dir::Emitter<'_>) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Reads at `kiocb.pos()` into `to` and moves the position (`read_iter`), typically with
    /// [`generic_read`]. Returns the number of bytes read.
    fn read_iter(_kiocb: &mut Kiocb, _to: &mut IovIter) -> Result<usize> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// `SEEK_DATA` (`data`) or `SEEK_HOLE` from `offset`: the offset found. The other kinds of
    /// seek are the VFS's (`generic_file_llseek()`).
    fn seek_data_hole(_inode: &INode<Self::FileSystem>, _offset: i64, _data: bool) -> Result<i64> {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A `file_operations` table for filesystem `T`.
#[derive(Clone, Copy)]
pub struct Ops<T: FileSystem>(&'static bindings::file_operations, PhantomData<T>);

impl<T: FileSystem> Ops<T> {
    pub(crate) fn table(self) -> &'static bindings::file_operations {
        self.0
    }

    /// The table of the operations `U` implements.
    ///
    /// A table with `read_dir` is a directory's: reads fail with `EISDIR` and seeking moves the
    /// listing position, as C's `generic_read_dir` and `generic_file_llseek` do.
    pub const fn new<U: Operations<FileSystem = T> + ?Sized>() -> Self {
        struct Table<U: Operations + ?Sized>(PhantomData<U>);
        impl<U: Operations + ?Sized> Table<U> {
            const TABLE: bindings::file_operations = bindings::file_operations {
                owner: core::ptr::null_mut(),
                iterate_shared: if U::HAS_READ_DIR {
                    Some(Self::read_dir_callback)
                } else {
                    None
                },
                read: if U::HAS_READ_DIR {
                    Some(bindings::generic_read_dir)
                } else {
                    None
                },
                read_iter: if U::HAS_READ_ITER {
                    Some(Self::read_iter_callback)
                } else {
                    None
                },
                splice_read: if U::HAS_READ_ITER {
                    Some(bindings::filemap_splice_read)
                } else {
                    None
                },
                llseek: if U::HAS_SEEK_DATA_HOLE {
                    Some(Self::llseek_callback)
                } else {
                    Some(bindings::generic_file_llseek)
                },
                // SAFETY: All-zeroes (no callback) is valid for the other fields.
                ..unsafe { core::mem::zeroed() }
            };

            /// # Safety
            ///
            /// Only C calls this, as the `read_dir` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn read_dir_callback(
                file: *mut bindings::file,
                ctx: *mut bindings::dir_context,
            ) -> crate::ffi::c_int {
                from_result(|| {
                    // SAFETY: The VFS passes an open file of this filesystem (its `f_op` is
                    // this table), whose inode is live and initialised, and a context valid for
                    // the call.
                    let (dir, mut emitter) = unsafe {
                        (
                            INode::<U::FileSystem>::from_raw((*file).f_inode),
                            dir::Emitter::from_raw(ctx),
                        )
                    };
                    U::read_dir(dir, &mut emitter)?;
                    Ok(0)
                })
            }

            /// # Safety
            ///
            /// Only C calls this, as the `read_iter` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn read_iter_callback(
                kiocb: *mut bindings::kiocb,
                to: *mut bindings::iov_iter,
            ) -> isize {
                // SAFETY: The VFS passes a kiocb of an open file of this filesystem and an
                // iterator, both valid and ours for the call.
                let (kiocb, to) =
                    unsafe { (Kiocb::from_raw_mut(kiocb), IovIter::from_raw_mut(to)) };
                match U::read_iter(kiocb, to) {
                    Ok(n) => n as isize,
                    Err(e) => e.to_errno() as isize,
                }
            }

            /// # Safety
            ///
            /// Only C calls this, as the `llseek` callback of the table it is in,
            /// with the arguments that callback's C contract guarantees.
            unsafe extern "C" fn llseek_callback(
                file: *mut bindings::file,
                offset: bindings::loff_t,
                whence: crate::ffi::c_int,
            ) -> bindings::loff_t {
                let whence_u = whence as u32;
                if whence_u != bindings::SEEK_DATA && whence_u != bindings::SEEK_HOLE {
                    // SAFETY: `file` is the open file the VFS passed.
                    return unsafe { bindings::generic_file_llseek(file, offset, whence) };
                }
                // SAFETY: The file is open, so its inode is live and initialised, and it is
                // of this filesystem (its `f_op` is this table).
                let inode = unsafe { INode::<U::FileSystem>::from_raw((*file).f_inode) };
                match U::seek_data_hole(inode, offset, whence_u == bindings::SEEK_DATA) {
                    // SAFETY: As above; `vfs_setpos` checks the offset against the limit.
                    Ok(pos) => unsafe {
                        bindings::vfs_setpos(
                            file,
                            pos,
                            (*(*file).f_inode)
                                .i_sb
                                .as_ref()
                                .map_or(0, |sb| sb.s_maxbytes),
                        )
                    },
                    Err(e) => e.to_errno() as bindings::loff_t,
                }
            }
        }
        Self(&Table::<U>::TABLE, PhantomData)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The `file_operations` of a Rust filesystem.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use super::{dir, inode::INode, FileSystem};
use crate::{bindings, error::from_result, error::Result, prelude::*};
use core::marker::PhantomData;

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
                llseek: Some(bindings::generic_file_llseek),
                // SAFETY: All-zeroes (no callback) is valid for the other fields.
                ..unsafe { core::mem::zeroed() }
            };

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
        }
        Self(&Table::<U>::TABLE, PhantomData)
    }
}

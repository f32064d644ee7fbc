// SPDX-License-Identifier: GPL-2.0

//! The iomap buffered write path, in Rust.
//!
//! C header: [`include/linux/iomap.h`](srctree/include/linux/iomap.h); C ABI of this library:
//! [`include/linux/iomap_rs.h`](srctree/include/linux/iomap_rs.h).
//!
//! iomap maps a range of a file to its extents once and then walks the page cache over the whole
//! mapped range. The cached mapping is not protected by any lock: writeback and reclaim can change
//! the extent it describes while the write is in progress. This module is the Rust
//! implementation of the buffered write path built so that a stale mapping can never be used to
//! modify a folio; see `Documentation/filesystems/iomap_rs.rst`.
//!
//! Byte ranges are half-open, `[start, end)`, everywhere in this module, as in C iomap.

pub mod c_ops;
pub mod control;
pub mod delalloc;
pub mod fault;
mod folio_state;
pub mod iter;
pub mod map;
pub mod range;
#[cfg(CONFIG_IOMAP_RS_DEBUG)]
pub mod testing;
pub mod write;
pub mod zero;

/// Version of the C ABI in `include/linux/iomap_rs.h` that this library implements.
pub const ABI_VERSION: u32 = bindings::IOMAP_RS_ABI_VERSION;

use crate::bindings;

// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of the C ABI of iomap_rs (include/linux/iomap_rs.h), for
 * filesystems built as modules.
 *
 * The entry points are Rust functions of this directory's iomap_rs crate
 * (iomap_rs.rs), and 6.12 exports Rust symbols only from the kernel crate
 * (rust/exports.c), so they are exported from C here, the way rust/exports.c
 * exports the kernel crate's: an export only needs the symbol's address.
 */
#include <linux/export.h>
#include <linux/iomap_rs.h>
#include <linux/pagemap.h>

/*
 * EXPORT_SYMBOL_GPL() as it expands: there is no C definition for an export
 * to follow (checkpatch's EXPORT_SYMBOL rule), the definitions are Rust's.
 */
#define IOMAP_RS_EXPORT_RUST_GPL(sym) _EXPORT_SYMBOL(sym, "GPL")

IOMAP_RS_EXPORT_RUST_GPL(iomap_rs_abi_version);
IOMAP_RS_EXPORT_RUST_GPL(iomap_rs_initialized);
IOMAP_RS_EXPORT_RUST_GPL(iomap_rs_file_buffered_write);
IOMAP_RS_EXPORT_RUST_GPL(iomap_rs_write_delalloc_release);
IOMAP_RS_EXPORT_RUST_GPL(iomap_rs_zero_range);
IOMAP_RS_EXPORT_RUST_GPL(iomap_rs_truncate_page);
IOMAP_RS_EXPORT_RUST_GPL(iomap_rs_file_unshare);
IOMAP_RS_EXPORT_RUST_GPL(iomap_rs_page_mkwrite);

/*
 * The library's delalloc release walks the page cache with
 * mapping_seek_hole_data(), as C iomap does; C iomap is built in, the
 * library's generic code is instantiated in Rust filesystem modules, which
 * need the symbol exported.
 */
IOMAP_RS_EXPORT_RUST_GPL(mapping_seek_hole_data);

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iomap_rs: the iomap buffered write path implemented in Rust.
 *
 * The library lives in the Rust kernel crate (rust/kernel/iomap/); this
 * header is its C ABI, a drop-in for the corresponding entry points of
 * <linux/iomap.h> so that a C filesystem switches with one line. See
 * Documentation/filesystems/iomap_rs.rst.
 */
#ifndef _LINUX_IOMAP_RS_H
#define _LINUX_IOMAP_RS_H

#include <linux/types.h>

/*
 * Version of the ABI below. Bumped whenever an entry point's contract
 * changes; the Rust side reads it from here, so the two cannot disagree.
 */
#define IOMAP_RS_ABI_VERSION	1

#ifdef CONFIG_IOMAP_RS

/* The ABI version the Rust library was built against. */
u32 iomap_rs_abi_version(void);

/* Whether the Rust library's initialisation ran. */
bool iomap_rs_initialized(void);

#endif /* CONFIG_IOMAP_RS */

#endif /* _LINUX_IOMAP_RS_H */

// SPDX-License-Identifier: GPL-2.0

//! CRC32C (Castagnoli), as filesystems checksum their metadata.
//!
//! C header: [`include/linux/crc32c.h`](srctree/include/linux/crc32c.h).

/// Updates `crc` with `data`: `!crc32c(!0, data)` is the standard checksum of `data`.
///
/// # Examples
///
/// ```
/// use kernel::crc32c::crc32c;
/// assert_eq!(!crc32c(!0, b"123456789"), 0xe306_9283);
/// ```
pub fn crc32c(crc: u32, data: &[u8]) -> u32 {
    // The C function takes an `unsigned int` length: feed longer slices in pieces.
    data.chunks(u32::MAX as usize).fold(crc, |crc, piece| {
        // SAFETY: `piece` is valid for reads of `piece.len()` bytes, which fits `u32`.
        unsafe { crate::bindings::crc32c(crc, piece.as_ptr().cast(), piece.len() as u32) }
    })
}

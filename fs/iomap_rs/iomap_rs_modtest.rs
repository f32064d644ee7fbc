// SPDX-License-Identifier: GPL-2.0

//! iomap_rs_modtest: a loadable module that writes through `kernel::iomap`'s Rust API.
//!
//! It proves that a Rust module links against the library and that the library works from one:
//! the write path is generic over the filesystem's [`IomapOps`], so it is instantiated in this
//! module and links against the kernel crate's exports and the C hooks of
//! `fs/iomap_rs/iomap_rs_control.c`. Loading it runs buffered writes on files of the test
//! pseudo filesystem (`kernel::iomap::testing`) through `kernel::iomap::write::buffered_write`,
//! with a filesystem whose
//! extent generation changes in the middle of each write, and checks the bytes written, the
//! number of remaps and the file's contents read back through the VFS. It fails to load
//! (`EINVAL`, with a message naming what differed) if anything is wrong, so `insmod` is the
//! test (`tools/testing/iomap_rs/tests/rust_module_loads.sh`).

use kernel::iomap::iter::{IomapOps, IterFlags};
use kernel::iomap::map::{Iomap, MappingType};
use kernel::iomap::testing::{Folios, TestFile};
use kernel::prelude::*;

module! {
    type: ModTest,
    name: "iomap_rs_modtest",
    author: "iomap_rs developers",
    description: "Buffered writes through kernel::iomap from a loadable module",
    license: "GPL",
}

const PAGE: usize = kernel::page::PAGE_SIZE;

/// A filesystem whose files are delayed allocation in `extent`-byte mappings, and whose extent
/// generation changes at the `stale_at`-th validity check, as when writeback converts an
/// extent behind a write's back.
struct DelallocFs {
    extent: u64,
    generation: u64,
    stale_at: u32,
    checks: u32,
    begins: u32,
}

impl IomapOps for DelallocFs {
    fn begin(
        &mut self,
        pos: i64,
        len: u64,
        _flags: IterFlags,
        iomap: &mut Iomap,
        _srcmap: &mut Iomap,
    ) -> Result {
        self.begins += 1;
        *iomap = Iomap::new(
            MappingType::Delalloc,
            pos,
            len.min(self.extent),
            self.generation,
        )?;
        Ok(())
    }

    fn iomap_valid(&mut self, iomap: &Iomap) -> bool {
        self.checks += 1;
        if self.checks == self.stale_at {
            self.generation += 1;
        }
        iomap.validity_cookie() == self.generation
    }
}

/// The byte at file offset `pos` of the test pattern, offset by `seed`.
fn pattern(pos: usize, seed: u8) -> u8 {
    (pos.wrapping_mul(7) as u8) ^ seed ^ ((pos / 4096) as u8)
}

/// Writes `len` bytes at `pos` to a new file of `2^block_bits`-byte blocks, with the mapping
/// going stale at the `stale_at`-th folio, and checks the outcome and the contents.
fn write_and_check(block_bits: u32, pos: usize, len: usize, stale_at: u32) -> Result {
    let file = TestFile::new(block_bits, Folios::Small)?;
    let mut fs = DelallocFs {
        extent: 1 << 20,
        generation: 1,
        stale_at,
        checks: 0,
        begins: 0,
    };
    let mut data = KVec::with_capacity(len, GFP_KERNEL)?;
    for i in 0..len {
        data.push(pattern(pos + i, 0x5a), GFP_KERNEL)?;
    }
    let written = file.write_slice(&mut fs, pos as i64, &data)?;
    // One folio (a page: small folios) per validity check, and the stale one again after the
    // remap: a second `begin`.
    let folios = ((pos + len).div_ceil(PAGE) - pos / PAGE) as u32;
    let expected = (len, folios + 1, 2);
    let got = (written, fs.checks, fs.begins);
    if got != expected {
        pr_err!(
            "{}-byte blocks, {} bytes at {}, stale at folio {}: (written, checks, begins) = {:?}, expected {:?}\n",
            1u32 << block_bits, len, pos, stale_at, got, expected
        );
        return Err(EINVAL);
    }
    // The whole file reads back: zeroes before `pos`, the data, nothing after.
    let mut back = KVec::from_elem(0xffu8, pos + len + PAGE, GFP_KERNEL)?;
    let read = file.read(0, &mut back)?;
    let bad = back[..read]
        .iter()
        .enumerate()
        .position(|(i, &b)| b != if i < pos { 0 } else { pattern(i, 0x5a) });
    if read != pos + len || bad.is_some() {
        pr_err!(
            "{}-byte blocks, {} bytes at {}: read back {} bytes, first bad byte at {:?}\n",
            1u32 << block_bits,
            len,
            pos,
            read,
            bad
        );
        return Err(EINVAL);
    }
    Ok(())
}

struct ModTest;

impl kernel::Module for ModTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Unaligned writes over several small folios, the mapping going stale at the first, a
        // middle and the last folio, with blocks smaller than and equal to a page.
        for (block_bits, pos, len, stale_at) in [
            (12, 0, 8 * PAGE, 1),
            (12, 1000, 5 * PAGE, 3),
            (9, 3 * PAGE + 513, 4 * PAGE + 17, 5),
            (10, 100, 2 * PAGE, 3),
        ] {
            write_and_check(block_bits, pos, len, stale_at)?;
        }
        pr_info!("buffered writes through kernel::iomap from a module: ok\n");
        Ok(ModTest)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! iomap_rs: the C ABI of the Rust iomap buffered write library.
//!
//! The algorithms live in the kernel crate ([`kernel::iomap`]) so that Rust filesystems can call
//! them; this crate only exports the entry points declared in `include/linux/iomap_rs.h` and
//! keeps them thin.

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;

module! {
    type: IomapRs,
    name: "iomap_rs",
    author: "iomap_rs developers",
    description: "iomap buffered write path in Rust",
    license: "GPL",
}

/// Set once the library's initialisation ran; read by `iomap_rs_initialized()`.
static INITIALIZED: AtomicBool = AtomicBool::new(false);

struct IomapRs;

impl kernel::Module for IomapRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        INITIALIZED.store(true, Ordering::Release);
        pr_info!(
            "Rust buffered write library ready (C ABI version {})\n",
            kernel::iomap::ABI_VERSION
        );
        Ok(IomapRs)
    }
}

/// C ABI: the version of `include/linux/iomap_rs.h` this library implements.
#[no_mangle]
pub extern "C" fn iomap_rs_abi_version() -> u32 {
    kernel::iomap::ABI_VERSION
}

/// C ABI: whether the library's initialisation ran.
#[no_mangle]
pub extern "C" fn iomap_rs_initialized() -> bool {
    INITIALIZED.load(Ordering::Acquire)
}

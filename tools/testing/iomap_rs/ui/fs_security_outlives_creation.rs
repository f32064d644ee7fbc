// SPDX-License-Identifier: GPL-2.0
// expect: E0521
//
// What the LSMs label a new inode by (NewOwner::security) points to the
// directory and the dentry name of the creation the VFS is making: the name
// is freed or renamed once the callback returns. A Security kept in
// module-wide state, to label some later inode, would hand the LSMs freed
// memory; it borrows the creation's callback, and no such borrow is 'static.

use kernel::fs::inode::{NewOwner, Security};
use kernel::sync::Mutex;

/// A create callback's body that keeps the labelling context for later.
pub fn keep(owner: NewOwner<'_>, global: &'static Mutex<Option<Security<'static>>>) {
    *global.lock() = Some(owner.security);
}

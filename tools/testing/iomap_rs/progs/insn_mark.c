// SPDX-License-Identifier: GPL-2.0
/*
 * insn_mark: makes one mark for qemu-plugin/insn_profile.c (make profile),
 * which writes the counts since the previous mark. The mark is the
 * instruction "xchg %bx,%bx", a no-op without the plugin.
 */
int main(void)
{
	__asm__ volatile(".byte 0x66, 0x87, 0xdb" ::: "memory");
	return 0;
}

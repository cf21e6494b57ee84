/*
 * The one ELF note that makes the guest a PVH kernel: name "Xen",
 * type 18 (XEN_ELFNOTE_PHYS32_ENTRY), descriptor = 32-bit entry address.
 * Linked only into the PVH variants; the HVM firmware loader refuses an
 * image carrying Xen notes.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long	4		/* namesz: "Xen\0" */
	.long	4		/* descsz */
	.long	18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.balign 4
	.long	_start

	.section .note.GNU-stack, "", @progbits

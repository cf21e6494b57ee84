/*
 * Entry of the test guest.  Both boot paths used here (an HVM
 * firmware_override ELF and a PVH kernel) enter in 32-bit protected mode,
 * paging off, flat segments, interrupts off, EBX = physical address of
 * struct hvm_start_info, and no stack: set one up and call guest_main().
 */
	.code32
	.section .text.start, "ax"
	.globl _start
_start:
	cli
	cld
	movl	$guest_stack_top, %esp
	xorl	%ebp, %ebp
	pushl	%ebx
	call	guest_main
	/* guest_main never returns; spin without HLT (IF=0 would stop the vCPU). */
1:	pause
	jmp	1b

	.section .bss
	.balign 16
guest_stack:
	.skip	16384
guest_stack_top:

	.section .note.GNU-stack, "", @progbits

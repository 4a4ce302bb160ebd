	.text
	.set noreorder
	.globl _start
_start:
	bal 1f
	nop
1:	daddiu $a1, $ra, (msg - 1b)
	li $a0, 1
	li $a2, 9
	li $v0, 5001
	syscall
	li $a0, 0
	li $v0, 5058
	syscall
msg:
	.ascii "mips64le\n"

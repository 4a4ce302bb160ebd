	.text
	.globl _start
_start:
	bcl 20, 31, 1f
1:	mflr 4
	addi 4, 4, (msg - 1b)
	li 0, 4
	li 3, 1
	li 5, 8
	sc
	li 0, 1
	li 3, 0
	sc
msg:
	.ascii "ppc64le\n"

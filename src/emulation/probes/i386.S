	.text
	.globl _start
_start:
	call 1f
1:	pop %ecx
	add $(msg - 1b), %ecx
	mov $4, %eax
	mov $1, %ebx
	mov $4, %edx
	int $0x80
	mov $1, %eax
	xor %ebx, %ebx
	int $0x80
msg:
	.ascii "386\n"

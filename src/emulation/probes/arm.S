	.text
	.arm
	.globl _start
_start:
	mov r0, #1
	adr r1, msg
	mov r2, #4
	mov r7, #4
	svc #0
	mov r0, #0
	mov r7, #1
	svc #0
msg:
	.ascii "arm\n"

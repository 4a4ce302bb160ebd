	.text
	.globl _start
_start:
	lghi %r2, 1
	larl %r3, msg
	lghi %r4, 6
	svc 4
	lghi %r2, 0
	svc 1
msg:
	.ascii "s390x\n"

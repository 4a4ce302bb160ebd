// The default seccomp profile of every container: what Docker's default profile (moby
// profiles/seccomp/default.json) refuses to a container without CAP_SYS_ADMIN, refused with
// EPERM: new namespaces (unshare, setns, clone with a CLONE_NEW* flag), mounts and the new mount
// API, the keyring, kernel modules, kexec, bpf, perf_event_open, userfaultfd, swapon/swapoff,
// reboot, setting the clock, open_by_handle_at, io_uring, ptrace-like memory access to other
// processes (process_vm_*), acct, quotactl, syslog, ioperm/iopl, and the obsolete calls (uselib,
// ustat, _sysctl, vm86, ...). clone3 gets ENOSYS, as in Docker, because its flags are behind a
// pointer a filter cannot read; the C libraries then fall back to clone, whose flags it can.
//
// Docker lists what is allowed; this profile lists what is refused and allows the rest. The
// reason is emulation: under qemu-user the host kernel sees qemu's own system calls on behalf of
// the guest, and an allow list written for native programs breaks qemu in ways that depend on
// its version; a deny list refuses the same dangerous calls whoever makes them. The filter
// covers every ABI of the host (on x86-64 also i386 and x32, since a linux/386 image runs
// natively).
#pragma once

#include "base/error.h"

namespace anyarch::isolation {

// Loads the default profile into the calling thread (and what it execs). Needs no_new_privs or
// CAP_SYS_ADMIN. Safe to call after fork in a multithreaded program (it allocates). Errors:
// kInternal with the failing libseccomp step.
Status LoadDefaultSeccomp();

}  // namespace anyarch::isolation

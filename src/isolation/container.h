// Running a process in a root filesystem the way container runtimes do: new mount, pid, uts
// and ipc namespaces; an overlay mount (read-only lower = the cached rootfs, a fresh upper) so
// the cache is never modified; /proc, a tmpfs /dev holding only null, zero, full, random,
// urandom and tty (bind-mounted from the host) plus devpts and shm, and a read-only /sys; then
// pivot_root into it. The builder reuses this for RUN steps.
//
// Privileges, as Docker's defaults (runc): the overlay and /dev are mounted nodev, so device
// nodes made inside cannot be opened; /proc/sys, /proc/sysrq-trigger, /proc/irq, /proc/bus and
// /proc/fs are read-only, and /proc/kcore, /proc/keys, /proc/timer_list and the like are masked
// (/dev/null or an empty read-only tmpfs over them); the capability bounding, effective and
// permitted sets hold only Docker's default 14 (CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD,
// NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE),
// the inheritable and ambient sets are empty, and no_new_privs is set.
//
// Processes: anyarch -> a monitor (in the new mount namespace, outside the pid namespace) -> a
// minimal init, pid 1 (like docker --init) -> the program. The init forwards SIGINT, SIGTERM,
// SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the program, reaps orphans, and exits with the
// program's status; a program that is pid 1 would ignore signals it has no handler for. Each
// process gets SIGKILL when its parent dies (checked against the race at start), so however
// anyarch ends, the namespace's init dies and the kernel kills everything in it, whatever user
// the program runs as. The timeout kills the init, and returns only once the namespace is empty.
//
// Exit status: the program's own; 128+N when it dies from signal N.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::isolation {

struct ContainerSpec {
  std::string rootfs;     // read-only lower directory
  std::string state_dir;  // gets upper/, work/, merged/ (created; the caller removes it)
  std::vector<std::string> argv;
  std::vector<std::string> env;  // KEY=VALUE; PATH in here is used to find argv[0]
  std::string cwd = "/";
  unsigned uid = 0, gid = 0;
  std::string hostname = "anyarch";
  std::chrono::seconds timeout{0};  // 0: none
  // PER_LINUX32 personality: a 32-bit image on a 64-bit host of the same family sees the 32-bit
  // machine in uname (i686 for linux/386 on x86-64), as runc does for such images.
  bool linux32 = false;
};

struct ContainerResult {
  int exit_code = 0;
  bool timed_out = false;
  std::string
      start_error;  // set (with exit_code kExitCannotStart) when the command could not start
};

// Runs the container to completion. Errors are for failures to set it up (kDenied without
// root); a command that cannot start (not in the image, wrong architecture) or fails is a result.
Result<ContainerResult> Run(const ContainerSpec& spec);

// Exit code used when the program could not be started inside the container.
inline constexpr int kExitCannotStart = 127;

}  // namespace anyarch::isolation

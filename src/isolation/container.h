// Running a process in a root filesystem the way container runtimes do: new mount, pid, uts,
// ipc and (unless the network is the host's) network namespaces; an overlay mount (read-only
// lowers = cached snapshots, a fresh upper) so the snapshots are never modified; /proc, a tmpfs
// /dev holding only null, zero, full, random, urandom and tty (bind-mounted from the host) plus
// devpts and shm, a read-only /sys, /etc/hosts, /etc/resolv.conf and /etc/hostname written by
// this module, the caller's mounts; then pivot_root into it. `anyarch run` and every RUN step of
// a build go through Run.
//
// Privileges, as Docker's defaults (runc): the overlay is mounted nosuid and nodev, and /dev
// nodev, so device nodes made inside cannot be opened and a setuid file left in the upper
// directory grants nothing to whoever reaches it through /proc/PID/root; /proc/sys,
// /proc/sysrq-trigger, /proc/irq, /proc/bus and /proc/fs are read-only, and /proc/kcore,
// /proc/keys, /proc/timer_list and the like are masked; the capability bounding, effective and
// permitted sets hold only Docker's default 14 (CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD,
// NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE),
// the inheritable and ambient sets are empty, no_new_privs is set, and a seccomp filter (see
// seccomp.h) refuses what Docker's default profile refuses.
//
// Processes: the calling thread -> a monitor (in the new mount namespace, outside the pid
// namespace) -> pid 1, which sets the container up and then execs a minimal static init from a
// memfd (so /proc/1 shows nothing of anyarch: not its environment, command line or binary) ->
// the program. The init forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH
// to the program, reaps orphans, and exits with the program's status. Each process gets SIGKILL
// when its parent dies (checked against the race at start), so however anyarch ends, the
// namespace's init dies and the kernel kills everything in it. The timeout and `cancel` kill the
// init; Run returns only once the namespace is empty.
//
// Threads: Run may be called from several threads at once. It installs no signal handler and
// touches no process-wide state: it waits on a pidfd, and the monitor and the container get only
// the file descriptors named in the spec (every other descriptor is closed in the monitor right
// after fork, so one container never holds another's pipes open). Signals reach a container only
// with `forward_signals` (anyarch run): the calling thread must then have SIGINT, SIGTERM, SIGHUP,
// SIGQUIT, SIGUSR1 and SIGUSR2 blocked (BlockForwardedSignals), and Run takes them through a
// signalfd and passes them on; a process runs at most one such container at a time.
//
// Exit status: the program's own; 128+N when it dies from signal N.
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::isolation {

struct Mount {
  enum class Type { kBind, kTmpfs };
  Type type = Type::kBind;
  std::string source;  // host path (file or directory), for kBind
  // kBind: an open descriptor (O_PATH is enough) of the source, used instead of `source` when
  // >= 0, so a source resolved safely (RESOLVE_IN_ROOT) is mounted as it was resolved. Owned by
  // the caller; it is passed to the container's monitor and nowhere else.
  int source_fd = -1;
  // Absolute path inside the container; created (file or dir, as the source is) when missing.
  std::string target;
  bool readonly = false;
  std::string options;  // kTmpfs: e.g. "size=64m,mode=1777"
};

// kDefault: a network namespace of the container's own, with outbound access through user-mode
// networking where the host's loopback is not reachable; kNone: only a loopback interface;
// kHost: the host's network namespace.
enum class Network { kDefault, kNone, kHost };

struct ContainerSpec {
  std::string rootfs;  // read-only lower directory (when `lowers` is empty)
  // Read-only lower directories, topmost first; when non-empty it replaces `rootfs` (overlay
  // lowerdir=a:b:c). No path may contain ',', ':' or '\\' (overlay's option syntax).
  std::vector<std::string> lowers;
  // Gets upper/, work/, merged/ and the files bind-mounted as /etc/hosts, /etc/resolv.conf and
  // /etc/hostname (created mode 0700; the caller turns upper/ into a layer and removes it).
  std::string state_dir;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // KEY=VALUE; PATH in here is used to find argv[0]
  std::string cwd = "/";
  unsigned uid = 0, gid = 0;
  // The supplementary groups (setgroups); empty: none. Callers pass rootfs::UserIds::groups, which
  // starts with gid. At most 64 (kMaxGroups); the container's setup fails beyond that.
  std::vector<unsigned> groups;
  std::string hostname = "anyarch";
  std::chrono::seconds timeout{0};  // 0: none
  // PER_LINUX32 personality: a 32-bit image on a 64-bit host of the same family sees the 32-bit
  // machine in uname (i686 for linux/386 on x86-64), as runc does for such images.
  bool linux32 = false;
  // Applied in order after /proc, /dev, /sys and /etc/{hosts,resolv.conf,hostname}, before
  // pivot_root; a bind source must exist; symlinks in `target` resolve inside the new root, never
  // outside it.
  std::vector<Mount> mounts;
  int stdin_fd = -1, stdout_fd = -1,
      stderr_fd = -1;  // -1: inherit anyarch's; else dup2'd onto 0/1/2
  // stdin is a terminal of the container's own (terminal.h's slave) to make the program's
  // controlling terminal, with the program in its foreground process group. Whatever this says,
  // the container is a session of its own: a terminal anyarch was given never becomes its
  // controlling terminal.
  bool controlling_tty = false;
  Network network = Network::kDefault;
  // After the run, the files and directories that the mount points (the caller's mounts,
  // /etc/hosts, /etc/resolv.conf, /etc/hostname, /proc, /dev, /sys, /tmp) created in upper/
  // because they did not exist below are removed from upper/ again (when still empty), so they
  // never end up in a layer, as BuildKit does.
  bool remove_mount_stubs = true;
  // Polled; when it becomes true the whole container is killed and Run returns with
  // result.cancelled = true. Must outlive the call.
  const std::atomic<bool>* cancel = nullptr;
  // Pass SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 that the process gets on to the
  // program (see "Threads" above). For anyarch run; a build leaves it off.
  bool forward_signals = false;
  // Apply the default seccomp profile (seccomp.h); off is --security-opt seccomp=unconfined.
  bool seccomp = true;
};

struct ContainerResult {
  int exit_code = 0;
  bool timed_out = false;
  bool cancelled = false;
  std::string
      start_error;  // set (with exit_code kExitCannotStart) when the command could not start
};

// Runs the container to completion. Errors are for failures to set it up (kDenied without
// root, kNotFound for a missing bind source, kInvalid for a bad spec); a command that cannot
// start (not in the image, wrong architecture) or fails is a result.
Result<ContainerResult> Run(const ContainerSpec& spec);

// The signals forward_signals passes on.
sigset_t ForwardedSignals();

// Blocks ForwardedSignals() in the calling thread (threads it starts later inherit the mask);
// returns the previous mask for pthread_sigmask(SIG_SETMASK, ...).
sigset_t BlockForwardedSignals();

// Exit code used when the program could not be started inside the container.
inline constexpr int kExitCannotStart = 127;

}  // namespace anyarch::isolation

// Running a process in a root filesystem the way container runtimes do: new mount, pid, uts
// and ipc namespaces; an overlay mount (read-only lower = the cached rootfs, a fresh upper) so
// the cache is never modified; /proc, a tmpfs /dev holding only null, zero, full, random,
// urandom and tty (bind-mounted from the host) plus devpts and shm, and a read-only /sys; then
// pivot_root into it. The builder reuses this for RUN steps.
//
// Exit status: the program's own; 128+N when it dies from signal N. SIGINT, SIGTERM, SIGHUP
// and SIGQUIT sent to anyarch are forwarded to it. A timeout kills the whole pid namespace.
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
  std::string start_error;  // set (with exit_code kExitCannotStart) when the command could not start
};

// Runs the container to completion. Errors are for failures to set it up (kDenied without
// root); a command that cannot start (not in the image, wrong architecture) or fails is a result.
Result<ContainerResult> Run(const ContainerSpec& spec);

// Exit code used when the program could not be started inside the container.
inline constexpr int kExitCannotStart = 127;

}  // namespace anyarch::isolation

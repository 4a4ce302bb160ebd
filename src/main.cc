#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "cli/app.h"

int main(int argc, char** argv) {
  // A closed stdin, stdout or stderr gets /dev/null: otherwise the next descriptor anyarch opens
  // (a blob, a pseudo-terminal's master) would be taken for it.
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF && ::open("/dev/null", O_RDWR) != fd) return 125;
  }
  // anyarch waits for the processes it starts (a container's monitor, slirp4netns, qemu probes).
  // With SIGCHLD ignored by whoever started it, the kernel would reap them before any waitpid.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &dfl, nullptr);
  return anyarch::cli::Main(argc, argv);
}

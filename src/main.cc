#include <signal.h>

#include "cli/app.h"

int main(int argc, char** argv) {
  // anyarch waits for the processes it starts (a container's monitor, slirp4netns, qemu probes).
  // With SIGCHLD ignored by whoever started it, the kernel would reap them before any waitpid.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &dfl, nullptr);
  return anyarch::cli::Main(argc, argv);
}

#include "isolation/network.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/fs.h"
#include "base/process.h"

namespace anyarch::isolation {

UserNetwork::~UserNetwork() {
  if (exit_fd_ >= 0) ::close(exit_fd_);  // slirp4netns exits when its exit descriptor closes
  if (pid_ > 0) {
    int status = 0;
    // It normally exits at once; it must not outlive the container however it behaves.
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) != 0) return;
      ::usleep(10000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
}

UserNetwork::UserNetwork(UserNetwork&& o) noexcept : pid_(o.pid_), exit_fd_(o.exit_fd_) {
  o.pid_ = -1;
  o.exit_fd_ = -1;
}

Result<UserNetwork> UserNetwork::Start(pid_t pid, const std::string& log_path) {
  std::string exe = FindInPath("slirp4netns");
  if (exe.empty()) {
    return MakeError(ErrorCode::kUnavailable,
                     "the default network needs slirp4netns (apt-get install slirp4netns); or run "
                     "with --network host or --network none");
  }
  int ready[2], exitp[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(exitp, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  UniqueFd exit_r(exitp[0]);
  UserNetwork net;
  net.exit_fd_ = exitp[1];  // owned by `net` from here on, closed on every early return
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (log.get() < 0) return Unexpected(ErrnoError(errno, log_path));
  std::vector<std::string> args = {exe,
                                   "--configure",
                                   "--mtu=65520",
                                   "--disable-host-loopback",
                                   "--enable-sandbox",
                                   "--ready-fd=3",
                                   "--exit-fd=4",
                                   std::to_string(pid),
                                   "tap0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t self = ::getpid();
  pid_t child = ::fork();
  if (child < 0) return Unexpected(ErrnoError(errno, "fork"));
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != self) ::_exit(125);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int want[] = {devnull, log.get(), log.get(), ready_w.get(), exit_r.get()};
    int high[5];
    // Above the five targets, not at a fixed number past a low RLIMIT_NOFILE.
    for (int i = 0; i < 5; ++i) high[i] = ::fcntl(want[i], F_DUPFD_CLOEXEC, 5);
    for (int i = 0; i < 5; ++i) ::dup2(high[i], i);
    ::syscall(SYS_close_range, 5, ~0U, 0);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  net.pid_ = child;
  ready_w = UniqueFd();
  pollfd p{ready_r.get(), POLLIN, 0};
  int r = ::poll(&p, 1, 10000);
  char c = 0;
  if (r > 0 && ::read(ready_r.get(), &c, 1) == 1) return net;
  auto text = ReadFile(log_path, 1 << 16);
  std::string tail = text ? *text : "";
  if (tail.size() > 400) tail = tail.substr(tail.size() - 400);
  std::string hint;
  if (tail.find("/dev/net/tun") != std::string::npos)
    hint =
        " (slirp4netns opens /dev/net/tun inside the container's namespace: an ordinary user "
        "needs it mode 0666, Debian's default, which root restores with: chmod 0666 "
        "/dev/net/tun; or give the container --network none)";
  return MakeError(ErrorCode::kUnavailable,
                   std::string("slirp4netns did not bring the container's network up") +
                       (r == 0 ? " within 10 s" : "") + (tail.empty() ? "" : ": " + tail) + hint);
}

}  // namespace anyarch::isolation

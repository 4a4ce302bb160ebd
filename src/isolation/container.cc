#include "isolation/container.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"

namespace anyarch::isolation {

namespace fs = std::filesystem;

namespace {

std::atomic<pid_t> g_child{0};

void Forward(int sig) {
  pid_t c = g_child.load();
  if (c > 0) ::kill(c, sig);
}

// Reports a setup failure from the child to the parent: step name and errno.
[[noreturn]] void Die(int fd, const char* step) {
  int err = errno;
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%s: %s", step, std::strerror(err));
  if (n > 0) {
    ssize_t ignored = ::write(fd, buf, static_cast<std::size_t>(n));
    (void)ignored;
  }
  ::_exit(125);
}

void BindDevice(const std::string& dev_dir, const char* name, int errfd) {
  std::string target = dev_dir + "/" + name;
  int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  if (fd >= 0) ::close(fd);
  std::string source = std::string("/dev/") + name;
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
    Die(errfd, "binding a device");
}

// Runs inside the new namespaces as pid 1's parent-to-be; never returns.
[[noreturn]] void ContainerInit(const ContainerSpec& spec, const std::string& merged,
                                const std::string& upper, const std::string& work, int errfd) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    Die(errfd, "making mounts private");
  std::string opts = "lowerdir=" + spec.rootfs + ",upperdir=" + upper + ",workdir=" + work;
  if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0)
    Die(errfd, "mounting overlay");
  // A second fork makes the program pid 1 of the new pid namespace.
  pid_t pid = ::fork();
  if (pid < 0) Die(errfd, "fork");
  if (pid > 0) {
    // Signals that reach this process are passed on to the program.
    g_child = pid;
    struct sigaction sa {};
    sa.sa_handler = Forward;
    ::sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (const char* d : {"/proc", "/dev", "/sys", "/tmp"}) ::mkdir((merged + d).c_str(), 0755);
  if (::mount("proc", (merged + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0) {
    Die(errfd, "mounting /proc");
  }
  std::string dev = merged + "/dev";
  if (::mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") !=
      0) {
    Die(errfd, "mounting /dev");
  }
  for (const char* d : {"null", "zero", "full", "random", "urandom", "tty"})
    BindDevice(dev, d, errfd);
  ::mkdir((dev + "/pts").c_str(), 0755);
  ::mount("devpts", (dev + "/pts").c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
          "newinstance,ptmxmode=0666,mode=0620");
  ::mkdir((dev + "/shm").c_str(), 01777);
  ::mount("shm", (dev + "/shm").c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "mode=1777,size=65536k");
  ::symlink("/proc/self/fd", (dev + "/fd").c_str());
  ::symlink("/proc/self/fd/0", (dev + "/stdin").c_str());
  ::symlink("/proc/self/fd/1", (dev + "/stdout").c_str());
  ::symlink("/proc/self/fd/2", (dev + "/stderr").c_str());
  ::symlink("pts/ptmx", (dev + "/ptmx").c_str());
  if (::mount("sysfs", (merged + "/sys").c_str(), "sysfs",
              MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    // Without a network namespace of our own, sysfs may be refused: bind the host's read-only.
    if (::mount("/sys", (merged + "/sys").c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0) {
      ::mount(nullptr, (merged + "/sys").c_str(), nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, nullptr);
    }
  }
  std::string old = merged + "/.anyarch-oldroot";
  ::mkdir(old.c_str(), 0700);
  if (::syscall(SYS_pivot_root, merged.c_str(), old.c_str()) != 0) Die(errfd, "pivot_root");
  if (::chdir("/") != 0) Die(errfd, "chdir /");
  if (::umount2("/.anyarch-oldroot", MNT_DETACH) != 0) Die(errfd, "detaching the old root");
  ::rmdir("/.anyarch-oldroot");
  ::sethostname(spec.hostname.c_str(), spec.hostname.size());
  if (::chdir(spec.cwd.c_str()) != 0) {
    ::mkdir(spec.cwd.c_str(), 0755);
    if (::chdir(spec.cwd.c_str()) != 0) Die(errfd, "changing to the working directory");
  }
  if (spec.linux32 && ::personality(PER_LINUX32) < 0) Die(errfd, "personality");
  if (::setgroups(0, nullptr) != 0 && spec.uid != 0) Die(errfd, "setgroups");
  if (::setgid(spec.gid) != 0) Die(errfd, "setgid");
  if (::setuid(spec.uid) != 0) Die(errfd, "setuid");
  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : spec.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  envp.push_back(nullptr);
  // The command is looked up with the image's PATH, inside the new root.
  const std::string& cmd = spec.argv[0];
  int last_err = ENOENT;
  if (cmd.find('/') != std::string::npos) {
    ::execve(cmd.c_str(), argv.data(), envp.data());
    last_err = errno;
  } else {
    for (const auto& dir : Split(path, ':')) {
      std::string candidate = (dir.empty() ? "." : dir) + "/" + cmd;
      ::execve(candidate.c_str(), argv.data(), envp.data());
      if (errno != ENOENT && errno != ENOTDIR) {
        last_err = errno;
        break;
      }
    }
  }
  errno = last_err;
  char buf[512];
  int n = std::snprintf(
      buf, sizeof buf, "exec %s: %s%s", cmd.c_str(), std::strerror(last_err),
      last_err == ENOEXEC
          ? " (no emulator registered for this architecture? run: anyarch binfmt install)"
          : "");
  if (n > 0) {
    ssize_t ignored = ::write(errfd, buf, static_cast<std::size_t>(n));
    (void)ignored;
  }
  ::_exit(kExitCannotStart);
}

}  // namespace

Result<ContainerResult> Run(const ContainerSpec& spec) {
  if (spec.argv.empty()) return MakeError(ErrorCode::kInvalid, "no command to run");
  if (::geteuid() != 0)
    return MakeError(ErrorCode::kDenied, "running a container needs root (namespaces, mounts)");
  std::string upper = spec.state_dir + "/upper", work = spec.state_dir + "/work",
              merged = spec.state_dir + "/merged";
  std::error_code ec;
  for (const auto& d : {upper, work, merged}) {
    fs::create_directories(d, ec);
    if (ec) return MakeError(ErrorCode::kIo, d + ": " + ec.message());
  }
  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  pid_t pid = ::fork();
  if (pid < 0) return Unexpected(ErrnoError(errno, "fork"));
  if (pid == 0) {
    ::close(errpipe[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC) != 0)
      Die(errpipe[1], "unshare");
    ContainerInit(spec, merged, upper, work, errpipe[1]);
  }
  ::close(errpipe[1]);
  g_child = pid;
  struct sigaction sa {
  }, old_int{}, old_term{}, old_hup{}, old_quit{};
  sa.sa_handler = Forward;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  ::sigaction(SIGHUP, &sa, &old_hup);
  ::sigaction(SIGQUIT, &sa, &old_quit);
  ContainerResult result;
  auto deadline = std::chrono::steady_clock::now() + spec.timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, spec.timeout.count() > 0 ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) break;
    if (spec.timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline) {
      // Killing the namespace's init parent takes the whole pid namespace down.
      ::kill(pid, SIGKILL);
      result.timed_out = true;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    if (r == 0) ::usleep(20000);
  }
  g_child = 0;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  char buf[512];
  ssize_t n = ::read(errpipe[0], buf, sizeof buf);
  ::close(errpipe[0]);
  std::string setup_error = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  ::umount2(merged.c_str(), MNT_DETACH);
  if (result.timed_out) {
    result.exit_code = 124;
    return result;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (!setup_error.empty()) {
    if (code == kExitCannotStart) {
      result.exit_code = code;
      result.start_error = setup_error;
      return result;
    }
    return MakeError(ErrorCode::kInternal, "setting up the container: " + setup_error);
  }
  result.exit_code = code;
  return result;
}

}  // namespace anyarch::isolation

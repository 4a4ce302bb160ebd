#include "isolation/container.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
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

// Three processes (fork after fork), so each signal handler has one child to pass signals to:
//   anyarch -> monitor (new namespaces, outside the pid namespace) -> init (pid 1) -> program.
std::atomic<pid_t> g_child{0};
volatile sig_atomic_t g_alarm = 0;

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void Forward(int sig) {
  pid_t c = g_child.load();
  if (c > 0) ::kill(c, sig);
}

// Killing pid 1 here, not in the wait loop, leaves no window in which the alarm could go
// unnoticed by a waitpid that has not started yet.
void OnAlarm(int) {
  g_alarm = 1;
  pid_t c = g_child.load();
  if (c > 0) ::kill(c, SIGKILL);
}

sigset_t ForwardedSet() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int sig : kForwarded) ::sigaddset(&set, sig);
  return set;
}

// Docker's default capability set (moby oci/caps/defaults.go). Everything else is dropped from
// every set, the bounding set included, so not even a setuid or file-capability program can get
// it back.
constexpr int kDefaultCaps[] = {CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
                                CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
                                CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
                                CAP_KILL,    CAP_AUDIT_WRITE};

// runc's defaults (what Docker asks for): paths under /proc and /sys that expose or change the
// host. Masked ones are hidden under /dev/null (files) or an empty read-only tmpfs (directories);
// the read-only ones stay readable.
constexpr const char* kMaskedPaths[] = {
    "/proc/acpi",       "/proc/asound",      "/proc/interrupts",
    "/proc/kcore",      "/proc/keys",        "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap"};
constexpr const char* kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                          "/proc/sysrq-trigger"};

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

// Dies with SIGKILL when the parent does; if the parent is gone already (it died before the
// prctl took effect), exits now. `alive` is a pipe whose write end only the parent holds.
void DieWithParent(int alive) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd p{alive, POLLIN, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) ::_exit(125);
}

void BindDevice(const std::string& dev_dir, const char* name, int errfd) {
  std::string target = dev_dir + "/" + name;
  int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  if (fd >= 0) ::close(fd);
  std::string source = std::string("/dev/") + name;
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
    Die(errfd, "binding a device");
}

void MaskPath(const char* path, int errfd) {
  if (::mount("/dev/null", path, nullptr, MS_BIND, nullptr) == 0) return;
  if (errno == ENOENT) return;
  if (errno == ENOTDIR) {  // a directory: cover it with an empty read-only tmpfs
    if (::mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") ==
        0)
      return;
  }
  Die(errfd, "masking a /proc or /sys path");
}

void ReadonlyPath(const char* path, int errfd) {
  if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    if (errno == ENOENT) return;
    Die(errfd, "binding a read-only /proc path");
  }
  if (::mount(path, path, nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    Die(errfd, "making a /proc path read-only");
}

// Drops every capability outside kDefaultCaps from the bounding, ambient, effective, permitted
// and inheritable sets (inheritable ends empty, as Docker does since CVE-2022-24769), and sets
// no_new_privs so that no exec (setuid, file capabilities) grants more.
void DropPrivileges(int errfd) {
  std::uint64_t keep = 0;
  for (int cap : kDefaultCaps) keep |= std::uint64_t{1} << cap;
  for (int cap = 0; cap < 64; ++cap) {
    int has = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (has < 0) break;  // past the kernel's last capability
    if (has == 1 && !(keep & (std::uint64_t{1} << cap)) &&
        ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      Die(errfd, "dropping a capability from the bounding set");
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    Die(errfd, "clearing ambient capabilities");
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    auto word = static_cast<std::uint32_t>(keep >> (32 * i));
    data[i].effective = word;
    data[i].permitted = word;
    data[i].inheritable = 0;
  }
  if (::syscall(SYS_capset, &header, data) != 0) Die(errfd, "setting capabilities");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Die(errfd, "setting no_new_privs");
}

// The program: user, personality, default signal dispositions, exec. Never returns.
[[noreturn]] void ExecProgram(const ContainerSpec& spec, int errfd) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
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

// Pid 1 of the new pid namespace: sets up the filesystem, drops privileges, then starts the
// program and stays as its init (like docker --init / tini): forwards signals to it, reaps
// orphans, and exits with the program's status. Its exit makes the kernel kill everything left in
// the namespace. Never returns.
[[noreturn]] void ContainerInit(const ContainerSpec& spec, const std::string& merged, int alive,
                                int errfd) {
  DieWithParent(alive);
  for (const char* d : {"/proc", "/dev", "/sys", "/tmp"}) ::mkdir((merged + d).c_str(), 0755);
  if (::mount("proc", (merged + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0) {
    Die(errfd, "mounting /proc");
  }
  std::string dev = merged + "/dev";
  // nodev: a device node made inside (CAP_MKNOD is kept, as Docker does) cannot be opened; the
  // few devices the container gets are bind mounts of the host's, which keep their own flags.
  if (::mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
              "mode=755,size=65536k") != 0) {
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
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    }
  }
  std::string old = merged + "/.anyarch-oldroot";
  ::mkdir(old.c_str(), 0700);
  if (::syscall(SYS_pivot_root, merged.c_str(), old.c_str()) != 0) Die(errfd, "pivot_root");
  if (::chdir("/") != 0) Die(errfd, "chdir /");
  if (::umount2("/.anyarch-oldroot", MNT_DETACH) != 0) Die(errfd, "detaching the old root");
  ::rmdir("/.anyarch-oldroot");
  for (const char* p : kReadonlyPaths) ReadonlyPath(p, errfd);
  for (const char* p : kMaskedPaths) MaskPath(p, errfd);
  ::sethostname(spec.hostname.c_str(), spec.hostname.size());
  if (::chdir(spec.cwd.c_str()) != 0) {
    ::mkdir(spec.cwd.c_str(), 0755);
    if (::chdir(spec.cwd.c_str()) != 0) Die(errfd, "changing to the working directory");
  }
  // binfmt_misc needs nothing from here on: with the F flag the kernel holds qemu open already.
  DropPrivileges(errfd);
  DieWithParent(alive);  // capset may not clear the parent-death signal, but do not rely on it
  ::close(alive);
  pid_t pid = ::fork();
  if (pid < 0) Die(errfd, "fork");
  if (pid == 0) ExecProgram(spec, errfd);
  g_child = pid;
  struct sigaction sa {};
  sa.sa_handler = Forward;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) ::sigaction(sig, &sa, nullptr);
  sigset_t set = ForwardedSet();
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);  // what arrived during setup is passed on now
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(-1, &status, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      ::_exit(125);
    }
    if (r == pid) ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

// Outside the new pid namespace (it belongs to anyarch's), inside the new mount namespace: starts
// pid 1 and waits for it. The timeout is enforced here: killing pid 1 makes the kernel kill every
// process of the namespace, and waitpid returns only once they are all gone. Reports the exit
// code and whether the timeout fired through `reportfd`. Never returns.
[[noreturn]] void Monitor(const ContainerSpec& spec, const std::string& merged,
                          const std::string& upper, const std::string& work, int reportfd,
                          int errfd) {
  if (::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC) != 0)
    Die(errfd, "unshare");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    Die(errfd, "making mounts private");
  std::string opts = "lowerdir=" + spec.rootfs + ",upperdir=" + upper + ",workdir=" + work;
  // nodev: device nodes in the image or made inside are never usable (setuid stays, as in Docker,
  // but no_new_privs neutralises it).
  if (::mount("overlay", merged.c_str(), "overlay", MS_NODEV, opts.c_str()) != 0)
    Die(errfd, "mounting overlay");
  int alive[2];
  if (::pipe2(alive, O_CLOEXEC) != 0) Die(errfd, "pipe");
  pid_t pid = ::fork();
  if (pid < 0) Die(errfd, "fork");
  if (pid == 0) {
    ::close(alive[1]);
    ::close(reportfd);
    ContainerInit(spec, merged, alive[0], errfd);
  }
  ::close(alive[0]);  // alive[1] stays open until this process dies
  g_child = pid;
  if (spec.timeout.count() > 0) {
    struct sigaction sa {};
    sa.sa_handler = OnAlarm;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, nullptr);
    ::alarm(static_cast<unsigned>(spec.timeout.count()));
  }
  sigset_t set = ForwardedSet();
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, 0) == pid) break;
    if (errno != EINTR) ::_exit(125);
  }
  ::alarm(0);
  // A program that ended on its own just as the alarm rang did not time out.
  bool timed_out = g_alarm && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  int report[2] = {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                   timed_out ? 1 : 0};
  ssize_t ignored = ::write(reportfd, report, sizeof report);
  (void)ignored;
  ::_exit(report[0]);
}

}  // namespace

Result<ContainerResult> Run(const ContainerSpec& spec) {
  if (spec.argv.empty()) return MakeError(ErrorCode::kInvalid, "no command to run");
  if (::geteuid() != 0)
    return MakeError(ErrorCode::kDenied, "running a container needs root (namespaces, mounts)");
  if (spec.timeout.count() < 0 || spec.timeout.count() > 0x7fffffff)
    return MakeError(ErrorCode::kInvalid, "bad timeout");
  std::string upper = spec.state_dir + "/upper", work = spec.state_dir + "/work",
              merged = spec.state_dir + "/merged";
  std::error_code ec;
  for (const auto& d : {upper, work, merged}) {
    fs::create_directories(d, ec);
    if (ec) return MakeError(ErrorCode::kIo, d + ": " + ec.message());
  }
  int errpipe[2], reportpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  if (::pipe2(reportpipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(errpipe[0]);
    ::close(errpipe[1]);
    return Unexpected(ErrnoError(err, "pipe"));
  }
  // Signals are blocked across each fork until the new child is known, so none is lost.
  struct sigaction sa {};
  sa.sa_handler = Forward;
  ::sigemptyset(&sa.sa_mask);
  struct sigaction old_actions[std::size(kForwarded)];
  for (std::size_t i = 0; i < std::size(kForwarded); ++i)
    ::sigaction(kForwarded[i], &sa, &old_actions[i]);
  sigset_t set = ForwardedSet(), old_mask;
  ::sigprocmask(SIG_BLOCK, &set, &old_mask);
  const pid_t self = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != self) ::_exit(125);  // anyarch died before the prctl
    ::close(errpipe[0]);
    ::close(reportpipe[0]);
    Monitor(spec, merged, upper, work, reportpipe[1], errpipe[1]);
  }
  int fork_err = errno;
  ::close(errpipe[1]);
  ::close(reportpipe[1]);
  if (pid > 0) g_child = pid;
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  ContainerResult result;
  int status = 0;
  if (pid > 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  g_child = 0;
  for (std::size_t i = 0; i < std::size(kForwarded); ++i)
    ::sigaction(kForwarded[i], &old_actions[i], nullptr);
  int report[2] = {0, 0};
  ssize_t got = pid > 0 ? ::read(reportpipe[0], report, sizeof report) : 0;
  ::close(reportpipe[0]);
  char buf[512];
  ssize_t n = pid > 0 ? ::read(errpipe[0], buf, sizeof buf) : 0;
  ::close(errpipe[0]);
  if (pid < 0) return Unexpected(ErrnoError(fork_err, "fork"));
  std::string setup_error = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  ::umount2(merged.c_str(), MNT_DETACH);
  if (got == static_cast<ssize_t>(sizeof report) && report[1]) {
    result.timed_out = true;
    result.exit_code = 124;
    return result;
  }
  int code = got == static_cast<ssize_t>(sizeof report)
                 ? report[0]
                 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
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

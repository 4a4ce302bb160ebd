#include "isolation/container.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "base/fs.h"
#include "base/in_root.h"
#include "base/strings.h"
#include "init_blob.h"  // minimal_init, minimal_init_len: init/minimal_init.c, built static
#include "isolation/network.h"
#include "isolation/seccomp.h"
#include "isolation/userns.h"

namespace anyarch::isolation {

namespace fs = std::filesystem;

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// The monitor's descriptors, fixed right after fork so that nothing else is inherited.
constexpr int kErrFd = 3;      // setup failures, as text (the init reports exec failures here)
constexpr int kReportFd = 4;   // the monitor's Report to Run
constexpr int kControlFd = 5;  // Run's commands to the monitor: one byte each
constexpr int kStubsFd = 6;    // mount points created in the container, NUL-separated
constexpr int kFirstFreeFd = 7;

// Control bytes: 0 kills the container; kControlGo lets the monitor start pid 1 once the default
// network is up; any other value is a signal to pass to pid 1.
constexpr unsigned char kControlKill = 0;
constexpr unsigned char kControlGo = 255;
// Written by the monitor on kReportFd, before its Report, once its network namespace exists.
constexpr unsigned char kNetnsReady = 'n';

struct Report {
  int exit_code = 0;
  int timed_out = 0;
  int cancelled = 0;
};

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

// The files this module writes into state_dir and binds into every container.
struct EtcFile {
  const char* state_name;
  const char* target;
};
constexpr EtcFile kEtcFiles[] = {
    {"hosts", "/etc/hosts"}, {"resolv.conf", "/etc/resolv.conf"}, {"hostname", "/etc/hostname"}};

// Reports a setup failure from a child to Run: step name and errno. Never returns.
[[noreturn]] void Die(const std::string& step) {
  int err = errno;
  std::string msg = step + ": " + std::strerror(err);
  ssize_t ignored = ::write(kErrFd, msg.data(), std::min<std::size_t>(msg.size(), 1000));
  (void)ignored;
  ::_exit(125);
}

// Dies with SIGKILL when the parent does; if the parent is gone already (it died before the
// prctl took effect), exits now. `alive` is a pipe whose write end only the parent holds.
void DieWithParent(int alive) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd p{alive, POLLIN, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) ::_exit(125);
}

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// openat2 with RESOLVE_IN_ROOT: absolute symlinks and ".." stay inside `root`, the way the path
// would resolve after pivot_root. Returns -1 with errno.
int OpenInRoot(int root, const std::string& rel, int flags) {
  return Openat2(root, rel.empty() ? "." : rel.c_str(),
                 static_cast<std::uint64_t>(flags | O_CLOEXEC),
                 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

// Where a descriptor under the new root is, relative to it ("etc/hosts").
std::string RelativeToRoot(int fd, const std::string& root_real) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(FdPath(fd).c_str(), buf, sizeof buf - 1);
  if (n < 0) Die("reading a mount point's path");
  std::string p(buf, static_cast<std::size_t>(n));
  if (p == root_real) return "";
  if (p.rfind(root_real + "/", 0) != 0) {
    errno = EXDEV;
    Die("a mount point outside the container's root");
  }
  return p.substr(root_real.size() + 1);
}

void RecordStub(const std::string& rel) {
  std::string rec = rel + '\0';
  if (::write(kStubsFd, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size()))
    Die("recording a mount point");
}

// Opens (O_PATH) the mount point `target` under the new root, creating what is missing (parent
// directories, and the last component as a directory or an empty file) and recording each
// creation. Symlinks resolve inside the root; a dangling one is followed to where it points.
int EnsureMountPoint(int root, const std::string& root_real, const std::string& target, bool dir,
                     int depth = 0) {
  if (depth > 40) {
    errno = ELOOP;
    Die("mount point " + target);
  }
  std::vector<std::string> comps;
  for (auto& c : Split(target, '/'))
    if (!c.empty() && c != ".") comps.push_back(c);
  int cur = ::fcntl(root, F_DUPFD_CLOEXEC, kFirstFreeFd);
  std::string prefix;
  for (std::size_t i = 0; i < comps.size(); ++i) {
    prefix += (prefix.empty() ? "" : "/") + comps[i];
    bool last = i + 1 == comps.size();
    int fd = OpenInRoot(root, prefix, O_PATH);
    if (fd < 0 && errno == ENOENT) {
      struct stat st {};
      if (::fstatat(cur, comps[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        // A dangling symlink (/etc/resolv.conf -> ../run/...): make what it points to.
        char link[PATH_MAX];
        ssize_t n = ::readlinkat(cur, comps[i].c_str(), link, sizeof link - 1);
        if (n < 0) Die("reading a symlink on the way to " + target);
        std::string dest(link, static_cast<std::size_t>(n));
        if (dest.empty() || dest[0] != '/')
          dest = "/" + RelativeToRoot(cur, root_real) + "/" + dest;
        for (std::size_t k = i + 1; k < comps.size(); ++k) dest += "/" + comps[k];
        ::close(cur);
        return EnsureMountPoint(root, root_real, dest, dir, depth + 1);
      }
      int made = (!last || dir)
                     ? ::mkdirat(cur, comps[i].c_str(), 0755)
                     : ::openat(cur, comps[i].c_str(),
                                O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (made < 0) Die("creating mount point " + target);
      if (last && !dir) ::close(made);
      std::string parent = RelativeToRoot(cur, root_real);
      RecordStub((parent.empty() ? "" : parent + "/") + comps[i]);
      fd = OpenInRoot(root, prefix, O_PATH);
    }
    if (fd < 0) Die("opening mount point " + target);
    ::close(cur);
    cur = fd;
  }
  return cur;
}

void Remount(int root, const std::string& target, unsigned long flags) {
  int fd = OpenInRoot(root, target, O_PATH);
  if (fd < 0) Die("reopening " + target);
  if (::mount(nullptr, FdPath(fd).c_str(), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr) != 0)
    Die("remounting " + target);
  ::close(fd);
}

void BindMount(int root, const std::string& root_real, const std::string& source,
               const std::string& target, bool readonly);

// A bind mount of a source the caller resolved to `source_fd`. The descriptor's mount belongs to
// the mount namespace this one was copied from, and mount(2) refuses (EINVAL) a bind whose source
// is in another namespace, so the source is mounted by its path, as the kernel names it (no
// symlinks left in it), in this namespace's copy; the mounted object must then be the very inode
// the descriptor holds, or the container is not started.
void BindMountFd(int root, const std::string& root_real, int source_fd, const std::string& target,
                 bool readonly) {
  char path[PATH_MAX + 1];
  ssize_t n = ::readlink(FdPath(source_fd).c_str(), path, PATH_MAX);
  if (n <= 0) Die("bind source of " + target);
  path[n] = 0;
  struct stat want {
  }, got{};
  if (::fstat(source_fd, &want) != 0) Die("bind source of " + target);
  BindMount(root, root_real, path, target, readonly);
  int fd = OpenInRoot(root, target, O_PATH);
  if (fd < 0 || ::fstat(fd, &got) != 0) Die("checking the mount at " + target);
  ::close(fd);
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
    errno = ESTALE;
    Die("the bind source of " + target + " changed while the container was set up");
  }
}

void BindMount(int root, const std::string& root_real, const std::string& source,
               const std::string& target, bool readonly) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) Die("bind source " + source);
  int fd = EnsureMountPoint(root, root_real, target, S_ISDIR(st.st_mode));
  if (::mount(source.c_str(), FdPath(fd).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    Die("binding " + source + " to " + target);
  ::close(fd);
  if (readonly) {
    // A remount keeps only the flags it is given: carry the source mount's over.
    struct statvfs sv {};
    unsigned long keep = 0;
    if (::statvfs(source.c_str(), &sv) == 0) {
      if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
      if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
      if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    }
    Remount(root, target, MS_RDONLY | keep);
  }
}

void BindDevice(const std::string& dev_dir, const char* name) {
  std::string target = dev_dir + "/" + name;
  int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  if (fd >= 0) ::close(fd);
  std::string source = std::string("/dev/") + name;
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
    Die("binding a device");
}

void MaskPath(const char* path) {
  if (::mount("/dev/null", path, nullptr, MS_BIND, nullptr) == 0) return;
  if (errno == ENOENT) return;
  if (errno == ENOTDIR) {  // a directory: cover it with an empty read-only tmpfs
    if (::mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") ==
        0)
      return;
  }
  Die("masking a /proc or /sys path");
}

void ReadonlyPath(const char* path) {
  if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    if (errno == ENOENT) return;
    Die("binding a read-only /proc path");
  }
  if (::mount(path, path, nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    Die("making a /proc path read-only");
}

// Drops every capability outside kDefaultCaps from the bounding, ambient, effective, permitted
// and inheritable sets (inheritable ends empty, as Docker does since CVE-2022-24769), and sets
// no_new_privs so that no exec (setuid, file capabilities) grants more.
void DropPrivileges() {
  std::uint64_t keep = 0;
  for (int cap : kDefaultCaps) keep |= std::uint64_t{1} << cap;
  for (int cap = 0; cap < 64; ++cap) {
    int has = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (has < 0) break;  // past the kernel's last capability
    if (has == 1 && !(keep & (std::uint64_t{1} << cap)) &&
        ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      Die("dropping a capability from the bounding set");
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    Die("clearing ambient capabilities");
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
  if (::syscall(SYS_capset, &header, data) != 0) Die("setting capabilities");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Die("setting no_new_privs");
}

// Brings up the loopback interface of a fresh network namespace.
void LoopbackUp() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) Die("socket for the loopback interface");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) Die("reading the loopback interface");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) Die("bringing up the loopback interface");
  ::close(s);
}

// Executes the embedded init from a memfd, with only the container's environment. Never returns.
[[noreturn]] void ExecInit(const ContainerSpec& spec) {
  constexpr unsigned kMfdExec = 0x10;  // MFD_EXEC (Linux 6.3): executable even when the sysctl
                                       // vm.memfd_noexec asks for the opposite by default
  int fd = static_cast<int>(::memfd_create("init", MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdExec));
  if (fd < 0 && errno == EINVAL) fd = ::memfd_create("init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) Die("memfd_create for the init");
  std::size_t off = 0;
  while (off < minimal_init_len) {
    ssize_t n = ::write(fd, minimal_init + off, minimal_init_len - off);
    if (n <= 0) Die("writing the init");
    off += static_cast<std::size_t>(n);
  }
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  std::vector<std::string> args = {"init",
                                   "-u",
                                   std::to_string(spec.uid),
                                   "-g",
                                   std::to_string(spec.gid),
                                   "-e",
                                   std::to_string(kErrFd)};
  if (spec.linux32) args.push_back("-3");
  if (!spec.groups.empty()) {
    std::string list;
    for (unsigned g : spec.groups) list += (list.empty() ? "" : ",") + std::to_string(g);
    args.push_back("-G");
    args.push_back(list);
  }
  args.push_back("--");
  args.insert(args.end(), spec.argv.begin(), spec.argv.end());
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = spec.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  // The init reports exec failures on kErrFd; every other descriptor above stdio closes on exec.
  ::fcntl(kErrFd, F_SETFD, 0);
  ::syscall(SYS_close_range, kErrFd + 1, ~0U, CLOSE_RANGE_CLOEXEC);
  ::syscall(SYS_execveat, fd, "", argv.data(), envp.data(), AT_EMPTY_PATH);
  Die("executing the init");
}

// Pid 1 of the new pid namespace until it execs the init: sets up the filesystem, drops
// privileges, loads the seccomp filter. Never returns.
[[noreturn]] void SetUpContainer(const ContainerSpec& spec, const std::string& merged, int alive) {
  DieWithParent(alive);
  // A session of its own, so no controlling terminal: a program handed anyarch's terminal as its
  // stdio could otherwise push keystrokes into it with TIOCSTI, which the host's shell runs once
  // anyarch exits (the kernel allows TIOCSTI on a controlling terminal only, without
  // CAP_SYS_ADMIN). /dev/tty inside then fails with ENXIO, as in `docker run` without -t.
  if (::setsid() < 0) Die("starting a session");
  if (spec.controlling_tty && ::ioctl(0, TIOCSCTTY, 0) != 0)
    Die("making the container's terminal its controlling terminal");
  // runc's default umask, whatever anyarch's own is: the mount points made below and every file
  // the program creates get the modes they get under Docker and BuildKit, so that a build under
  // a umask of 0077 or 0002 gives the same layers as one under 0022.
  ::umask(022);
  int root = ::open(merged.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) Die("opening the container's root");
  char real[PATH_MAX];
  if (!::realpath(merged.c_str(), real)) Die("resolving the container's root");
  const std::string root_real = real;
  // Each mount goes onto the descriptor of its mount point (never a host path string, which
  // would follow a symlink in the image out of the root).
  auto mount_on = [&](const char* path, const char* type, unsigned long flags, const char* data) {
    int fd = EnsureMountPoint(root, root_real, path, true);
    if (::mount(type, FdPath(fd).c_str(), type, flags, data) != 0)
      Die(std::string("mounting ") + path);
    ::close(fd);
    int mounted = OpenInRoot(root, path, O_PATH | O_DIRECTORY);
    if (mounted < 0) Die(std::string("opening ") + path);
    return mounted;
  };
  ::close(mount_on("/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr));
  // nodev: a device node made inside (CAP_MKNOD is kept, as Docker does) cannot be opened; the
  // few devices the container gets are bind mounts of the host's, which keep their own flags.
  int devfd =
      mount_on("/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=755,size=65536k");
  const std::string dev = FdPath(devfd);
  for (const char* d : {"null", "zero", "full", "random", "urandom", "tty"}) BindDevice(dev, d);
  ::mkdirat(devfd, "pts", 0755);
  ::mount("devpts", (dev + "/pts").c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
          "newinstance,ptmxmode=0666,mode=0620");
  ::mkdirat(devfd, "shm", 01777);
  ::mount("shm", (dev + "/shm").c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "mode=1777,size=65536k");
  ::symlinkat("/proc/self/fd", devfd, "fd");
  ::symlinkat("/proc/self/fd/0", devfd, "stdin");
  ::symlinkat("/proc/self/fd/1", devfd, "stdout");
  ::symlinkat("/proc/self/fd/2", devfd, "stderr");
  ::symlinkat("pts/ptmx", devfd, "ptmx");
  ::close(devfd);
  {
    int sysfd = EnsureMountPoint(root, root_real, "/sys", true);
    const std::string sys = FdPath(sysfd);
    if (::mount("sysfs", sys.c_str(), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                nullptr) != 0) {
      // In the host's network namespace sysfs may be refused: bind the host's read-only.
      if (::mount("/sys", sys.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0)
        Remount(root, "/sys", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
    ::close(sysfd);
  }
  {
    // /tmp is no mount, but a missing one is made (world-writable, as images have it) and
    // recorded like the mount points.
    int tmp = OpenInRoot(root, "tmp", O_PATH);
    bool missing = tmp < 0 && errno == ENOENT;
    if (tmp >= 0) ::close(tmp);
    if (missing) {
      tmp = EnsureMountPoint(root, root_real, "/tmp", true);
      ::chmod(FdPath(tmp).c_str(), 01777);
      ::close(tmp);
    }
  }
  for (const auto& f : kEtcFiles)
    BindMount(root, root_real, spec.state_dir + "/" + f.state_name, f.target, false);
  int next_source_fd = kFirstFreeFd;  // where ArrangeDescriptors put the mounts' source fds
  for (const auto& m : spec.mounts) {
    if (m.type == Mount::Type::kBind && m.source_fd >= 0) {
      BindMountFd(root, root_real, next_source_fd++, m.target, m.readonly);
    } else if (m.type == Mount::Type::kBind) {
      BindMount(root, root_real, m.source, m.target, m.readonly);
    } else {
      int fd = EnsureMountPoint(root, root_real, m.target, true);
      if (::mount("tmpfs", FdPath(fd).c_str(), "tmpfs",
                  MS_NOSUID | MS_NODEV | (m.readonly ? MS_RDONLY : 0), m.options.c_str()) != 0)
        Die("mounting a tmpfs on " + m.target);
      ::close(fd);
    }
  }
  std::string old = merged + "/.anyarch-oldroot";
  ::mkdir(old.c_str(), 0700);
  if (::syscall(SYS_pivot_root, merged.c_str(), old.c_str()) != 0) Die("pivot_root");
  if (::chdir("/") != 0) Die("chdir /");
  if (::umount2("/.anyarch-oldroot", MNT_DETACH) != 0) Die("detaching the old root");
  ::rmdir("/.anyarch-oldroot");
  ::close(root);
  for (const char* p : kReadonlyPaths) ReadonlyPath(p);
  for (const char* p : kMaskedPaths) MaskPath(p);
  ::sethostname(spec.hostname.c_str(), spec.hostname.size());
  if (::chdir(spec.cwd.c_str()) != 0) {
    ::mkdir(spec.cwd.c_str(), 0755);
    if (::chdir(spec.cwd.c_str()) != 0) Die("changing to the working directory " + spec.cwd);
  }
  ::close(kStubsFd);
  // binfmt_misc needs nothing from here on: with the F flag the kernel holds qemu open already.
  DropPrivileges();
  if (spec.seccomp) {
    auto st = LoadDefaultSeccomp();
    if (!st) {
      errno = EPERM;
      Die(st.error().ToString());
    }
  }
  DieWithParent(alive);  // capset may not clear the parent-death signal, but do not rely on it
  ::close(alive);
  ExecInit(spec);
}

// Gives the monitor exactly its descriptors: stdio (the spec's or anyarch's), kErrFd, kReportFd,
// kControlFd, kStubsFd; everything else is closed, so a container started from another thread
// at the same time never keeps this one's pipes open, nor this one theirs.
void ArrangeDescriptors(const ContainerSpec& spec, int err, int report, int control, int stubs) {
  int want[kFirstFreeFd] = {spec.stdin_fd < 0 ? 0 : spec.stdin_fd,
                            spec.stdout_fd < 0 ? 1 : spec.stdout_fd,
                            spec.stderr_fd < 0 ? 2 : spec.stderr_fd,
                            err,
                            report,
                            control,
                            stubs};
  // The copies go above every target descriptor, so no dup2 below overwrites one of them; not
  // at a fixed high number, which may be past RLIMIT_NOFILE (1024 for most users).
  int above = kFirstFreeFd;
  for (const auto& m : spec.mounts)
    if (m.type == Mount::Type::kBind && m.source_fd >= 0) ++above;
  int high[kFirstFreeFd];
  for (int i = 0; i < kFirstFreeFd; ++i) {
    high[i] = ::fcntl(want[i], F_DUPFD_CLOEXEC, above);
    if (high[i] < 0) ::_exit(125);
  }
  // Then the bind mounts' source descriptors, in the order of spec.mounts, from kFirstFreeFd on.
  std::vector<int> sources;
  for (const auto& m : spec.mounts) {
    if (m.type != Mount::Type::kBind || m.source_fd < 0) continue;
    int h = ::fcntl(m.source_fd, F_DUPFD_CLOEXEC, above);
    if (h < 0) ::_exit(125);
    sources.push_back(h);
  }
  for (int i = 0; i < kFirstFreeFd; ++i) {
    if (::dup2(high[i], i) < 0) ::_exit(125);
    if (i >= kErrFd) ::fcntl(i, F_SETFD, FD_CLOEXEC);
  }
  int last = kFirstFreeFd;
  for (int h : sources) {
    if (::dup2(h, last) < 0) ::_exit(125);
    ::fcntl(last++, F_SETFD, FD_CLOEXEC);
  }
  ::syscall(SYS_close_range, last, ~0U, 0);
}

// Outside the new pid namespace (it belongs to anyarch's), inside the new mount namespace: starts
// pid 1 and waits for it, taking Run's commands from kControlFd. The timeout is enforced here:
// killing pid 1 makes the kernel kill every process of the namespace, and waitpid returns only
// once they are all gone. Writes a Report to kReportFd. Never returns.
[[noreturn]] void Monitor(const ContainerSpec& spec, const std::string& merged,
                          const std::string& lowerdir, const std::string& upper,
                          const std::string& work) {
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  if (spec.network != Network::kHost) flags |= CLONE_NEWNET;
  if (::unshare(flags) != 0) Die("unshare");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    Die("making mounts private");
  if (flags & CLONE_NEWNET) LoopbackUp();
  std::string opts = "lowerdir=" + lowerdir + ",upperdir=" + upper + ",workdir=" + work +
                     OverlayNamespaceOptions();
  // nodev: device nodes in the image or made inside are never usable. nosuid: a setuid file is
  // inert inside anyway (no_new_privs), and through /proc/PID/root it must grant nothing either.
  if (::mount("overlay", merged.c_str(), "overlay", MS_NODEV | MS_NOSUID, opts.c_str()) != 0)
    Die("mounting overlay");
  if (spec.network == Network::kDefault) {
    // Run attaches slirp4netns to this namespace; the program starts once it is connected.
    if (::write(kReportFd, &kNetnsReady, 1) != 1) Die("reporting the network namespace");
    unsigned char c = kControlKill;
    if (::read(kControlFd, &c, 1) != 1 || c != kControlGo) ::_exit(125);
  }
  int alive[2];
  if (::pipe2(alive, O_CLOEXEC) != 0) Die("pipe");
  pid_t pid = ::fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    ::close(alive[1]);
    ::close(kReportFd);
    ::close(kControlFd);
    SetUpContainer(spec, merged, alive[0]);
  }
  ::close(alive[0]);  // alive[1] stays open until this process dies
  ::close(kStubsFd);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    ::kill(pid, SIGKILL);
    Die("pidfd_open");
  }
  Report report;
  auto deadline = std::chrono::steady_clock::now() + spec.timeout;
  bool control_open = true, killed = false;
  for (;;) {
    int wait_ms = -1;
    if (spec.timeout.count() > 0 && !killed) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        report.timed_out = 1;
        ::kill(pid, SIGKILL);
        killed = true;
        continue;
      }
      wait_ms = static_cast<int>(std::min<long long>(left, 1 << 30));
    }
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {control_open ? kControlFd : -1, POLLIN, 0}};
    int r = ::poll(fds, 2, wait_ms);
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents) break;
    if (fds[1].revents) {
      unsigned char c = 0;
      ssize_t n = ::read(kControlFd, &c, 1);
      if (n <= 0) {
        control_open = false;  // Run went away; the parent-death signal ends us
      } else if (c == kControlKill) {
        report.cancelled = 1;
        ::kill(pid, SIGKILL);
        killed = true;
      } else {
        ::kill(pid, c);
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) ::_exit(125);
  }
  // A program that ended on its own just as the timer ran out did not time out.
  bool by_kill = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!by_kill) report.timed_out = report.cancelled = 0;
  report.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  ssize_t ignored = ::write(kReportFd, &report, sizeof report);
  (void)ignored;
  ::_exit(report.exit_code & 0xff);
}

std::string HostResolvConf() {
  auto r = ReadFile("/etc/resolv.conf", 1 << 16);
  return r ? *r : std::string();
}

// /etc/hosts, /etc/resolv.conf and /etc/hostname for the container, written into state_dir.
Status WriteEtcFiles(const ContainerSpec& spec) {
  std::string hosts =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" +
      spec.hostname + "\n";
  std::string resolv;
  switch (spec.network) {
    case Network::kNone:
      resolv = "# no network\n";
      break;
    case Network::kHost:
      resolv = HostResolvConf();
      break;
    case Network::kDefault:
      resolv = std::string("nameserver ") + kDefaultNetworkDns + "\n";
      break;
  }
  const std::string files[] = {hosts, resolv, spec.hostname + "\n"};
  for (std::size_t i = 0; i < std::size(kEtcFiles); ++i) {
    ANYARCH_CHECK(WriteFileAtomic(fs::path(spec.state_dir) / kEtcFiles[i].state_name, files[i]));
  }
  return Ok();
}

// Opens directory `rel` under `base` without following any symlink or crossing a mount.
int OpenBeneath(int base, const std::string& rel) {
  return Openat2(base, rel.empty() ? "." : rel.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC,
                 RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_XDEV);
}

// Removes from upper/ what the mount points created there, deepest first, while it is still
// empty. Paths are resolved under upper/ without following any symlink: the program may have
// replaced a directory on the way with one. A directory above a created mount point that existed
// below was copied up by the overlay only to hold it: it goes too when it is empty, not opaque,
// and still has the owner and mode of the lower directory it hides.
void RemoveStubs(const std::string& upper, const std::vector<std::string>& lowers,
                 const std::string& list) {
  std::vector<std::string> created;
  // /proc, /dev and /sys stay: runc creates them in the rootfs and BuildKit keeps them in the
  // layer, so a RUN on a base without them gives the same filesystem here.
  for (auto& p : Split(list, '\0')) {
    if (p.empty()) continue;
    std::string top = p.front() == '/' ? p.substr(1) : p;
    if (top != "proc" && top != "dev" && top != "sys") created.push_back(p);
  }
  std::vector<std::pair<std::string, bool>> paths;  // (path, created by us)
  for (const auto& p : created) {
    paths.emplace_back(p, true);
    for (auto slash = p.rfind('/'); slash != std::string::npos && slash > 0;
         slash = p.rfind('/', slash - 1)) {
      std::string parent = p.substr(0, slash);
      if (std::find(created.begin(), created.end(), parent) == created.end())
        paths.emplace_back(parent, false);
    }
  }
  std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) {
    auto depth = [](const std::string& s) { return std::count(s.begin(), s.end(), '/'); };
    return depth(a.first) != depth(b.first) ? depth(a.first) > depth(b.first) : a < b;
  });
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  int up = ::open(upper.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (up < 0) return;
  for (const auto& [path, ours] : paths) {
    std::string parent = path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/'));
    std::string name = path.substr(path.rfind('/') + 1);
    int dir = OpenBeneath(up, parent);
    if (dir < 0) continue;
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (!ours && S_ISDIR(st.st_mode)) {
        bool same = false;
        for (const auto& l : lowers) {
          int lo = ::open(l.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
          if (lo < 0) continue;
          int d = OpenBeneath(lo, path);
          ::close(lo);
          if (d < 0) continue;  // not in this lower: look further down
          struct stat ls {};
          same = ::fstat(d, &ls) == 0 && ls.st_mode == st.st_mode && ls.st_uid == st.st_uid &&
                 ls.st_gid == st.st_gid;
          ::close(d);
          break;
        }
        std::string full = upper + "/" + path;
        char xattr[4];
        bool opaque =
            ::lgetxattr(full.c_str(), "trusted.overlay.opaque", xattr, sizeof xattr) > 0 ||
            ::lgetxattr(full.c_str(), "user.overlay.opaque", xattr, sizeof xattr) > 0;
        if (same && !opaque) ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
      } else if (ours && S_ISDIR(st.st_mode)) {
        ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);  // fails, as wanted, when not empty
      } else if (ours && S_ISREG(st.st_mode) && st.st_size == 0) {
        ::unlinkat(dir, name.c_str(), 0);
      }
    }
    ::close(dir);
  }
  ::close(up);
}

Status CheckSpec(const ContainerSpec& spec) {
  if (spec.argv.empty()) return MakeError(ErrorCode::kInvalid, "no command to run");
  if (spec.timeout.count() < 0 || spec.timeout.count() > 0x7fffffff)
    return MakeError(ErrorCode::kInvalid, "bad timeout");
  if (spec.state_dir.empty()) return MakeError(ErrorCode::kInvalid, "no state directory");
  if (spec.groups.size() > 64)
    return MakeError(ErrorCode::kInvalid, "the user is in " + std::to_string(spec.groups.size()) +
                                              " groups; a container allows at most 64");
  std::vector<std::string> lowers = spec.lowers;
  if (lowers.empty()) lowers.push_back(spec.rootfs);
  for (const auto& l : lowers) {
    if (l.empty() || l.find_first_of(",:\\") != std::string::npos)
      return MakeError(ErrorCode::kInvalid,
                       "lower directory '" + l + "' is empty or has ',', ':' or '\\' in it");
  }
  for (const auto& m : spec.mounts) {
    if (m.target.empty() || m.target[0] != '/')
      return MakeError(ErrorCode::kInvalid, "mount target '" + m.target + "' is not absolute");
    for (const auto& c : Split(m.target, '/'))
      if (c == "..")
        return MakeError(ErrorCode::kInvalid, "mount target '" + m.target + "' has '..' in it");
    if (m.type == Mount::Type::kBind) {
      struct stat st {};
      int r = m.source_fd >= 0 ? ::fstat(m.source_fd, &st) : ::stat(m.source.c_str(), &st);
      if (r != 0) return Unexpected(ErrnoError(errno, "bind mount source " + m.source));
    }
  }
  return Ok();
}

// Reads what is in a pipe whose writers are all gone or done, without waiting.
std::string Drain(int fd, std::size_t max) {
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Waits for the monitor's network namespace, connects it with slirp4netns, and lets the monitor
// go on.
Result<UserNetwork> ConnectNetwork(const ContainerSpec& spec, pid_t monitor, int pidfd, int report,
                                   int control) {
  pollfd fds[2] = {{report, POLLIN, 0}, {pidfd, POLLIN, 0}};
  unsigned char c = 0;
  if (::poll(fds, 2, 30000) <= 0 || !(fds[0].revents & POLLIN) || ::read(report, &c, 1) != 1 ||
      c != kNetnsReady) {
    return MakeError(ErrorCode::kInternal, "the container's network namespace was not made");
  }
  ANYARCH_TRY(auto net, UserNetwork::Start(monitor, spec.state_dir + "/slirp4netns.log"));
  if (::write(control, &kControlGo, 1) != 1)
    return Unexpected(ErrnoError(errno, "starting the container"));
  return net;
}

}  // namespace

sigset_t ForwardedSignals() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int sig : kForwarded) ::sigaddset(&set, sig);
  return set;
}

sigset_t BlockForwardedSignals() {
  sigset_t set = ForwardedSignals(), old;
  ::pthread_sigmask(SIG_BLOCK, &set, &old);
  return old;
}

Result<ContainerResult> Run(const ContainerSpec& spec) {
  ANYARCH_CHECK(CheckSpec(spec));
  if (::geteuid() != 0)
    return MakeError(ErrorCode::kDenied, "running a container needs root (namespaces, mounts)");
  std::string upper = spec.state_dir + "/upper", work = spec.state_dir + "/work",
              merged = spec.state_dir + "/merged";
  std::error_code ec;
  fs::create_directories(spec.state_dir, ec);
  if (ec) return MakeError(ErrorCode::kIo, spec.state_dir + ": " + ec.message());
  // Private: upper/ collects whatever the program writes, setuid files included.
  if (::chmod(spec.state_dir.c_str(), 0700) != 0)
    return Unexpected(ErrnoError(errno, "chmod " + spec.state_dir));
  for (const auto& d : {upper, work, merged}) {
    fs::create_directories(d, ec);
    if (ec) return MakeError(ErrorCode::kIo, d + ": " + ec.message());
  }
  // The overlay's root takes upper/'s mode: 0755 as images have it, not what anyarch's umask
  // gave (0700 under umask 0077, and `--user nobody` could not reach anything).
  if (::chmod(upper.c_str(), 0755) != 0) return Unexpected(ErrnoError(errno, "chmod " + upper));
  ANYARCH_CHECK_CTX(WriteEtcFiles(spec), "writing the container's /etc files");
  std::string lowerdir;
  for (const auto& l : spec.lowers) lowerdir += (lowerdir.empty() ? "" : ":") + l;
  if (lowerdir.empty()) lowerdir = spec.rootfs;

  UniqueFd stubs(::open((spec.state_dir + "/mount-stubs").c_str(),
                        O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (stubs.get() < 0) return Unexpected(ErrnoError(errno, "creating the mount stub list"));
  int errpipe[2], reportpipe[2], controlpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  UniqueFd err_r(errpipe[0]), err_w(errpipe[1]);
  if (::pipe2(reportpipe, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  UniqueFd report_r(reportpipe[0]), report_w(reportpipe[1]);
  if (::pipe2(controlpipe, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  UniqueFd control_r(controlpipe[0]), control_w(controlpipe[1]);
  UniqueFd sigfd;
  if (spec.forward_signals) {
    sigset_t set = ForwardedSignals();
    sigfd = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (sigfd.get() < 0) return Unexpected(ErrnoError(errno, "signalfd"));
  }

  // The monitor starts with the forwarded signals blocked (and keeps them so): a Ctrl-C sent to
  // the whole process group must not kill it, only reach the container.
  sigset_t old_mask = BlockForwardedSignals();
  const pid_t self = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != self) ::_exit(125);  // anyarch died before the prctl
    ArrangeDescriptors(spec, err_w.get(), report_w.get(), control_r.get(), stubs.get());
    Monitor(spec, merged, lowerdir, upper, work);
  }
  int fork_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (pid < 0) return Unexpected(ErrnoError(fork_err, "fork"));
  err_w = UniqueFd();
  report_w = UniqueFd();
  control_r = UniqueFd();
  ::fcntl(control_w.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(report_r.get(), F_SETFL, O_NONBLOCK);

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() < 0) {
    int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return Unexpected(ErrnoError(err, "pidfd_open"));
  }
  std::optional<UserNetwork> network;  // stopped when Run returns
  if (spec.network == Network::kDefault) {
    auto net = ConnectNetwork(spec, pid, pidfd.get(), report_r.get(), control_w.get());
    if (!net) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return Unexpected(std::move(net.error()));
    }
    network.emplace(std::move(*net));
  }
  bool cancel_sent = false;
  for (;;) {
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
    int r = ::poll(fds, 2, spec.cancel && !cancel_sent ? 50 : -1);
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents) break;
    if (spec.cancel && !cancel_sent && spec.cancel->load()) {
      unsigned char c = kControlKill;
      if (::write(control_w.get(), &c, 1) == 1) cancel_sent = true;
    }
    if (fds[1].revents) {
      signalfd_siginfo si{};
      while (::read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        auto c = static_cast<unsigned char>(si.ssi_signo);
        ssize_t ignored = ::write(control_w.get(), &c, 1);
        (void)ignored;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  Report report{};
  ssize_t got = ::read(report_r.get(), &report, sizeof report);
  std::string setup_error = Drain(err_r.get(), 4096);
  if (spec.remove_mount_stubs) {
    ::lseek(stubs.get(), 0, SEEK_SET);
    std::vector<std::string> lowers = spec.lowers;
    if (lowers.empty()) lowers.push_back(spec.rootfs);
    RemoveStubs(upper, lowers, Drain(stubs.get(), 1 << 20));
  }
  ::unlink((spec.state_dir + "/mount-stubs").c_str());

  ContainerResult result;
  bool reported = got == static_cast<ssize_t>(sizeof report);
  if (reported && report.cancelled) {
    result.cancelled = true;
    result.exit_code = 128 + SIGKILL;
    return result;
  }
  if (reported && report.timed_out) {
    result.timed_out = true;
    result.exit_code = 124;
    return result;
  }
  int code = reported ? report.exit_code
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

#include "isolation/userns.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "base/fs.h"
#include "base/process.h"
#include "base/strings.h"

namespace anyarch::isolation {

namespace {

std::uint32_t g_host_uid = static_cast<std::uint32_t>(::getuid());
std::uint32_t g_host_gid = static_cast<std::uint32_t>(::getgid());
bool g_entered = false;

bool ParseU32(const std::string& s, std::uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > std::numeric_limits<std::uint32_t>::max()) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

bool Overlaps(const std::vector<IdRange>& have, std::uint64_t start, std::uint64_t count) {
  for (const auto& r : have) {
    if (start < std::uint64_t{r.outside} + r.count && std::uint64_t{r.outside} < start + count)
      return true;
  }
  return false;
}

std::vector<IdRange> Numbered(std::uint32_t self, const std::vector<IdRange>& ranges) {
  std::vector<IdRange> out = {{0, self, 1}};
  std::uint64_t next = 1;
  for (const auto& r : ranges) {
    if (Overlaps(out, r.outside, r.count)) continue;
    if (next + r.count > std::numeric_limits<std::uint32_t>::max()) break;
    out.push_back({static_cast<std::uint32_t>(next), r.outside, r.count});
    next += r.count;
  }
  return out;
}

// Forks and execs argv, waits; the exit status, or -1.
int RunHelper(const std::vector<std::string>& argv) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> HelperArgs(const std::string& helper, pid_t target,
                                    const std::vector<IdRange>& map) {
  std::vector<std::string> args = {helper, std::to_string(target)};
  for (const auto& r : map) {
    args.push_back(std::to_string(r.inside));
    args.push_back(std::to_string(r.outside));
    args.push_back(std::to_string(r.count));
  }
  return args;
}

tl::unexpected<Error> SysError(ErrorCode code, const std::string& what) {
  return MakeError(code, what + ": " + std::strerror(errno));
}

Status WriteProcFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return MakeError(ErrorCode::kDenied, path + ": " + std::strerror(errno));
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return MakeError(ErrorCode::kDenied, "writing " + path + ": " + std::strerror(err));
  return Ok();
}

}  // namespace

std::vector<IdRange> SubordinateRanges(const std::string& text, const std::string& name,
                                       std::uint32_t id) {
  std::vector<IdRange> out;
  const std::string id_text = std::to_string(id);
  for (const auto& raw : Split(text, '\n')) {
    std::string line(TrimSpace(raw));
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, ':');
    if (f.size() != 3) continue;
    if (f[0] != id_text && (name.empty() || f[0] != name)) continue;
    IdRange r;
    if (!ParseU32(f[1], r.outside) || !ParseU32(f[2], r.count) || r.count == 0) continue;
    if (std::uint64_t{r.outside} + r.count > std::numeric_limits<std::uint32_t>::max()) continue;
    out.push_back(r);
  }
  return out;
}

IdMapPlan PlanIdMap(std::uint32_t uid, std::uint32_t gid, const std::string& user,
                    const std::string& subuid_text, const std::string& subgid_text,
                    const std::string& newuidmap, const std::string& newgidmap) {
  IdMapPlan plan;
  auto sub_u = SubordinateRanges(subuid_text, user, uid);
  auto sub_g = SubordinateRanges(subgid_text, user, gid);
  if (sub_u.empty() || sub_g.empty()) {
    plan.single_reason = std::string(sub_u.empty() ? "/etc/subuid" : "/etc/subgid") + " grants " +
                         (user.empty() ? "this user" : user) + " no range";
  } else if (newuidmap.empty() || newgidmap.empty()) {
    plan.single_reason = "newuidmap/newgidmap are not installed (Debian package uidmap)";
  } else {
    plan.subordinate = true;
    plan.newuidmap = newuidmap;
    plan.newgidmap = newgidmap;
    plan.uids = Numbered(uid, sub_u);
    plan.gids = Numbered(gid, sub_g);
    return plan;
  }
  plan.uids = {{0, uid, 1}};
  plan.gids = {{0, gid, 1}};
  return plan;
}

std::string UserName(std::uint32_t uid) {
  struct passwd pw {
  }, *res = nullptr;
  char buf[4096];
  if (::getpwuid_r(static_cast<uid_t>(uid), &pw, buf, sizeof buf, &res) == 0 && res)
    return pw.pw_name;
  return "";
}

IdMapPlan PlanIdMapForCaller() {
  auto helper = [](const char* name) {
    std::string p = FindInPath(name);
    for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/bin/"}) {
      if (!p.empty()) break;
      std::string c = std::string(dir) + name;
      if (::access(c.c_str(), X_OK) == 0) p = c;
    }
    return p;
  };
  auto subuid = ReadFile("/etc/subuid", 1 << 20);
  auto subgid = ReadFile("/etc/subgid", 1 << 20);
  const auto uid = static_cast<std::uint32_t>(::getuid());
  return PlanIdMap(uid, static_cast<std::uint32_t>(::getgid()), UserName(uid),
                   subuid ? *subuid : "", subgid ? *subgid : "", helper("newuidmap"),
                   helper("newgidmap"));
}

std::string MapText(const std::vector<IdRange>& ranges) {
  std::string out;
  for (const auto& r : ranges)
    out += std::to_string(r.inside) + " " + std::to_string(r.outside) + " " +
           std::to_string(r.count) + "\n";
  return out;
}

std::uint32_t MappedIds(const std::vector<IdRange>& ranges) {
  std::uint64_t n = 0;
  for (const auto& r : ranges) n += r.count;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, 0xffffffffu));
}

Status EnterUserNamespace(const IdMapPlan& plan) {
  const pid_t self = ::getpid();
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return SysError(ErrorCode::kIo, "pipe");
  pid_t helper = -1;
  if (plan.subordinate) {
    // Forked before the unshare, so it stays in the host's namespace, where newuidmap must run.
    helper = ::fork();
    if (helper < 0) return SysError(ErrorCode::kIo, "fork");
    if (helper == 0) {
      ::close(go[1]);
      char c = 0;
      if (::read(go[0], &c, 1) != 1 || c != 'u') ::_exit(1);
      if (RunHelper(HelperArgs(plan.newuidmap, self, plan.uids)) != 0) ::_exit(2);
      if (RunHelper(HelperArgs(plan.newgidmap, self, plan.gids)) != 0) ::_exit(3);
      ::_exit(0);
    }
  }
  ::close(go[0]);
  int unshare_errno = ::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno;
  if (helper > 0) {
    if (unshare_errno == 0) {
      ssize_t ignored = ::write(go[1], "u", 1);
      (void)ignored;
    }
    ::close(go[1]);
    int status = 0;
    while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
    }
    if (unshare_errno == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return MakeError(ErrorCode::kUnavailable,
                       std::string(code == 3 ? plan.newgidmap : plan.newuidmap) +
                           " could not map this user's subordinate ids (see its message above; "
                           "check /etc/subuid and /etc/subgid)");
    }
  } else {
    ::close(go[1]);
  }
  if (unshare_errno != 0) {
    errno = unshare_errno;
    return SysError(ErrorCode::kDenied,
                    "creating a user namespace (is kernel.unprivileged_userns_clone or "
                    "user.max_user_namespaces set to 0? AppArmor's "
                    "kernel.apparmor_restrict_unprivileged_userns=1 also refuses it)");
  }
  if (!plan.subordinate) {
    ANYARCH_CHECK(WriteProcFile("/proc/self/setgroups", "deny"));
    ANYARCH_CHECK(WriteProcFile("/proc/self/uid_map", MapText(plan.uids)));
    ANYARCH_CHECK(WriteProcFile("/proc/self/gid_map", MapText(plan.gids)));
  } else if (::setgroups(0, nullptr) != 0) {
    return SysError(ErrorCode::kDenied, "dropping the host's supplementary groups");
  }
  if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)
    return SysError(ErrorCode::kDenied, "becoming root of the user namespace");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return SysError(ErrorCode::kDenied, "making the mounts of the new namespace private");
  g_entered = true;
  return Ok();
}

UserNamespaceAbilities ProbeUserNamespace(const std::string& scratch) {
  UserNamespaceAbilities a;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    a.userns_error = std::strerror(errno);
    return a;
  }
  const std::uint32_t uid = static_cast<std::uint32_t>(::geteuid()),
                      gid = static_cast<std::uint32_t>(::getegid());
  pid_t child = ::fork();
  if (child == 0) {
    ::close(p[0]);
    // Three errno values: user namespace, overlay, binfmt_misc (0: worked).
    int res[3] = {0, -1, -1};
    auto send = [&] {
      ssize_t ignored = ::write(p[1], res, sizeof res);
      (void)ignored;
      ::_exit(0);
    };
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      res[0] = errno;
      send();
    }
    if (!WriteProcFile("/proc/self/setgroups", "deny") ||
        !WriteProcFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") ||
        !WriteProcFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n") ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      res[0] = errno ? errno : EPERM;
      send();
    }
    std::string d = scratch + "/";
    for (const char* n : {"l", "u", "w", "m", "b"}) ::mkdir((d + n).c_str(), 0700);
    std::string opts = "lowerdir=" + d + "l,upperdir=" + d + "u,workdir=" + d + "w,userxattr";
    res[1] = ::mount("overlay", (d + "m").c_str(), "overlay", 0, opts.c_str()) == 0 ? 0 : errno;
    if (res[1] == 0) ::umount2((d + "m").c_str(), MNT_DETACH);
    res[2] = ::mount("binfmt_misc", (d + "b").c_str(), "binfmt_misc", 0, nullptr) == 0 ? 0 : errno;
    if (res[2] == 0) ::umount2((d + "b").c_str(), MNT_DETACH);
    ::rmdir((d + "w/work").c_str());
    for (const char* n : {"l", "u", "w", "m", "b"}) ::rmdir((d + n).c_str());
    send();
  }
  ::close(p[1]);
  int res[3] = {ENOSYS, -1, -1};
  if (child > 0) {
    ssize_t n = ::read(p[0], res, sizeof res);
    if (n != static_cast<ssize_t>(sizeof res)) res[0] = ECHILD;
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  ::close(p[0]);
  auto text = [](int e) { return e > 0 ? std::string(std::strerror(e)) : std::string(); };
  a.userns = res[0] == 0;
  a.userns_error = text(res[0]);
  a.overlay = a.userns && res[1] == 0;
  a.overlay_error = text(res[1]);
  a.binfmt = a.userns && res[2] == 0;
  a.binfmt_error = text(res[2]);
  return a;
}

std::uint32_t HostUid() { return g_host_uid; }
std::uint32_t HostGid() { return g_host_gid; }
bool EnteredUserNamespace() { return g_entered; }

std::vector<IdRange> CurrentUidMap() {
  std::vector<IdRange> out;
  auto text = ReadFile("/proc/self/uid_map", 1 << 16);
  if (!text) return out;
  for (const auto& line : Split(*text, '\n')) {
    std::vector<std::string> f;
    for (auto& w : Split(line, ' '))
      if (!w.empty()) f.push_back(w);
    IdRange r;
    if (f.size() == 3 && ParseU32(f[0], r.inside) && ParseU32(f[1], r.outside) &&
        ParseU32(f[2], r.count))
      out.push_back(r);
  }
  return out;
}

bool InUserNamespace() {
  if (g_entered) return true;
  // Only EnterUserNamespace changes the answer: /proc is read once, not at every mount.
  static const bool nested = [] {
    auto map = CurrentUidMap();
    return !(map.size() == 1 && map[0].inside == 0 && map[0].outside == 0 &&
             map[0].count == 0xffffffffu);
  }();
  return nested;
}

std::string OverlayNamespaceOptions() { return InUserNamespace() ? ",userxattr" : ""; }

}  // namespace anyarch::isolation

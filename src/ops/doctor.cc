#include "ops/doctor.h"

#include <sched.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/fs.h"
#include "base/strings.h"
#include "emulation/binfmt.h"
#include "platform/platform.h"
#include "registry/config.h"

namespace anyarch::ops {

namespace fs = std::filesystem;

bool DoctorReport::ok() const {
  return std::none_of(checks.begin(), checks.end(),
                      [](const DoctorCheck& c) { return c.status == "fail"; });
}

namespace {

// Runs unshare(flags) in a child process so this process is left as it is.
bool CanUnshare(int flags) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) ::_exit(::unshare(flags) == 0 ? 0 : 1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool FilesystemKnown(const std::string& name) {
  std::ifstream in("/proc/filesystems");
  std::string line;
  while (std::getline(in, line)) {
    auto t = TrimSpace(line);
    auto tab = t.find_last_of(" \t");
    if ((tab == std::string_view::npos ? t : t.substr(tab + 1)) == name) return true;
  }
  return false;
}

// Checks the registries config with the parser the registry client uses, so doctor and every
// command agree on what the file means.
DoctorCheck ConfigCheck(const std::string& path) {
  DoctorCheck c{.name = "config"};
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec)) {
    c.status = "ok";
    c.detail =
        "no config file at " + (path.empty() ? std::string("(none)") : path) + " (defaults apply)";
    return c;
  }
  auto cfg = registry::LoadRegistriesConfig(path);
  if (!cfg) {
    c.status = "fail";
    c.detail = cfg.error().ToString();
    c.fix = "correct it; see \"The registries config\" in docs/transfer.md for the keys";
    return c;
  }
  std::vector<std::string> hosts;
  for (const auto& [host, h] : cfg->hosts) hosts.push_back(host);
  c.detail = path + ": " +
             (hosts.empty() ? std::string("no registries configured")
                            : "settings for " + Join(hosts, ", "));
  if (cfg->warnings.empty()) {
    c.status = "ok";
  } else {
    c.status = "warn";
    c.detail += "; " + Join(cfg->warnings, "; ");
    c.fix = "remove what anyarch ignores, or keep it if the file is shared with buildkitd";
  }
  return c;
}

}  // namespace

DoctorReport Doctor(const DoctorOptions& o) {
  DoctorReport r;
  // An ordinary user's build and run work in a user namespace of their own (ops/rootless.h):
  // what matters is what that namespace may do, not what this process may do outside it.
  const bool rootless = ::geteuid() != 0;
  auto add = [&](DoctorCheck c) { r.checks.push_back(std::move(c)); };
  emulation::KernelInfo k = emulation::DetectKernel();
  {
    DoctorCheck c{.name = "kernel"};
    c.detail = "Linux " + k.release + ": binfmt F flag " +
               (k.fix_binary ? "yes" : "no (needs 4.8)") + ", P visible to qemu " +
               (k.argv0_visible ? "yes" : "no (needs 5.12)") + ", namespaced binfmt_misc " +
               ((k.major > 6 || (k.major == 6 && k.minor >= 7)) ? "yes" : "no (needs 6.7)");
    c.status = k.fix_binary ? "ok" : "warn";
    if (!k.fix_binary)
      c.fix = "upgrade to kernel 4.8 or later so emulation works inside chroots and containers";
    add(c);
  }
  bool mounted = emulation::IsMounted();
  {
    DoctorCheck c{.name = "binfmt_misc"};
    c.status = mounted ? "ok" : "fail";
    c.detail = mounted ? std::string("mounted at ") + emulation::kDefaultMount : "not mounted";
    if (!mounted)
      c.fix =
          "anyarch binfmt install (mounts it), or: mount -t binfmt_misc binfmt_misc "
          "/proc/sys/fs/binfmt_misc";
    add(c);
  }
  {
    DoctorCheck c{.name = "emulators"};
    std::vector<std::string> registered, missing, broken;
    for (const auto& a : emulation::Arches()) {
      if (a.probe_code.empty() || a.family == emulation::HostFamily()) continue;
      auto e = mounted ? emulation::ReadEntry(emulation::EntryName(a))
                       : Result<emulation::Entry>(MakeError(ErrorCode::kNotFound, ""));
      if (!e) {
        missing.emplace_back(a.cpu);
        continue;
      }
      std::error_code ec;
      if (!fs::exists(e->interpreter, ec) || e->flags.find('F') == std::string::npos) {
        broken.push_back(std::string(a.cpu) + " (" + e->interpreter + ", flags " + e->flags + ")");
      } else {
        registered.emplace_back(a.cpu);
      }
    }
    c.detail = "registered: " + (registered.empty() ? std::string("none") : Join(registered, " "));
    if (!missing.empty()) c.detail += "; missing: " + Join(missing, " ");
    if (!broken.empty()) c.detail += "; without F or interpreter: " + Join(broken, ", ");
    c.status = (missing.empty() && broken.empty()) ? "ok" : (registered.empty() ? "fail" : "warn");
    if (c.status != "ok")
      c.fix = "apt-get install qemu-user-static && anyarch binfmt install --force all";
    if (rootless && k.major * 100 + k.minor >= 607 && c.status != "ok") {
      c.status = "ok";
      c.detail += " (the host's entries; your builds register qemu in a namespace of their own)";
      c.fix.clear();
    }
    add(c);
  }
  {
    DoctorCheck c{.name = "overlayfs"};
    bool ok = FilesystemKnown("overlay");
    c.status = ok ? "ok" : "warn";
    c.detail = ok ? "available" : "not in /proc/filesystems";
    if (!ok) c.fix = "modprobe overlay (anyarch run falls back to copying the rootfs without it)";
    add(c);
  }
  if (rootless) {
    AddRootlessChecks(add);
  } else {
    DoctorCheck c{.name = "namespaces"};
    bool user = CanUnshare(CLONE_NEWUSER), mnt = CanUnshare(CLONE_NEWNS),
         pid = CanUnshare(CLONE_NEWPID);
    c.detail = std::string("user ") + (user ? "yes" : "no") + ", mount " + (mnt ? "yes" : "no") +
               ", pid " + (pid ? "yes" : "no");
    c.status = (mnt && pid) ? (user ? "ok" : "warn") : "fail";
    if (!mnt || !pid)
      c.fix = "run as root (anyarch run needs mount and pid namespaces)";
    else if (!user)
      c.fix =
          "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) for "
          "rootless use";
    add(c);
  }
  {
    DoctorCheck c{.name = "cgroups"};
    struct statfs sf;
    constexpr long kCgroup2Magic = 0x63677270;
    if (::statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == kCgroup2Magic) {
      c.detail = "v2 (unified)";
    } else if (fs::exists("/sys/fs/cgroup/unified")) {
      c.detail = "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)";
    } else {
      c.detail = "v1";
    }
    c.status = "ok";
    add(c);
  }
  {
    DoctorCheck c{.name = "store"};
    fs::path p = o.store_root;
    std::error_code ec;
    while (!p.empty() && !fs::exists(p, ec)) p = p.parent_path();
    struct statvfs sv;
    if (!p.empty() && ::statvfs(p.c_str(), &sv) == 0) {
      std::uint64_t free_bytes = static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize;
      c.detail = o.store_root + ": " + HumanSize(free_bytes) + " free";
      c.status = free_bytes < (2ull << 30) ? "warn" : "ok";
      if (c.status == "warn")
        c.fix = "free space or point --root at a larger filesystem (images need room to unpack)";
    } else {
      c.status = "warn";
      c.detail = o.store_root + ": cannot tell the free space";
    }
    add(c);
  }
  add(ConfigCheck(o.config_path));
  {
    DoctorCheck c{.name = "platforms"};
    std::vector<std::string> runnable = {platform::Host().ToString()};
    // A probe runs chrooted: an ordinary user's are run by anyarch binfmt test, in a namespace.
    if (o.probe && !rootless) {
      for (const auto& a : emulation::Arches()) {
        if (a.probe_code.empty()) continue;
        auto pr = emulation::Probe(a, 10);
        if (pr.outcome == emulation::ProbeOutcome::kPass ||
            pr.outcome == emulation::ProbeOutcome::kNative) {
          std::string p(a.platform);
          if (std::find(runnable.begin(), runnable.end(), p) == runnable.end())
            runnable.push_back(p);
          if (a.cpu == "arm") {
            runnable.push_back("linux/arm/v6");
            runnable.push_back("linux/arm/v5");
          }
        }
      }
    }
    r.runnable_platforms = runnable;
    c.detail = "can run now: " + Join(runnable, ", ");
    c.status = runnable.size() > 1 ? "ok" : "warn";
    if (runnable.size() == 1) c.fix = "anyarch binfmt install all";
    if (rootless) {
      c.status = "ok";
      c.detail += " natively; anyarch binfmt test probes what your builds can emulate";
      c.fix.clear();
    }
    add(c);
  }
  return r;
}

}  // namespace anyarch::ops

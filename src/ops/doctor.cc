#include "ops/doctor.h"

#include <sched.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/fs.h"
#include "base/strings.h"
#include "emulation/binfmt.h"
#include "platform/platform.h"

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

// Checks the registries config: TOML with [registry."host"] tables whose keys are http,
// insecure (booleans), ca and mirrors (arrays of strings).
DoctorCheck ConfigCheck(const std::string& path) {
  DoctorCheck c{.name = "config"};
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec)) {
    c.status = "ok";
    c.detail =
        "no config file at " + (path.empty() ? std::string("(none)") : path) + " (defaults apply)";
    return c;
  }
  // Debian's toml++ is built with exceptions: they stay inside this function.
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    c.status = "fail";
    c.detail = path + ":" + std::to_string(err.source().begin.line) + ":" +
               std::to_string(err.source().begin.column) + ": " + std::string(err.description());
    c.fix = "correct the TOML syntax at that line";
    return c;
  }
  std::vector<std::string> problems;
  for (const auto& [key, value] : root) {
    if (key.str() != "registry") {
      problems.push_back("unknown top-level key \"" + std::string(key.str()) + "\"");
      continue;
    }
    const toml::table* regs = value.as_table();
    if (!regs) {
      problems.push_back("\"registry\" must be a table of [registry.\"host\"] tables");
      continue;
    }
    for (const auto& [host, t] : *regs) {
      const toml::table* tab = t.as_table();
      if (!tab) {
        problems.push_back("registry \"" + std::string(host.str()) + "\" must be a table");
        continue;
      }
      for (const auto& [k, v] : *tab) {
        std::string kk(k.str());
        std::string where = "registry \"" + std::string(host.str()) + "\" key \"" + kk + "\"";
        if (kk == "http" || kk == "insecure") {
          if (!v.is_boolean()) problems.push_back(where + " must be true or false");
        } else if (kk == "ca" || kk == "mirrors") {
          const toml::array* arr = v.as_array();
          if (!arr || !std::all_of(arr->begin(), arr->end(),
                                   [](const toml::node& n) { return n.is_string(); })) {
            problems.push_back(where + " must be an array of strings");
          }
        } else {
          problems.push_back(where + " is not known (expected http, insecure, ca, mirrors)");
        }
      }
    }
  }
  if (problems.empty()) {
    c.status = "ok";
    c.detail = path + " is valid";
  } else {
    c.status = "fail";
    c.detail = path + ": " + Join(problems, "; ");
    c.fix = "see \"Registries\" in docs/transfer.md for the [registry.\"host\"] keys";
  }
  return c;
}

}  // namespace

DoctorReport Doctor(const DoctorOptions& o) {
  DoctorReport r;
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
  {
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
    if (o.probe) {
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
    add(c);
  }
  return r;
}

}  // namespace anyarch::ops

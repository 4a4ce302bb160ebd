#include "ops/rootless.h"

#include <pwd.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/process.h"
#include "emulation/private_instance.h"
#include "isolation/userns.h"

namespace anyarch::ops {

namespace {

std::string UserName(uid_t uid) {
  struct passwd pw {
  }, *res = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) return pw.pw_name;
  return "";
}

std::string Helper(const char* name) {
  std::string p = FindInPath(name);
  if (!p.empty()) return p;
  for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/bin/"}) {
    std::string c = std::string(dir) + name;
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

}  // namespace

Result<RootlessReport> EnterRootless() {
  RootlessReport r;
  if (::geteuid() == 0 || isolation::EnteredUserNamespace()) return r;
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  auto subuid = ReadFile("/etc/subuid", 1 << 20);
  auto subgid = ReadFile("/etc/subgid", 1 << 20);
  isolation::IdMapPlan plan =
      isolation::PlanIdMap(uid, gid, UserName(uid), subuid ? *subuid : "", subgid ? *subgid : "",
                           Helper("newuidmap"), Helper("newgidmap"));
  ANYARCH_CHECK(isolation::EnterUserNamespace(plan));
  r.entered = true;
  r.subordinate = plan.subordinate;
  r.uids = isolation::MappedIds(plan.uids);
  r.gids = isolation::MappedIds(plan.gids);
  r.single_reason = plan.single_reason;
  ANYARCH_TRY(auto scope, emulation::MountPrivateInstance());
  r.binfmt = emulation::ScopeName(scope);
  return r;
}

bool RootlessActive() { return isolation::EnteredUserNamespace(); }

std::uint32_t HostUid() { return isolation::HostUid(); }

std::string SingleIdWarning(const RootlessReport& report) {
  if (!report.entered || report.subordinate) return "";
  return "rootless with only your own id mapped (" + report.single_reason +
         "): files of other owners in an image cannot be made; an administrator can grant a "
         "range with: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " +
         UserName(static_cast<uid_t>(HostUid()));
}

}  // namespace anyarch::ops

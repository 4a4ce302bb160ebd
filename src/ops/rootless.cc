#include "ops/rootless.h"

#include <unistd.h>

#include "emulation/private_instance.h"
#include "isolation/userns.h"

namespace anyarch::ops {

Result<RootlessReport> EnterRootless() {
  RootlessReport r;
  if (::geteuid() == 0 || isolation::EnteredUserNamespace()) return r;
  isolation::IdMapPlan plan = isolation::PlanIdMapForCaller();
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
         isolation::UserName(HostUid());
}

}  // namespace anyarch::ops

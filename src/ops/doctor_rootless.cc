// doctor's checks for an ordinary user (rootless mode, ops/rootless.h): what the kernel and the
// machine's configuration let a user namespace of theirs do, what each missing piece costs, and
// who fixes it how.
#include <unistd.h>

#include "base/fs.h"
#include "base/process.h"
#include "emulation/binfmt.h"
#include "isolation/userns.h"
#include "ops/doctor.h"

namespace anyarch::ops {

void AddRootlessChecks(const std::function<void(DoctorCheck)>& add) {
  const std::string user = isolation::UserName(static_cast<std::uint32_t>(::getuid()));
  auto scratch = TempDir::Create("anyarch-doctor");
  isolation::UserNamespaceAbilities a;
  if (scratch) a = isolation::ProbeUserNamespace(scratch->path().string());
  {
    DoctorCheck c{.name = "userns"};
    c.status = a.userns ? "ok" : "fail";
    c.detail = a.userns ? "allowed" : "refused: " + a.userns_error;
    if (!a.userns)
      c.fix =
          "build and run cannot work as an ordinary user; an administrator allows them with "
          "sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces=15000 (and, "
          "under AppArmor, kernel.apparmor_restrict_unprivileged_userns=0), or run as root";
    add(c);
  }
  {
    DoctorCheck c{.name = "subids"};
    auto plan = isolation::PlanIdMapForCaller();
    if (plan.subordinate) {
      c.status = "ok";
      c.detail = std::to_string(isolation::MappedIds(plan.uids)) + " uids and " +
                 std::to_string(isolation::MappedIds(plan.gids)) + " gids through " +
                 plan.newuidmap;
    } else {
      c.status = "warn";
      c.detail = "only your own id can be mapped: " + plan.single_reason;
      c.fix =
          "images with files of other owners cannot be unpacked, and RUN steps cannot chown to "
          "other users; an administrator runs: apt-get install uidmap && usermod "
          "--add-subuids 100000-165535 --add-subgids 100000-165535 " +
          (user.empty() ? std::string("USER") : user) + " (a range no other user has)";
    }
    add(c);
  }
  {
    DoctorCheck c{.name = "userns-overlay"};
    c.status = a.overlay ? "ok" : "fail";
    c.detail = a.overlay ? "overlayfs mounts in a user namespace (userxattr)"
                         : "refused in a user namespace: " + a.overlay_error;
    if (!a.overlay)
      c.fix =
          "build and run mount every snapshot with overlayfs, which a user namespace may only "
          "do on Linux 5.11 or later: upgrade the kernel, or run as root";
    add(c);
  }
  {
    DoctorCheck c{.name = "userns-binfmt"};
    if (a.binfmt) {
      c.status = "ok";
      c.detail =
          "a private instance per command (Linux 6.7+): foreign programs, and the programs they "
          "start, are emulated without any host registration";
    } else {
      auto entries = emulation::ListEntries();
      bool any = entries && !entries->empty();
      c.status = any ? "warn" : "fail";
      c.detail = "no private instance (" + a.binfmt_error +
                 "; needs Linux 6.7): emulation uses the host's entries" +
                 (any ? "" : ", and the host has none");
      c.fix = "an administrator runs once: sudo anyarch binfmt install all";
    }
    add(c);
  }
  {
    DoctorCheck c{.name = "userns-network"};
    bool tun = ::access("/dev/net/tun", R_OK | W_OK) == 0;
    bool slirp = !FindInPath("slirp4netns").empty();
    c.status = tun && slirp ? "ok" : "warn";
    c.detail = std::string("slirp4netns ") + (slirp ? "found" : "missing") + ", /dev/net/tun " +
               (tun ? "usable" : "not usable by you");
    if (c.status != "ok")
      c.fix =
          "containers with the default network fail to start (--network none still works); an "
          "administrator runs: apt-get install slirp4netns && chmod 0666 /dev/net/tun";
    add(c);
  }
}

}  // namespace anyarch::ops

#include "emulation/private_instance.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "emulation/binfmt.h"

namespace anyarch::emulation {

namespace {

std::mutex g_mu;
Scope g_scope = Scope::kHost;
std::set<std::string> g_registered;  // entry names, under g_mu

}  // namespace

const char* ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kHost:
      return "host";
    case Scope::kPrivate:
      return "private";
    case Scope::kHostSeenFromNamespace:
      return "host-from-namespace";
  }
  return "host";
}

Result<Scope> MountPrivateInstance() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (::mount("binfmt_misc", kDefaultMount, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) == 0) {
    g_scope = Scope::kPrivate;
    return g_scope;
  }
  int err = errno;
  if (err == EPERM || err == EACCES) {
    g_scope = Scope::kHostSeenFromNamespace;
    return g_scope;
  }
  return MakeError(ErrorCode::kIo, std::string("mounting a private binfmt_misc on ") +
                                       kDefaultMount + ": " + std::strerror(err));
}

Scope CurrentScope() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_scope;
}

Status EnsurePrivateEntry(const ArchSpec& arch) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_scope != Scope::kPrivate || arch.family == HostFamily()) return Ok();
  std::string name = EntryName(arch);
  if (g_registered.count(name)) return Ok();
  ANYARCH_TRY(auto interp, FindInterpreter(arch));
  FlagPlan plan = PlanFlags(DetectKernel(), interp, /*credentials=*/true);
  if (!plan.refusal.empty()) return MakeError(ErrorCode::kUnsupported, plan.refusal);
  ANYARCH_CHECK(Register(RegisterLine(arch, interp.path, plan.flags)));
  g_registered.insert(name);
  return Ok();
}

}  // namespace anyarch::emulation

#include "emulation/readiness.h"

#include "emulation/arch_table.h"
#include "emulation/binfmt.h"
#include "emulation/private_instance.h"

namespace anyarch::emulation {

Result<Readiness> CheckReadiness(const platform::Platform& target) {
  platform::Platform host = platform::Host();
  Readiness r;
  r.linux32 = (target.architecture == "386" && host.architecture == "amd64") ||
              (target.architecture == "arm" && host.architecture == "arm64");
  if (platform::Matches(host, target)) return r;
  const ArchSpec* arch = FindArch(target.ToString());
  if (!arch) arch = FindArch(target.architecture);
  if (!arch)
    return MakeError(ErrorCode::kUnsupported, "anyarch cannot emulate " + target.ToString());
  if (auto st = EnsurePrivateEntry(*arch); !st) {
    return MakeError(st.error().code(),
                     target.ToString() + " needs emulation: " + st.error().message());
  }
  if (!arch->probe_code.empty()) {
    auto probe = Probe(*arch);
    if (probe.outcome != ProbeOutcome::kPass && probe.outcome != ProbeOutcome::kNative) {
      // Without root on a kernel older than 6.7, only the host's entries can serve.
      std::string fix = CurrentScope() == Scope::kHostSeenFromNamespace
                            ? "this kernel (older than 6.7) cannot give an unprivileged user "
                              "a binfmt_misc of their own; an administrator runs once: sudo "
                              "anyarch binfmt install "
                            : "run: anyarch binfmt install ";
      return MakeError(ErrorCode::kUnavailable,
                       target.ToString() + " needs emulation, which does not work here (" +
                           probe.detail + "); " + fix + std::string(arch->cpu));
    }
  }
  r.emulated = true;
  return r;
}

}  // namespace anyarch::emulation

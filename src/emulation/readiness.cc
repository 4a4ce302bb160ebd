#include "emulation/readiness.h"

#include "emulation/arch_table.h"
#include "emulation/binfmt.h"

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
  if (!arch->probe_code.empty()) {
    auto probe = Probe(*arch);
    if (probe.outcome != ProbeOutcome::kPass && probe.outcome != ProbeOutcome::kNative) {
      return MakeError(ErrorCode::kUnavailable,
                       target.ToString() + " needs emulation, which does not work here (" +
                           probe.detail + "); run: anyarch binfmt install " +
                           std::string(arch->cpu));
    }
  }
  r.emulated = true;
  return r;
}

}  // namespace anyarch::emulation

// Whether this machine can run programs of a platform now, and how: natively, through a
// 32-bit personality of the host (linux/386 on amd64, arm on arm64), or emulated through a
// registered binfmt_misc interpreter, checked with the architecture's probe before anything is
// unpacked or started. `anyarch run` and every RUN step of a build ask this first.
#pragma once

#include "base/error.h"
#include "platform/platform.h"

namespace anyarch::emulation {

struct Readiness {
  bool emulated = false;  // programs go through qemu
  bool linux32 = false;   // run with the PER_LINUX32 personality (uname shows the 32-bit machine)
};

// kUnsupported when anyarch knows no emulator for the platform; kUnavailable when emulation
// is needed and does not work (the message gives the probe's finding and the command that
// fixes it: anyarch binfmt install CPU).
Result<Readiness> CheckReadiness(const platform::Platform& target);

}  // namespace anyarch::emulation

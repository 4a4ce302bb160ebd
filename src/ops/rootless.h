// Rootless mode: what anyarch does first when an ordinary user runs a command that needs
// namespaces (build, run, binfmt test, and those that remove snapshots: rm, rmi, prune, store).
//
// The process becomes root of a user namespace of its own (isolation/userns.h: the caller's id
// and, with /etc/subuid and /etc/subgid ranges, those ids too), and, on Linux 6.7+, mounts a
// binfmt_misc instance private to it (emulation/private_instance.h), where each architecture is
// registered when first needed. Nothing on the host changes: the namespace and its registrations
// end with the process.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace anyarch::ops {

struct RootlessReport {
  bool entered = false;      // false: already root, nothing done
  bool subordinate = false;  // ranges from /etc/subuid and /etc/subgid through newuidmap
  std::uint32_t uids = 0;    // how many uids the namespace maps
  std::uint32_t gids = 0;
  std::string single_reason;  // why only the caller's id is mapped
  std::string binfmt;         // "private", or "host-from-namespace" (kernel older than 6.7)
};

// Enters rootless mode when the process is not root; a no-op for root. Call once, before the
// process starts its first thread. The errors say what is missing and how to get it.
Result<RootlessReport> EnterRootless();

// Whether EnterRootless made this process root of its own namespace.
bool RootlessActive();
// The uid the process had on the host (its uid when it never entered a namespace).
std::uint32_t HostUid();

// A warning for the single-id map, to show once when a command may need other ids, or "".
std::string SingleIdWarning(const RootlessReport& report);

}  // namespace anyarch::ops

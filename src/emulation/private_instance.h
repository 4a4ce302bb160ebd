// binfmt_misc private to a user namespace (Linux 6.7+), for rootless mode.
//
// Since 6.7, mounting binfmt_misc in a user namespace that has none yet gives that namespace an
// instance of its own: the kernel looks up a foreign program's interpreter in the instance of
// the nearest user namespace up the tree that has one, so entries registered there serve every
// process of the namespace (a foreign shell starting a foreign program included) and nothing
// outside it, and the host's entries are hidden from it. Traps handled:
// - on older kernels binfmt_misc cannot be mounted in a user namespace (EPERM): the host's
//   entries stay visible and are what emulation uses, or, when it has none, the error says what
//   an administrator runs once;
// - the private instance starts empty, so each architecture is registered when first needed,
//   once per process, with the line and flags `anyarch binfmt install` writes (F included: the
//   kernel opens qemu at registration, so it need not exist inside the container);
// - the instance lives as long as the namespace: nothing is left behind on the host.
#pragma once

#include <string>

#include "base/error.h"
#include "emulation/arch_table.h"

namespace anyarch::emulation {

enum class Scope {
  kHost,                   // the host's binfmt_misc (root, or no user namespace)
  kPrivate,                // an instance of this process's user namespace, mounted on kDefaultMount
  kHostSeenFromNamespace,  // a user namespace on a kernel that cannot give it its own instance
};
const char* ScopeName(Scope scope);

// Mounts a new instance on kDefaultMount in the caller's (private) mount namespace, the caller
// being root of a user namespace. Returns the scope that results: kPrivate, or
// kHostSeenFromNamespace when the kernel refuses (older than 6.7). Other failures are errors.
Result<Scope> MountPrivateInstance();

// The scope this process uses (kHost until MountPrivateInstance ran).
Scope CurrentScope();

// In kPrivate scope, registers `arch`'s interpreter in the private instance unless it is there
// or runs natively; elsewhere does nothing. Thread-safe. kNotFound when no qemu for it is
// installed (the message names the package), kUnsupported for a dynamically linked one.
Status EnsurePrivateEntry(const ArchSpec& arch);

}  // namespace anyarch::emulation

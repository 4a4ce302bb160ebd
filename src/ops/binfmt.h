// anyarch binfmt status | install | uninstall | test.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "emulation/binfmt.h"

namespace anyarch::ops {

struct BinfmtArchReport {
  std::string cpu;       // qemu name
  std::string platform;  // OCI platform
  std::string action;    // install: installed|unchanged|replaced|conflict|native|error;
                         // uninstall: removed|absent|error; status: registered|missing|native
  std::string entry;     // entry name
  std::string interpreter;
  std::string flags;
  bool interpreter_static = false;
  std::vector<std::string> differences;  // conflict/replaced: what differed
  std::string message;
  bool probed = false;
  emulation::ProbeResult probe;
  bool ok = true;  // false makes the command exit non-zero
};

struct BinfmtReport {
  emulation::KernelInfo kernel;
  std::string mount;
  bool mounted = false;
  // Whose entries: "host", "private" (rootless on Linux 6.7+: an instance of anyarch's own user
  // namespace, registered for the test and gone with the process) or "host-from-namespace"
  // (rootless on an older kernel: the host's entries, which an administrator installs).
  std::string scope = "host";
  std::vector<std::string> notes;  // kernel fallbacks and similar
  std::vector<BinfmtArchReport> arches;
  std::vector<emulation::Entry> other_entries;  // status: entries anyarch does not manage
  bool ok() const;
};

struct BinfmtOptions {
  std::vector<std::string> arches;  // empty or {"all"}: every emulatable architecture
  bool force = false;               // install: replace differing entries
  bool credentials = true;          // install: the C flag
  bool probe = true;                // status: run the probes
  std::string mount = emulation::kDefaultMount;
};

// kInvalid when an architecture name is unknown (the message lists the known ones).
Result<BinfmtReport> BinfmtStatus(const BinfmtOptions& options);
Result<BinfmtReport> BinfmtInstall(const BinfmtOptions& options);
Result<BinfmtReport> BinfmtUninstall(const BinfmtOptions& options);
Result<BinfmtReport> BinfmtTest(const BinfmtOptions& options);

}  // namespace anyarch::ops

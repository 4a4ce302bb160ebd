// anyarch doctor: what this host can do, one check per line, with the fix for what fails.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace anyarch::ops {

struct DoctorCheck {
  std::string name;    // "kernel", "binfmt_misc", "overlayfs", ...
  std::string status;  // "ok", "warn", "fail"
  std::string detail;
  std::string fix;  // empty when ok
};

struct DoctorOptions {
  std::string store_root;
  std::string config_path;
  bool probe = true;  // run the binfmt probes to list runnable platforms
};

struct DoctorReport {
  std::vector<DoctorCheck> checks;
  std::vector<std::string> runnable_platforms;
  bool ok() const;  // no "fail"
};

DoctorReport Doctor(const DoctorOptions& options);

// The checks doctor adds for an ordinary user: user namespaces, subordinate ids, overlay and
// binfmt_misc in a user namespace, the network (doctor_rootless.cc).
void AddRootlessChecks(const std::function<void(DoctorCheck)>& add);

}  // namespace anyarch::ops

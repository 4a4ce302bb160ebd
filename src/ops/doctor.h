// anyarch doctor: what this host can do, one check per line, with the fix for what fails.
#pragma once

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

}  // namespace anyarch::ops

// anyarch run: runs an image's command on this machine, emulated where the platform is foreign.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/reporter.h"
#include "isolation/container.h"
#include "platform/platform.h"

namespace anyarch::ops {

// -v HOST:CONTAINER[:ro]: a host path bind-mounted into the container.
struct Volume {
  std::string host;       // absolute; must exist
  std::string container;  // absolute, inside the container
  bool readonly = false;
};

struct RunRequest {
  std::string image;                           // oci:DIR[:TAG]
  std::optional<platform::Platform> platform;  // default: this host's
  std::vector<std::string> command;            // replaces the image's Cmd
  std::optional<std::string> entrypoint;       // replaces the image's Entrypoint ("" clears it)
  std::vector<std::string> env;                // KEY=VALUE, over the image's Env
  std::string workdir;                         // over the image's WorkingDir
  std::string user;                            // over the image's User: name, uid, uid:gid
  bool remove = false;                         // --rm: drop the container's writable layer
  bool interactive = false;                    // -i: accepted; stdin is always anyarch's
  bool tty = false;                            // -t: a pty of its own (isolation/terminal.h)
  std::vector<Volume> volumes;                 // -v
  std::chrono::seconds timeout{0};
  isolation::Network network = isolation::Network::kDefault;  // --network default|none|host
  bool seccomp = true;  // false: --security-opt seccomp=unconfined
  std::string store_root;
  bool insecure = false;
  std::string config_path;  // registries config
  Reporter* reporter = nullptr;
  // Called once the image is ready, just before the command starts (the CLI ends its progress
  // display there, so bars never mix with the command's output). May be empty.
  std::function<void()> before_start;
};

struct RunOutcome {
  int exit_code = 0;
  bool timed_out = false;
  std::string start_error;  // the command could not start (exit code 127)
  platform::Platform platform;
  bool emulated = false;
  std::string container_dir;         // kept when !remove
  std::vector<std::string> skipped;  // entries the unpack did not create (device nodes)
};

// Errors: the image cannot be read, the platform is absent from the index (lists what it has),
// emulation for a foreign platform is not working (says how to fix), the command is not in the
// image. A command that runs and fails is an outcome, not an error.
Result<RunOutcome> Run(const RunRequest& request);

}  // namespace anyarch::ops

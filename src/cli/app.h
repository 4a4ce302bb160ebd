// The command-line front end: global flags, the command table and error reporting.
// Each command group lives in its own cmd_*.cc and registers itself through a Register* function
// below. A command parses its flags, calls one ops:: function and formats the result; it never
// holds logic of its own.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "base/error.h"
#include "cli/progress.h"
#include "transport/location.h"

namespace anyarch::cli {

struct GlobalOptions {
  std::string root;  // local store; default $ANYARCH_ROOT, $XDG_DATA_HOME/anyarch, /var/lib/anyarch
  std::string config_path;        // registries config; default $XDG_CONFIG_HOME/anyarch/config.toml
  bool insecure = false;          // plain HTTP / unverified TLS for every registry in this command
  bool debug = false;             // show error context codes
  std::string progress = "auto";  // auto, plain, tty, json, quiet
};

// Exit codes shared by every command. A command that runs a user program (run) passes its exit
// code through instead.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

class Cli {
 public:
  Cli();
  GlobalOptions global;
  int exit_code = kExitOk;

  std::ostream& out();
  std::ostream& err();

  // Prints "anyarch: error: <error>" to stderr and sets exit_code to kExitFailure.
  void Fail(const Error& error);
  // Same, for a Status: returns true when it was OK.
  bool Check(const Status& status);
  // Prints "anyarch: warning: ..." to stderr.
  void Warn(const std::string& message);

  // Paths with the defaults applied.
  std::string StoreRoot() const;
  std::string ConfigPath() const;

  // What operations need from the global flags, with progress going to stderr. `jobs` is the
  // command's --jobs.
  transport::Env Env(int jobs = 4);
  // Ends the progress display before a command prints its result.
  void EndProgress();

 private:
  std::unique_ptr<ProgressReporter> progress_;
};

// Command groups. Each adds its subcommands to `app`; callbacks write results through `cli`.
void RegisterStoreCommands(CLI::App& app, Cli& cli);       // images tag rmi prune export import
void RegisterAuthCommands(CLI::App& app, Cli& cli);        // login logout
void RegisterTransferCommands(CLI::App& app, Cli& cli);    // inspect copy pull push manifest
void RegisterEmulationCommands(CLI::App& app, Cli& cli);   // binfmt doctor file
void RegisterRunCommands(CLI::App& app, Cli& cli);         // run verify
void RegisterDockerfileCommands(CLI::App& app, Cli& cli);  // lint
void RegisterBuildCommands(CLI::App& app, Cli& cli);       // build

// Runs the CLI; returns the process exit code.
int Main(int argc, char** argv);

}  // namespace anyarch::cli

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
#include "cli/style.h"
#include "transport/location.h"

namespace anyarch::cli {

struct GlobalOptions {
  std::string root;  // local store; default $ANYARCH_ROOT, $XDG_DATA_HOME/anyarch, /var/lib/anyarch
  std::string config_path;        // registries config; default $XDG_CONFIG_HOME/anyarch/config.toml
  bool insecure = false;          // plain HTTP / unverified TLS for every registry in this command
  bool debug = false;             // show error context codes
  std::string progress = "auto";  // auto, plain, tty, json, quiet
  std::string color = "auto";     // auto (a tty and no NO_COLOR), always, never
};

// Exit codes by error class, the same for every command (the README's table). A command that
// runs a user program (run) passes its exit code through instead, and uses 124, 125 and 127
// for a timeout, its own failure and a command missing from the image.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // anything not below (I/O, unsupported, internal)
inline constexpr int kExitUsage = 2;    // the command line is wrong
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitDenied = 4;       // unauthorized or denied
inline constexpr int kExitUnavailable = 5;  // network, registry down, retries spent, timeout
inline constexpr int kExitInvalid = 6;      // invalid input (image, archive, reference, file)
inline constexpr int kExitDigest = 7;       // digest mismatch

// The exit code for an error of class `code`.
int ExitCodeFor(ErrorCode code);

class Cli {
 public:
  Cli();
  GlobalOptions global;
  int exit_code = kExitOk;

  std::ostream& out();
  std::ostream& err();

  // Prints "anyarch: error: <error>" to stderr and sets exit_code by the error's class
  // (ExitCodeFor). When the command was given --json, also prints
  // {"error": {"code", "message", "context"}} on stdout.
  void Fail(const Error& error);
  // True when the command being run was given --json (set by Main before callbacks run).
  std::function<bool()> json_requested;
  // Colour for what goes to stdout (tables) and to stderr (errors, warnings, progress), by
  // --color, NO_COLOR and whether that stream is a terminal (cli/style.h).
  Style OutStyle() const;
  Style ErrStyle() const;
  // Same, for a Status: returns true when it was OK.
  bool Check(const Status& status);
  // Writes "anyarch: error: " (red under ErrStyle) to stderr and returns stderr, for errors a
  // command reports itself; it sets no exit code.
  std::ostream& ErrorStart();
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

// Sets `cmd`'s help footer to "Examples:" and `lines` (each a command line run verbatim by
// tests/e2e/test_cli_examples.sh, so keep them runnable there), after `before` if given.
void SetExamples(CLI::App* cmd, const std::vector<std::string>& lines,
                 const std::string& before = "");

// Command groups. Each adds its subcommands to `app`; callbacks write results through `cli`.
void RegisterStoreCommands(CLI::App& app, Cli& cli);     // images tag rmi prune export import store
void RegisterAuthCommands(CLI::App& app, Cli& cli);      // login logout
void RegisterTransferCommands(CLI::App& app, Cli& cli);  // inspect copy pull push manifest
void RegisterEmulationCommands(CLI::App& app, Cli& cli);   // binfmt doctor file
void RegisterRunCommands(CLI::App& app, Cli& cli);         // run verify
void RegisterDockerfileCommands(CLI::App& app, Cli& cli);  // lint
void RegisterBuildCommands(CLI::App& app, Cli& cli);       // build

// Makes an ordinary user's commands that need namespaces enter rootless mode once the command
// line is parsed (cli/rootless_entry.cc). A failure to enter is reported and ends the command.
void InstallRootlessEntry(CLI::App& app, Cli& cli);

// Runs the CLI; returns the process exit code.
int Main(int argc, char** argv);

}  // namespace anyarch::cli

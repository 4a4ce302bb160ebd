// What happens to the command line before CLI11 parses it, and the top-level help.
//
// docker users expect `anyarch help [COMMAND]`, `anyarch version`, a mistyped command answered
// with "unknown command" and the closest match (CLI11 would say "The following arguments were
// not expected"), and a top-level help that lists one short line per command, grouped, instead
// of every command's long description. CLI11 keeps doing the rest: each command's own --help,
// its flags and positionals.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace anyarch::cli {

// The top-level help: usage, commands by group with their one-line summaries, global options.
// Commands registered but absent from the summary table (a newer command) are listed under
// "Other commands" with the first line of their description. Fits in 40 lines.
std::string TopLevelHelp(const CLI::App& app);

// Help for every command: usage lines that name the positionals in capitals
// ("Usage: anyarch copy [OPTIONS] SOURCE DESTINATION"), and TopLevelHelp for the top level.
// Install on `app` after every command is registered; it applies to the whole tree.
void InstallHelpFormatter(CLI::App& app);

// The outcome of looking at the command line before parsing.
struct Dispatch {
  enum class Action { kParse, kTopHelp, kVersion, kUsageError };
  Action action = Action::kParse;
  std::vector<std::string> args;  // for kParse: the arguments to parse (argv[1..]), rewritten
  std::string error;              // for kUsageError: the message, without "anyarch: error: "
  bool json = false;              // kVersion with --json
};

// Rewrites `help [COMMAND [SUB]]` into `COMMAND [SUB] --help`, recognises `version` and a bare
// `anyarch` or `anyarch --help`, and refuses an unknown command or subcommand (naming the
// closest one). `args` are argv[1..].
Dispatch Prepare(const CLI::App& app, std::vector<std::string> args);

}  // namespace anyarch::cli

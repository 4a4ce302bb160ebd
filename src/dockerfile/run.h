// What a RUN instruction runs, as BuildKit's dispatcher decides it: the command line, the
// network and the security mode. The mounts are in mounts.h.
//
// Heredocs (BuildKit's dispatchRun):
// - when the whole shell-form command is one heredoc marker (RUN <<EOF, RUN <<-EOF,
//   RUN 3<<EOF) and the body starts with "#!", the body (tabs stripped for <<-) is written to
//   /dev/pipes/<name> with mode 0755 and the shell runs that path;
// - when it is one marker and no "#!", the shell runs the body itself (tabs stripped for <<-),
//   so shells without heredocs work too;
// - otherwise the shell gets the command line, then for each heredoc "\n", its body exactly
//   as written (tabs kept: the shell strips them for <<-) and its name: "cat <<EOF >f\nhi\nEOF".
// Heredoc bodies are not expanded by the frontend: the shell does it (or not, when quoted).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "dockerfile/ast.h"

namespace anyarch::dockerfile {

struct Step;

struct RunCommand {
  // Exec form: the JSON array. Shell form: one string for the shell.
  std::vector<std::string> args;
  // Shell form: the builder runs SHELL (default ["/bin/sh", "-c"]) followed by `args`.
  bool prepend_shell = true;
  // A "#!" heredoc to create before running (read-only mount at /dev/pipes/).
  struct File {
    std::string path;     // "/dev/pipes/<name>"
    std::string content;  // tabs stripped for <<-
    std::uint32_t mode = 0755;
  };
  std::optional<File> script;
};

// The command of a RUN instruction (`run.kind` must be Kind::kRun).
RunCommand RunCommandOf(const Instruction& run);

enum class RunNetwork { kDefault, kNone, kHost };
enum class RunSecurity { kSandbox, kInsecure };

// --network (default when absent) and --security (sandbox when absent). kInvalid naming the
// line for any other value (the parser already refuses them, so only hand-built steps fail).
Result<RunNetwork> ParseNetwork(const Step& step);
Result<RunSecurity> ParseSecurity(const Step& step);

}  // namespace anyarch::dockerfile

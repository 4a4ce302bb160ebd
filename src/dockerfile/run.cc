#include "dockerfile/run.h"

#include "dockerfile/evaluate.h"
#include "dockerfile/heredoc.h"

namespace anyarch::dockerfile {

RunCommand RunCommandOf(const Instruction& run) {
  RunCommand cmd;
  if (run.json_form) {
    cmd.args = run.json_args;
    cmd.prepend_shell = false;
    return cmd;
  }
  if (run.heredocs.empty()) {
    cmd.args = {run.args};
    return cmd;
  }
  // One marker and nothing else: the markers found in the whole command are exactly one word.
  auto markers = FindHeredocMarkers(run.args);
  bool only_marker = markers && markers->size() == 1 && (*markers)[0].offset == 0 &&
                     (*markers)[0].size == run.args.size();
  if (only_marker) {
    const Heredoc& h = run.heredocs.front();
    if (h.raw_body.rfind("#!", 0) == 0) {
      cmd.script = RunCommand::File{.path = "/dev/pipes/" + h.delimiter, .content = h.body};
      cmd.args = {cmd.script->path};
    } else {
      cmd.args = {h.body};
    }
    return cmd;
  }
  std::string full = run.args;
  for (const auto& h : run.heredocs) full += "\n" + h.raw_body + h.delimiter;
  cmd.args = {full};
  return cmd;
}

Result<RunNetwork> ParseNetwork(const Step& step) {
  const std::string* v = step.FindFlag("network");
  if (!v || *v == "default") return RunNetwork::kDefault;
  if (*v == "none") return RunNetwork::kNone;
  if (*v == "host") return RunNetwork::kHost;
  return MakeError(ErrorCode::kInvalid,
                   "line " + std::to_string(step.inst ? step.inst->pos.line : 0) +
                       ": --network takes default, none or host, not \"" + *v + "\"");
}

Result<RunSecurity> ParseSecurity(const Step& step) {
  const std::string* v = step.FindFlag("security");
  if (!v || *v == "sandbox") return RunSecurity::kSandbox;
  if (*v == "insecure") return RunSecurity::kInsecure;
  return MakeError(ErrorCode::kInvalid,
                   "line " + std::to_string(step.inst ? step.inst->pos.line : 0) +
                       ": --security takes sandbox or insecure, not \"" + *v + "\"");
}

}  // namespace anyarch::dockerfile

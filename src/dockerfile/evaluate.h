// Evaluation of a parsed Dockerfile for one target platform: ARG scoping, build-arg overrides,
// the automatic platform ARGs, expansion of the instructions Docker expands, and the stage
// graph (dependencies, --target pruning, platform of each stage). Nothing is executed.
//
// Docker's rules implemented here:
// - ARGs before the first FROM are global: usable in FROM lines only; a stage sees one after
//   redeclaring it ("ARG NAME" without a value takes the global value).
// - TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT, BUILDPLATFORM, BUILDOS, BUILDARCH,
//   BUILDVARIANT are predefined in the global scope; inside a stage they need "ARG NAME".
// - The proxy ARGs (HTTP_PROXY, HTTPS_PROXY, FTP_PROXY, NO_PROXY, ALL_PROXY, either case) are
//   predefined for RUN without declaration and are never reported as unused.
// - ENV overrides an ARG of the same name; within one ENV instruction every value is expanded
//   with the environment as it was before the instruction.
// - Expanded: FROM (image, --platform), ADD, COPY (and their --from/--chown/--chmod), ENV,
//   ARG defaults, LABEL, EXPOSE, STOPSIGNAL, USER, VOLUME, WORKDIR, RUN --mount options.
//   Not expanded: RUN/CMD/ENTRYPOINT commands (the shell does it), SHELL, HEALTHCHECK,
//   MAINTAINER, ONBUILD triggers (expanded when they fire, in a child build).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "dockerfile/ast.h"
#include "platform/platform.h"

namespace anyarch::dockerfile {

enum class StageMode {
  kTarget,          // runs on the target platform (the default)
  kBuildShared,     // FROM --platform=$BUILDPLATFORM and no TARGET* use: run once for all targets
  kBuildPerTarget,  // on the build platform, but uses TARGET* args: once per target (cross-compile)
  kPinned,          // FROM --platform=<literal>
};
const char* StageModeName(StageMode mode);

struct Dependency {
  int stage = -1;
  std::string via;  // "FROM", "COPY --from", "RUN --mount from"
  int line = 0;
};

struct Step {
  const Instruction* inst = nullptr;
  std::vector<std::string> words;            // expanded arguments (expanded instructions only)
  std::map<std::string, std::string> flags;  // expanded flag values (last wins for repeatables)
};

struct Stage {
  int index = 0;
  std::string name;  // lowercase; empty when unnamed
  std::string base;  // the expanded FROM image, or the stage name it builds on
  int base_stage = -1;
  std::string platform_flag;    // --platform as written
  platform::Platform platform;  // where this stage runs for this target
  StageMode mode = StageMode::kTarget;
  std::vector<Dependency> deps;
  std::vector<std::string> external_images;  // COPY --from=image / mount from=image
  std::vector<Step> steps;
  std::map<std::string, std::string> args;  // declared ARGs and their values at the end
  bool needed = false;
  Position pos;
};

struct EvalOptions {
  platform::Platform target;
  platform::Platform build;  // the machine that builds
  std::map<std::string, std::string> build_args;
  std::string target_stage;  // --target; empty: the last stage
};

struct Plan {
  platform::Platform target;
  platform::Platform build;
  std::vector<Stage> stages;
  int target_index = -1;
  std::map<std::string, std::string> global_args;
  std::vector<std::string> unused_build_args;
};

// Evaluates `df` for one target. kInvalid (with file:line:column) for a bad FROM, an
// unresolvable --target, a reference to a stage defined later, an instruction other than ARG
// before the first FROM, or a malformed expansion.
Result<Plan> Evaluate(const Dockerfile& df, const EvalOptions& options);

// Evaluates for several targets.
Result<std::vector<Plan>> EvaluateAll(const Dockerfile& df,
                                      const std::vector<platform::Platform>& targets,
                                      const EvalOptions& base_options);

// Deterministic text and JSON forms of plans (what `anyarch lint --plan` prints).
std::string PlansToText(const std::vector<Plan>& plans);
std::string PlansToJson(const std::vector<Plan>& plans);

// True for the proxy ARG names Docker predefines.
bool IsProxyArg(const std::string& name);
// True for TARGET*/BUILD* automatic platform ARG names.
bool IsPlatformArg(const std::string& name);

}  // namespace anyarch::dockerfile

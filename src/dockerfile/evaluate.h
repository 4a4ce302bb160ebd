// Evaluation of a parsed Dockerfile for one target platform: ARG scoping, build-arg overrides,
// the automatic platform ARGs, expansion of the instructions Docker expands, and the stage
// graph (dependencies, --target pruning, platform of each stage). Nothing is executed.
//
// Docker's rules implemented here:
// - ARGs before the first FROM are global: usable in FROM lines only; a stage sees one after
//   redeclaring it ("ARG NAME" without a value takes the global value). "ARG NAME" with no
//   default, no --build-arg and no global value leaves NAME unset (${NAME-x} gives x).
// - A stage built FROM another stage starts with that stage's final ENV and declared ARGs
//   (with their values), as BuildKit does.
// - FROM names a stage by name only ("FROM 0" is the image "0"); COPY --from and
//   RUN --mount from= also take a stage index. Only earlier stages can be used (BuildKit:
//   "cannot copy from stage ..., it needs to be defined before current stage").
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
//   Heredoc bodies: an unquoted COPY/ADD heredoc is expanded with quotes left alone (BuildKit's
//   raw mode); a quoted one is not; RUN heredocs are the shell's business.
// Expansion errors point at the line and column of the "$" or quote at fault.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "dockerfile/ast.h"
#include "dockerfile/mounts.h"
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
  bool expanded = false;           // the frontend expands this instruction's arguments
  std::vector<std::string> words;  // expanded arguments (expanded instructions only), without
                                   // heredoc markers
  // Flag values in order, repeats kept: expanded for ADD/COPY and RUN --mount, as written for
  // RUN --network/--security.
  std::vector<std::pair<std::string, std::string>> flags;
  // COPY/ADD heredocs: delimiter and file content (expanded unless the delimiter was quoted).
  std::vector<std::pair<std::string, std::string>> heredocs;
  // RUN: every --mount in order, values expanded field by field as BuildKit does, defaults
  // not yet applied (ParseMounts in mounts.h applies them with the working directory).
  std::vector<MountSpec> mounts;
  // The working directory the stage's WORKDIR instructions (and its parent stage's) set before
  // this instruction; empty when none did (then it is the base image's, "/" unless its config
  // says otherwise). Plans resolve RUN mounts against it, or "/" when empty.
  std::string workdir;

  // The last value of a flag, or nullptr.
  const std::string* FindFlag(const std::string& name) const;
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
  std::map<std::string, std::string> args;  // declared ARGs that have a value, at the end
  std::map<std::string, std::string> env;   // ENV at the end
  std::string workdir;  // set by WORKDIR in this stage or its parent stage; empty: the base's
  bool needed = false;
  Position pos;
  // Set when the base image comes from a Docker Hub repository that holds one architecture
  // (arm64v8/alpine) that cannot run on `platform`: what is wrong, for the plan and lint.
  std::string base_platform_conflict;
};

struct EvalOptions {
  platform::Platform target;
  platform::Platform build;  // the machine that builds
  std::map<std::string, std::string> build_args;
  std::string target_stage;  // --target; empty: the last stage
  // The Env of a base image (KEY=VALUE), for stages FROM an image: BuildKit expands ENV, COPY
  // and the other instructions with the image's own variables too (ENV PATH=$PATH:/opt/bin).
  // Called with the expanded image name and the stage's platform; unset: none; an error fails
  // the evaluation.
  std::function<Result<std::vector<std::string>>(const std::string& image,
                                                 const platform::Platform& platform)>
      image_env;
};

struct Plan {
  platform::Platform target;
  platform::Platform build;
  std::vector<Stage> stages;
  int target_index = -1;
  std::map<std::string, std::string> global_args;
  std::vector<std::string> unused_build_args;
};

// Evaluates `df` for one target. kInvalid (with file:line:column) for a bad FROM (empty or
// invalid image reference after expansion), an unresolvable --target, a reference to a stage
// defined later or to no stage at all (empty --from), an instruction other than ARG before the
// first FROM, or a malformed expansion.
Result<Plan> Evaluate(const Dockerfile& df, const EvalOptions& options);

// Evaluates for several targets.
Result<std::vector<Plan>> EvaluateAll(const Dockerfile& df,
                                      const std::vector<platform::Platform>& targets,
                                      const EvalOptions& base_options);

struct PlanTextOptions {
  bool steps = false;  // also one line per instruction with its expanded arguments
};

// Deterministic text and JSON forms of plans (what `anyarch lint --plan` prints). The JSON form
// always has the steps.
std::string PlansToText(const std::vector<Plan>& plans, const PlanTextOptions& options = {});
std::string PlansToJson(const std::vector<Plan>& plans);

// The platform of an image from one of Docker Hub's per-architecture repositories
// (amd64/, arm64v8/, arm32v7/, arm32v6/, arm32v5/, i386/, ppc64le/, s390x/, mips64le/,
// riscv64/, windows-amd64/), or nullopt for any other image.
std::optional<platform::Platform> ArchRepositoryPlatform(const std::string& image);

// True for the proxy ARG names Docker predefines.
bool IsProxyArg(const std::string& name);
// True for TARGET*/BUILD* automatic platform ARG names.
bool IsPlatformArg(const std::string& name);

}  // namespace anyarch::dockerfile

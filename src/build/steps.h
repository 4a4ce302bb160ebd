// The instructions of a stage, one file per family: step_meta.cc (instructions that only change
// the config), step_copy.cc (COPY, ADD, WORKDIR's directory), step_run.cc (RUN). The executor
// (executor.cc) walks a stage's steps and calls these; it owns caching, scheduling and events.
//
// A step that changes the filesystem is prepared first: its definition (what its cache key is
// made of) and a function that writes its changes into a scratch directory. The executor then
// looks the key up, and runs the function only on a miss.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <semaphore>
#include <string>

#include "base/error.h"
#include "base/json.h"
#include "build/build.h"
#include "build/fetch.h"
#include "build/image_state.h"
#include "build/resolve.h"
#include "build/snapshots.h"
#include "build/source_tree.h"
#include "dockerfile/evaluate.h"

namespace anyarch::build {

// What the steps of one stage vertex share.
struct StageEnv {
  const BuildRequest& request;
  const SnapshotStore& snapshots;
  Resolver& resolver;
  Fetcher& fetcher;  // ADD's URLs
  const SourceTree& context;
  platform::Platform platform;  // where the stage runs
  platform::Platform target;    // the target it is built for (TARGETPLATFORM)
  std::string stage_label;      // the stage's name, or its index
  std::string label;            // the platform as events show it ("linux/amd64->arm64")
  EventSink& events;
  const std::atomic<bool>* cancel = nullptr;
  std::string created;    // the time recorded in the config and history
  std::string empty_dir;  // an empty directory: the lower of a scratch stage
  // The final state of another stage of the same plan (COPY --from, RUN --mount from).
  std::function<Result<ImageState>(int stage)> stage_state;
  // The index of the stage a --from value names (by name, or by number), if it names one.
  std::function<std::optional<int>(const std::string&)> find_stage;
  // ARG values declared in the stage so far: RUN sees them as environment variables.
  std::map<std::string, std::string> args;
  bool cmd_set = false;  // CMD given in this stage (ENTRYPOINT then keeps it)
  // Reports a line of a running step's output.
  std::function<void(const std::string&)> output;
};

// A prepared filesystem step.
struct LayerStep {
  Json definition;                                // for the cache key
  std::string created_by;                         // the history entry
  std::function<Status(const Scratch&)> execute;  // writes the changes into scratch.diff()
  // Every snapshot directory execute() mounts (the stage's lowers, a COPY --from stage's, a RUN
  // bind mount's): the executor has them on disk (SnapshotStore::Materialize) before it runs.
  std::vector<std::string> reads;
  // COPY/ADD --link: the changes do not depend on the parent's filesystem (they are written onto
  // an empty tree), so the step's own key leaves the parent out and its layer is reused on any
  // base; the state after it still keys by parent and layer.
  bool independent = false;
};

// Applies an instruction that changes only the config (ENV, ARG, LABEL, EXPOSE, VOLUME, USER,
// CMD, ENTRYPOINT, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER) and records its history
// entry. kInvalid names the line for a malformed value.
Status ApplyMeta(StageEnv& env, ImageState& state, const dockerfile::Step& step);

// True for the kinds ApplyMeta handles.
bool IsMetaKind(dockerfile::Kind kind);

// COPY and ADD. kNotFound for a missing source (with the .dockerignore hint); kInvalid for bad
// flags (--chown, --chmod) naming the line.
Result<LayerStep> PrepareCopy(StageEnv& env, const ImageState& state, const dockerfile::Step& step);

// WORKDIR: sets the config, and gives the step that creates the directory when it does not
// exist yet (owned by the stage's USER, as BuildKit does; an existing one changes nothing).
Result<LayerStep> PrepareWorkdir(StageEnv& env, ImageState& state, const dockerfile::Step& step);

// RUN in a container on the stage's snapshot, emulated where the platform is foreign.
Result<LayerStep> PrepareRun(StageEnv& env, const ImageState& state, const dockerfile::Step& step);

// Copies the tree `from` into the directory `to` (created when missing), keeping owners,
// modes, times, xattrs and links; --output type=local.
Status CopyTree(const std::string& from, const std::string& to);

// "file:LINE" prefix for errors about a step.
std::string Where(const StageEnv& env, const dockerfile::Step& step);

}  // namespace anyarch::build

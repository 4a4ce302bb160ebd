// The scheduler of a build: one vertex per (stage, platform it runs on), started when first
// needed, so stages no target needs never run. A stage that is the same for every target
// (dockerfile::StageMode::kBuildShared) is one vertex for all of them. Each vertex runs its
// steps in order on its own thread; the filesystem steps of all vertices share `jobs` slots,
// so at most that many RUN/COPY steps execute at once, across stages and platforms.
//
// Caching: each filesystem step's key (build/cache_key.h) is looked up in the snapshot store
// first; a hit is reported as cached and not executed. Two vertices that reach the same key at
// the same time compute it once: the second waits for the first's result.
//
// The first error cancels the build: running containers are killed, steps not yet started do
// not start, and Run() returns that error.
#pragma once

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "build/build.h"
#include "build/fetch.h"
#include "build/image_state.h"
#include "build/resolve.h"
#include "build/snapshots.h"
#include "build/source_tree.h"
#include "dockerfile/evaluate.h"

namespace anyarch::build {

struct StageStats {
  int run = 0, cached = 0;
};

class Executor {
 public:
  Executor(const BuildRequest& request, const std::vector<dockerfile::Plan>& plans,
           const SnapshotStore& snapshots, Resolver& resolver, const SourceTree& context,
           EventSink& events, std::atomic<bool>& cancel);
  ~Executor();

  // The final state of every plan's target stage, in plan order.
  Result<std::vector<ImageState>> Run();

  // Steps run and cached per target platform (by plan index).
  StageStats Stats(int plan) const;

  // The cache keys of every filesystem step this build ran or took from the cache, in order,
  // once each; with `target_only`, only those of the target stages (--cache-to mode=min).
  std::vector<Digest> UsedKeys(bool target_only) const;

 private:
  using Future = std::shared_future<Result<ImageState>>;
  Future Vertex(int plan, int stage);
  Result<ImageState> RunStage(int plan, int stage);
  Status RunLayerStep(struct StageEnv& env, ImageState& state, struct LayerStep step,
                      const dockerfile::Step& inst, int number, int total, int plan,
                      const std::string& stage_name, bool target_stage);
  Status Fail(const Error& e);

  const BuildRequest& request_;
  const std::vector<dockerfile::Plan>& plans_;
  const SnapshotStore& snapshots_;
  Resolver& resolver_;
  const SourceTree& context_;
  EventSink& events_;
  std::atomic<bool>& cancel_;
  std::string created_;
  std::string empty_dir_;
  std::counting_semaphore<1024> slots_;
  Fetcher fetcher_;  // ADD's URLs, downloaded once per build

  mutable std::mutex mu_;
  std::map<std::string, Future> vertices_;
  std::map<std::string, std::shared_future<Result<StepRecord>>> in_flight_;
  std::vector<std::thread> threads_;
  std::map<int, StageStats> stats_;
  std::vector<std::pair<Digest, bool>> used_;  // (key, in a target stage), under mu_
};

}  // namespace anyarch::build

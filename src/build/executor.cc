#include "build/executor.h"

#include <set>

#include <sys/stat.h>

#include <chrono>

#include "base/strings.h"
#include "build/cache_key.h"
#include "build/steps.h"
#include "dockerfile/parser.h"

namespace anyarch::build {

namespace fs = std::filesystem;
using dockerfile::Kind;

namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string OneLine(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(c == '\n' ? ' ' : c);
  if (out.size() > 200) out = out.substr(0, 197) + "...";
  return out;
}

int JobsOf(const BuildRequest& r) {
  if (r.jobs > 0) return std::min(r.jobs, 1024);
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : static_cast<int>(std::min(n, 1024u));
}

}  // namespace

Executor::Executor(const BuildRequest& request, const std::vector<dockerfile::Plan>& plans,
                   const SnapshotStore& snapshots, Resolver& resolver, const SourceTree& context,
                   EventSink& events, std::atomic<bool>& cancel)
    : request_(request),
      plans_(plans),
      snapshots_(snapshots),
      resolver_(resolver),
      context_(context),
      events_(events),
      cancel_(cancel),
      created_(Rfc3339(request.source_date_epoch)),
      slots_(JobsOf(request)),
      fetcher_(snapshots, &cancel) {
  empty_dir_ = (fs::path(snapshots.store_root()) / "build" / "empty").string();
  std::error_code ec;
  fs::create_directories(empty_dir_, ec);
  ::chmod(empty_dir_.c_str(), 0755);
}

Executor::~Executor() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

StageStats Executor::Stats(int plan) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.find(plan);
  return it == stats_.end() ? StageStats{} : it->second;
}

Status Executor::Fail(const Error& e) {
  cancel_ = true;
  return Unexpected(e);
}

Result<std::vector<ImageState>> Executor::Run() {
  std::vector<Future> finals;
  for (std::size_t p = 0; p < plans_.size(); ++p)
    finals.push_back(Vertex(static_cast<int>(p), plans_[p].target_index));
  std::vector<ImageState> out;
  std::optional<Error> first;
  for (auto& f : finals) {
    auto r = f.get();
    if (!r) {
      if (!first) first = r.error();
      continue;
    }
    out.push_back(*r);
  }
  // Every vertex thread ends (a failed build cancels the others) before the result is used.
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  if (first) return Unexpected(*first);
  return out;
}

std::vector<Digest> Executor::UsedKeys(bool target_only) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Digest> out;
  std::set<std::string> seen;
  for (const auto& [key, target] : used_) {
    if (target_only && !target) continue;
    if (seen.insert(key.hex()).second) out.push_back(key);
  }
  return out;
}

Executor::Future Executor::Vertex(int plan, int stage) {
  const auto& st = plans_[plan].stages[stage];
  // A stage that does the same for every target is one vertex: the first plan's.
  std::string id = st.mode == dockerfile::StageMode::kBuildShared
                       ? "shared/" + std::to_string(stage)
                       : std::to_string(plan) + "/" + std::to_string(stage);
  int owner = st.mode == dockerfile::StageMode::kBuildShared ? 0 : plan;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = vertices_.find(id);
  if (it != vertices_.end()) return it->second;
  auto promise = std::make_shared<std::promise<Result<ImageState>>>();
  Future f = promise->get_future().share();
  vertices_[id] = f;
  threads_.emplace_back([this, promise, owner, stage] {
    auto r = RunStage(owner, stage);
    if (!r) cancel_ = true;
    promise->set_value(std::move(r));
  });
  return f;
}

Result<ImageState> Executor::RunStage(int plan, int stage) {
  const dockerfile::Plan& pl = plans_[plan];
  const dockerfile::Stage& st = pl.stages[stage];
  const std::string label = st.name.empty() ? "stage-" + std::to_string(stage) : st.name;
  // A stage that runs on the build machine for another target shows both, as buildx does:
  // "linux/amd64->arm64".
  std::string plat = st.platform.ToString();
  if (!(st.platform == pl.target)) {
    std::string t = pl.target.ToString();
    plat += "->" + (t.rfind(pl.target.os + "/", 0) == 0 ? t.substr(pl.target.os.size() + 1) : t);
  }
  const int total = static_cast<int>(st.steps.size()) + 1;
  auto emit = [&](Event e) {
    e.platform = plat;
    e.stage = label;
    e.steps = total;
    events_.OnEvent(e);
  };

  // The starting point: another stage, scratch or an image.
  ImageState state;
  std::map<std::string, std::string> inherited_args;
  std::shared_ptr<dockerfile::Dockerfile> triggers;
  std::vector<dockerfile::Step> trigger_steps;
  const std::string from_text = "FROM " + st.base + (st.name.empty() ? "" : " AS " + st.name);
  emit({.kind = EventKind::kStepStarted, .step = 1, .line = st.pos.line, .instruction = from_text});
  auto t0 = std::chrono::steady_clock::now();
  if (st.base_stage >= 0) {
    auto base = Vertex(plan, st.base_stage).get();
    if (!base) return Unexpected(base.error());
    state = *base;
    inherited_args = pl.stages[st.base_stage].args;
  } else if (ToLower(st.base) == "scratch") {
    state = ScratchState();
    state.key = BaseKey("", st.platform);
  } else {
    auto img = resolver_.Resolve(st.base, st.platform);
    if (!img) {
      emit({.kind = EventKind::kStepError,
            .step = 1,
            .line = st.pos.line,
            .instruction = from_text,
            .text = img.error().ToString()});
      return Unexpected(std::move(img.error())
                            .With((request_.dockerfile.empty() ? std::string("Dockerfile")
                                                               : request_.dockerfile) +
                                  ":" + std::to_string(st.pos.line)));
    }
    ANYARCH_TRY(state, StateFromConfig((*img)->config.raw));
    state.layers = (*img)->manifest.layers;
    state.lowers = {(*img)->rootfs};
    state.key = BaseKey((*img)->manifest.raw.digest.ToString(), st.platform);
    state.base_source = (*img)->source;
    state.base_name = (*img)->name;
    // ONBUILD triggers of the base image run first, then leave the child image.
    auto ob = state.config.find("config");
    if (ob != state.config.end() && ob->is_object() && ob->contains("OnBuild") &&
        (*ob)["OnBuild"].is_array() && !(*ob)["OnBuild"].empty()) {
      std::string text = "FROM scratch\n";
      for (const auto& t : (*ob)["OnBuild"]) {
        if (t.is_string()) text += t.get<std::string>() + "\n";
      }
      auto parsed = dockerfile::Parse(text, {.filename = st.base + " (ONBUILD)"});
      if (!parsed)
        return Unexpected(std::move(parsed.error()).With("the ONBUILD triggers of " + st.base));
      triggers = std::make_shared<dockerfile::Dockerfile>(std::move(*parsed));
      dockerfile::EvalOptions eo{
          .target = pl.target, .build = pl.build, .build_args = request_.build_args};
      auto tp = dockerfile::Evaluate(*triggers, eo);
      if (!tp) return Unexpected(std::move(tp.error()).With("the ONBUILD triggers of " + st.base));
      trigger_steps = tp->stages[0].steps;
      (*ob).erase("OnBuild");
    }
  }
  emit({.kind = EventKind::kStepDone,
        .step = 1,
        .line = st.pos.line,
        .instruction = from_text,
        .seconds = Since(t0)});

  StageEnv env{.request = request_,
               .snapshots = snapshots_,
               .resolver = resolver_,
               .fetcher = fetcher_,
               .context = context_,
               .platform = st.platform,
               .target = pl.target,
               .stage_label = label,
               .events = events_,
               .cancel = &cancel_,
               .created = created_,
               .empty_dir = empty_dir_};
  env.args = inherited_args;
  env.stage_state = [this, plan](int s) { return Vertex(plan, s).get(); };
  env.label = plat;
  env.find_stage = [&pl, stage](const std::string& from) -> std::optional<int> {
    std::string lower = ToLower(from);
    for (int i = 0; i < stage; ++i) {
      if (!pl.stages[i].name.empty() && pl.stages[i].name == lower) return i;
    }
    if (!from.empty() && from.find_first_not_of("0123456789") == std::string::npos &&
        from.size() < 6 && std::stoi(from) < stage)
      return std::stoi(from);
    return std::nullopt;
  };

  std::vector<const dockerfile::Step*> steps;
  for (const auto& s : trigger_steps) steps.push_back(&s);
  for (const auto& s : st.steps) steps.push_back(&s);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const dockerfile::Step& step = *steps[i];
    if (cancel_) return MakeError(ErrorCode::kCancelled, "the build was stopped");
    int number = static_cast<int>(i) + 2 - static_cast<int>(trigger_steps.size());
    if (number < 2) number = 1;  // ONBUILD triggers are part of FROM
    const std::string inst_text = OneLine(
        step.inst->original.empty() ? std::string(KindName(step.inst->kind)) + " " + step.inst->args
                                    : step.inst->original);
    Kind kind = step.inst->kind;
    if (IsMetaKind(kind)) {
      auto s = ApplyMeta(env, state, step);
      if (!s) {
        emit({.kind = EventKind::kStepError,
              .step = number,
              .line = step.inst->pos.line,
              .instruction = inst_text,
              .text = s.error().ToString()});
        return Unexpected(s.error());
      }
      continue;
    }
    Result<LayerStep> prepared = MakeError(ErrorCode::kInternal, "unknown instruction");
    if (kind == Kind::kRun) {
      prepared = PrepareRun(env, state, step);
    } else if (kind == Kind::kCopy || kind == Kind::kAdd) {
      prepared = PrepareCopy(env, state, step);
    } else if (kind == Kind::kWorkdir) {
      prepared = PrepareWorkdir(env, state, step);
    } else {
      continue;  // FROM is handled above
    }
    if (!prepared) {
      emit({.kind = EventKind::kStepError,
            .step = number,
            .line = step.inst->pos.line,
            .instruction = inst_text,
            .text = prepared.error().ToString()});
      return Unexpected(prepared.error());
    }
    ANYARCH_CHECK(RunLayerStep(env, state, std::move(*prepared), step, number, total, plan, label,
                               stage == plans_[plan].target_index));
  }
  return state;
}

Status Executor::RunLayerStep(StageEnv& env, ImageState& state, LayerStep prepared,
                              const dockerfile::Step& step, int number, int total, int plan,
                              const std::string& stage_name, bool target_stage) {
  const std::string plat = env.label;
  const std::string inst_text =
      OneLine(step.inst->original.empty() ? step.inst->args : step.inst->original);
  Event base{.platform = plat,
             .stage = stage_name,
             .step = number,
             .steps = total,
             .line = step.inst->pos.line,
             .instruction = inst_text};
  auto emit = [&](EventKind k, std::string text = {}, double seconds = 0) {
    Event e = base;
    e.kind = k;
    e.text = std::move(text);
    e.seconds = seconds;
    events_.OnEvent(e);
  };
  if (request_.source_date_epoch)
    prepared.definition["source_date_epoch"] = *request_.source_date_epoch;
  Digest key =
      StepKey(prepared.independent ? Digest() : state.key, env.platform, prepared.definition);
  bool no_cache = request_.no_cache;
  for (const auto& f : request_.no_cache_filter) {
    if (ToLower(f) == stage_name) no_cache = true;
  }
  std::optional<StepRecord> record;
  if (!no_cache) record = snapshots_.Lookup(key);
  bool ran = false;
  if (!record) {
    std::shared_future<Result<StepRecord>> fut;
    std::shared_ptr<std::promise<Result<StepRecord>>> promise;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = in_flight_.find(key.hex());
      if (it != in_flight_.end()) {
        fut = it->second;
      } else {
        promise = std::make_shared<std::promise<Result<StepRecord>>>();
        fut = promise->get_future().share();
        in_flight_[key.hex()] = fut;
      }
    }
    if (promise) {
      slots_.acquire();
      auto t0 = std::chrono::steady_clock::now();
      Result<StepRecord> r = MakeError(ErrorCode::kCancelled, "the build was stopped");
      if (!cancel_) {
        emit(EventKind::kStepStarted);
        env.output = [&](const std::string& line) { emit(EventKind::kStepOutput, line); };
        auto scratch = snapshots_.NewScratch();
        if (!scratch) {
          r = Unexpected(scratch.error());
        } else {
          Status done = snapshots_.Materialize(prepared.reads);
          if (done) done = prepared.execute(*scratch);
          if (!done) {
            r = Unexpected(done.error());
          } else {
            layer::LayerWriteOptions lo{
                .compress = {.compression = request_.compression,
                             .threads = static_cast<int>(std::thread::hardware_concurrency())},
                .source_date_epoch = request_.source_date_epoch};
            r = snapshots_.Commit(key, std::move(*scratch), lo, no_cache);
          }
        }
        env.output = nullptr;
      }
      slots_.release();
      if (r) {
        emit(EventKind::kStepDone, {}, Since(t0));
      } else {
        emit(EventKind::kStepError, r.error().ToString());
        cancel_ = true;
      }
      ran = true;
      promise->set_value(r);
    }
    auto r = fut.get();
    if (!r) return Unexpected(r.error());
    record = *r;
  }
  if (!ran) emit(EventKind::kStepCached);
  {
    std::lock_guard<std::mutex> lock(mu_);
    (ran ? stats_[plan].run : stats_[plan].cached)++;
    used_.emplace_back(key, target_stage);
  }
  if (record->layer) {
    state.AddLayer(*record->layer, record->diff_id);
    state.lowers.insert(state.lowers.begin(), record->diff_dir);
  }
  state.cache_steps.emplace_back(key,
                                 record->layer ? static_cast<int>(state.layers.size()) - 1 : -1);
  state.AddHistory(prepared.created_by, !record->layer, created_);
  state.key = prepared.independent
                  ? StepKey(state.key, env.platform, Json{{"linked", key.ToString()}})
                  : key;
  return Ok();
}

}  // namespace anyarch::build

#include "build/build.h"

#include <chrono>

#include "base/fs.h"
#include "base/io.h"
#include "base/strings.h"
#include "build/executor.h"
#include "build/export.h"
#include "build/resolve.h"
#include "build/snapshots.h"
#include "build/source_tree.h"
#include "content/layout.h"
#include "dockerfile/dockerignore.h"
#include "dockerfile/evaluate.h"
#include "dockerfile/parser.h"
#include "layer/unpack.h"

namespace anyarch::build {

namespace fs = std::filesystem;

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kStepStarted:
      return "step_started";
    case EventKind::kStepOutput:
      return "output";
    case EventKind::kStepCached:
      return "cached";
    case EventKind::kStepDone:
      return "done";
    case EventKind::kStepError:
      return "error";
    case EventKind::kResolved:
      return "resolved";
    case EventKind::kLayerPushed:
      return "pushed";
    case EventKind::kExported:
      return "exported";
    case EventKind::kWarning:
      return "warning";
    case EventKind::kCache:
      return "cache";
  }
  return "?";
}

namespace {

std::map<std::string, std::string> KeyValues(const std::string& text) {
  std::map<std::string, std::string> out;
  for (const auto& part : Split(text, ',')) {
    auto eq = part.find('=');
    out[ToLower(std::string(TrimSpace(part.substr(0, eq))))] =
        eq == std::string::npos ? "" : std::string(TrimSpace(part.substr(eq + 1)));
  }
  return out;
}

}  // namespace

Result<Output> ParseOutput(const std::string& text) {
  if (text.empty()) return MakeError(ErrorCode::kInvalid, "--output needs a value");
  if (text.find('=') == std::string::npos) {
    // A bare path: the final filesystem, as buildx's "-o DIR".
    if (text == "-") return Output{.type = "tar", .dest = "-"};
    return Output{.type = "local", .dest = text};
  }
  Output o;
  for (const auto& [k, v] : KeyValues(text)) {
    if (k == "type") {
      o.type = v;
    } else if (k == "dest") {
      o.dest = v;
    } else if (k == "push-by-digest") {
      o.push_by_digest = v.empty() || v == "true";
    } else if (k == "push") {
      if (v == "true" || v.empty()) o.attrs["push"] = "true";
    } else {
      o.attrs[k] = v;
    }
  }
  if (o.type == "image" && o.attrs.count("push")) o.type = "registry";
  static const char* kTypes[] = {"registry", "oci", "docker", "local", "tar", "image"};
  if (std::find(std::begin(kTypes), std::end(kTypes), o.type) == std::end(kTypes))
    return MakeError(ErrorCode::kInvalid,
                     "--output " + text + ": unknown type \"" + o.type +
                         "\" (use registry, oci, docker, local, tar or image)");
  if ((o.type == "oci" || o.type == "docker" || o.type == "local" || o.type == "tar") &&
      o.dest.empty())
    return MakeError(ErrorCode::kInvalid, "--output " + text + ": type=" + o.type + " needs dest=");
  for (const auto& [k, v] : o.attrs) {
    if (k != "push" && k != "name" && k != "compression" && k != "oci-mediatypes")
      return MakeError(ErrorCode::kInvalid, "--output " + text + ": unknown key \"" + k + "\"");
  }
  return o;
}

Result<Secret> ParseSecret(const std::string& text) {
  Secret s;
  std::string type;
  for (const auto& [k, v] : KeyValues(text)) {
    if (k == "id") {
      s.id = v;
    } else if (k == "src" || k == "source") {
      s.src = v;
    } else if (k == "env") {
      s.env = v;
    } else if (k == "type") {
      type = v;
    } else {
      return MakeError(ErrorCode::kInvalid, "--secret " + text + ": unknown key \"" + k + "\"");
    }
  }
  if (s.id.empty()) return MakeError(ErrorCode::kInvalid, "--secret " + text + ": id= is required");
  if (!type.empty() && type != "file" && type != "env")
    return MakeError(ErrorCode::kInvalid,
                     "--secret " + text + ": type=" + type + " is unknown (use file or env)");
  if (type == "env" && s.env.empty()) s.env = s.src.empty() ? s.id : s.src, s.src.clear();
  if (s.src.empty() && s.env.empty()) s.src = s.id;  // buildx: a file named like the id
  return s;
}

Result<BuildResult> Build(const BuildRequest& req) {
  auto start = std::chrono::steady_clock::now();
  if (req.network != "default" && req.network != "none" && req.network != "host")
    return MakeError(ErrorCode::kInvalid,
                     "--network " + req.network + " is unknown (use default, none or host)");
  NullEventSink null_events;
  EventSink& events = req.events ? *req.events : null_events;

  // The context: a directory, or a tar from stdin unpacked into a private temporary one.
  std::optional<TempDir> tar_context;
  std::string context_dir = req.context.empty() ? "." : req.context;
  if (!req.context_tar.empty()) {
    ANYARCH_TRY(auto dir, TempDir::Create("anyarch-context"));
    ANYARCH_TRY(auto reader, FileReader::Open(req.context_tar));
    auto applied = layer::ApplyLayer(*reader, dir.path().string(), {.keep_ownership = false});
    if (!applied)
      return Unexpected(std::move(applied.error()).With("the build context from stdin"));
    context_dir = dir.path().string();
    tar_context = std::move(dir);
  }
  std::error_code ec;
  if (!fs::is_directory(context_dir, ec))
    return MakeError(ErrorCode::kNotFound,
                     "the build context " + context_dir + " is not a directory");

  std::string df_path = req.dockerfile;
  std::string df_text = req.dockerfile_text;
  if (df_path != "-") {
    if (df_path.empty()) df_path = (fs::path(context_dir) / "Dockerfile").string();
    auto text = ReadFile(df_path, 4 << 20);
    if (!text) {
      return Unexpected(
          std::move(text.error()).With("reading the Dockerfile (give another with -f FILE)"));
    }
    df_text = std::move(*text);
  }
  ANYARCH_TRY(auto df, dockerfile::Parse(
                           df_text, {.filename = req.dockerfile.empty() ? std::string("Dockerfile")
                                                                        : req.dockerfile}));
  std::vector<platform::Platform> platforms = req.platforms;
  if (platforms.empty()) platforms.push_back(platform::Normalize(platform::Host()));
  if (req.env.store_root.empty())
    return MakeError(ErrorCode::kInvalid, "the build needs a local store (--root)");
  ANYARCH_TRY(auto snapshots, SnapshotStore::Open(req.env.store_root));
  snapshots.RemoveLeftovers();
  // Blobs this build writes are unreachable until the end: keep the collector out meanwhile.
  ANYARCH_TRY(auto lock, content::StoreLock::Shared(req.env.store_root));
  transport::Transports transports(req.env);
  Resolver resolver(transports, {.store_root = req.env.store_root,
                                 .pull = req.pull,
                                 .build_contexts = req.build_contexts,
                                 .events = &events});

  dockerfile::EvalOptions eo{.build = platform::Normalize(platform::Host()),
                             .build_args = req.build_args,
                             .target_stage = req.target};
  // Base images are resolved while the plan is made: their Env takes part in expansion.
  eo.image_env = [&resolver](const std::string& image,
                             const platform::Platform& p) -> Result<std::vector<std::string>> {
    ANYARCH_TRY(auto img, resolver.Resolve(image, p));
    return img->config.env;
  };
  ANYARCH_TRY(auto plans, dockerfile::EvaluateAll(df, platforms, eo));
  for (const auto& name : plans.empty() ? std::vector<std::string>{} : plans[0].unused_build_args)
    events.OnEvent(
        {.kind = EventKind::kWarning,
         .text = "--build-arg " + name + " is not used by any stage (no ARG " + name + ")"});

  ANYARCH_TRY(auto ignore, dockerfile::IgnoreMatcher::ForBuild(
                               context_dir, df_path == "-" ? std::string() : df_path));
  ANYARCH_TRY(auto context, SourceTree::Open(context_dir, "the build context", &ignore));
  // Not for a context read from stdin: its directory is new every time.
  StatCache stat_cache;
  if (req.context != "-") {
    stat_cache = StatCache::Load(req.env.store_root, context_dir);
    context.UseStatCache(&stat_cache);
  }
  std::atomic<bool> local_cancel{false};
  std::atomic<bool>& cancel = req.cancel ? *req.cancel : local_cancel;
  for (const auto& from : req.cache_from) {
    auto got = ImportCache(snapshots, from, transports);
    if (!got) {
      // As buildx: a cache that cannot be read is no reason not to build.
      events.OnEvent({.kind = EventKind::kWarning,
                      .text = "--cache-from " + from.location + ": " + got.error().ToString() +
                              " (building without it)"});
      continue;
    }
    events.OnEvent({.kind = EventKind::kCache,
                    .text = "imported " + std::to_string(got->records) + " cached steps (" +
                            std::to_string(got->layers) + " layers fetched) from " +
                            from.location});
  }
  Executor executor(req, plans, snapshots, resolver, context, events, cancel);
  ANYARCH_TRY(auto states, executor.Run());

  ANYARCH_TRY(auto exported, WriteImages(req, snapshots, plans, states));
  if (req.check) ANYARCH_CHECK(req.check(exported.root));
  ANYARCH_TRY(auto where, WriteOutputs(req, snapshots, plans, states, exported));
  (void)stat_cache.Save();  // losing it costs the next build a re-read, nothing more
  for (const auto& to : req.cache_to) {
    if (to.type == "inline") {
      events.OnEvent({.kind = EventKind::kCache,
                      .text = "cache records written into every platform's image config "
                              "(inline)"});
      continue;
    }
    ANYARCH_TRY(auto sent,
                WithContext(ExportCache(snapshots, executor.UsedKeys(!to.max), to, transports),
                            "--cache-to " + to.location));
    events.OnEvent({.kind = EventKind::kCache,
                    .text = "exported " + std::to_string(sent.records) + " cached steps (" +
                            std::to_string(sent.layers) + " layers) to " + to.location});
  }

  BuildResult out;
  out.digest = exported.root.digest.ToString();
  out.media_type = exported.root.media_type;
  out.outputs = where;
  for (std::size_t i = 0; i < exported.images.size(); ++i) {
    StageStats st = executor.Stats(static_cast<int>(i));
    out.platforms.push_back({.platform = exported.images[i].platform,
                             .manifest_digest = exported.images[i].manifest.digest.ToString(),
                             .config_digest = exported.images[i].config.digest.ToString(),
                             .size = exported.images[i].size,
                             .steps_run = st.run,
                             .steps_cached = st.cached});
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& w : where) events.OnEvent({.kind = EventKind::kExported, .text = w});
  return out;
}

}  // namespace anyarch::build

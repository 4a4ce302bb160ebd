#include <signal.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "base/fs.h"
#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "cli/build_progress.h"
#include "cli/table.h"
#include "ops/build.h"

namespace anyarch::cli {
namespace {

// A Reporter for the transfers of a build shown on a tty: their warnings go to the step
// display, their byte counts nowhere.
class WarningsOnly final : public Reporter {
 public:
  explicit WarningsOnly(build::EventSink& sink) : sink_(sink) {}
  void Progress(const ProgressEvent&) override {}
  void Warn(const std::string& message) override {
    sink_.OnEvent({.kind = build::EventKind::kWarning, .text = message});
  }

 private:
  build::EventSink& sink_;
};

struct BuildFlags {
  std::string context = ".";
  std::string file;
  std::vector<std::string> platforms, tags, build_args, build_contexts, secrets, outputs,
      no_cache_filter, cache_from, cache_to;
  std::string target, step_timeout, compression = "gzip", network = "default", metadata_file,
                                    iidfile, source_date_epoch;
  bool push = false, no_cache = false, pull = false, verify = false, quiet = false, json = false,
       push_by_digest = false, no_trunc = false;
  std::string oci_mediatypes = "true";
  int jobs = 0;
};

// "90", "90s", "5m", "1h30m" -> seconds.
Result<std::chrono::seconds> ParseSeconds(const std::string& text) {
  if (text.empty()) return std::chrono::seconds(0);
  long long total = 0, cur = 0;
  bool digits = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      cur = cur * 10 + (c - '0');
      digits = true;
      if (cur > 100000000) break;
      continue;
    }
    long long mul = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : 0;
    if (!digits || mul == 0)
      return MakeError(ErrorCode::kInvalid,
                       "\"" + text + "\" is not a duration (e.g. 90s, 5m, 1h30m)");
    total += cur * mul;
    cur = 0;
    digits = false;
  }
  total += cur;
  if (total > 100000000) return MakeError(ErrorCode::kInvalid, "duration too long: " + text);
  return std::chrono::seconds(total);
}

// Ctrl-C, SIGTERM and SIGHUP stop the build: a thread waits for them and sets the flag the
// builder polls, so every running step is killed and cleaned up before anyarch exits.
class StopOnSignal {
 public:
  explicit StopOnSignal(std::atomic<bool>& flag) : flag_(flag) {
    // The builder sets `flag` itself when a step fails; `interrupted()` says a signal did.
    sigemptyset(&set_);
    // SIGUSR2 only ends the waiting thread (see the destructor).
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR2}) sigaddset(&set_, s);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] {
      int sig = 0;
      while (sigwait(&set_, &sig) == 0) {
        if (sig == SIGUSR2 && done_) return;
        if (sig != SIGUSR2) {
          interrupted_ = true;
          flag_ = true;
        }
      }
    });
  }
  bool interrupted() const { return interrupted_; }
  ~StopOnSignal() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  std::atomic<bool>& flag_;
  std::atomic<bool> done_{false};
  std::atomic<bool> interrupted_{false};
  sigset_t set_, old_;
  std::thread thread_;
};

void RunBuild(Cli& cli, const BuildFlags& f) {
  build::BuildRequest req;
  if (f.context == "-") {
    // The context is a tar on stdin: kept in a private temporary file while the build reads it.
    auto dir = TempDir::Create("anyarch-stdin");
    if (!dir) return cli.Fail(dir.error());
    std::string path = (dir->path() / "context.tar").string();
    std::FILE* out = std::fopen(path.c_str(), "wb");
    if (!out) return cli.Fail(ErrnoError(errno, path));
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) std::fwrite(buf, 1, n, out);
    std::fclose(out);
    req.context_tar = path;
    static std::optional<TempDir> keep;
    keep = std::move(*dir);
  } else {
    req.context = f.context;
  }
  req.dockerfile = f.file;
  if (f.file == "-") {
    if (f.context == "-")
      return cli.Fail(Error(ErrorCode::kInvalid,
                            "-f - and a context on stdin cannot both read standard input"));
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    req.dockerfile_text = std::move(text);
  }
  for (const auto& p : f.platforms) {
    for (const auto& one : Split(p, ',')) {
      if (one == "local") {
        req.platforms.push_back(platform::Normalize(platform::Host()));
        continue;
      }
      auto parsed = platform::Parse(one);
      if (!parsed) return cli.Fail(parsed.error().With("--platform"));
      req.platforms.push_back(*parsed);
    }
  }
  req.tags = f.tags;
  for (const auto& kv : f.build_args) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      // "--build-arg NAME" takes the value from the environment, as docker does.
      const char* v = std::getenv(kv.c_str());
      if (v) req.build_args[kv] = v;
      continue;
    }
    req.build_args[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& kv : f.build_contexts) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return cli.Fail(Error(ErrorCode::kInvalid, "--build-context " + kv +
                                                     ": use NAME=oci:DIR, NAME=local:REF, "
                                                     "NAME=docker-image://REF or NAME=DIR"));
    req.build_contexts[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& s : f.secrets) {
    auto parsed = build::ParseSecret(s);
    if (!parsed) return cli.Fail(parsed.error());
    req.secrets.push_back(*parsed);
  }
  for (const auto& o : f.outputs) {
    auto parsed = build::ParseOutput(o);
    if (!parsed) return cli.Fail(parsed.error());
    if (parsed->type == "registry" && f.push_by_digest) parsed->push_by_digest = true;
    req.outputs.push_back(*parsed);
  }
  if (f.push_by_digest && !f.push &&
      std::none_of(req.outputs.begin(), req.outputs.end(),
                   [](const build::Output& o) { return o.type == "registry"; })) {
    req.outputs.push_back({.type = "registry", .push_by_digest = true});
  }
  req.push = f.push;
  if (f.push && f.push_by_digest) {
    req.push = false;
    req.outputs.push_back({.type = "registry", .push_by_digest = true});
  }
  req.target = f.target;
  req.no_cache = f.no_cache;
  req.no_cache_filter = f.no_cache_filter;
  for (const auto& c : f.cache_from) {
    auto spec = build::ParseCacheSpec(c, /*to=*/false);
    if (!spec) return cli.Fail(spec.error());
    req.cache_from.push_back(*spec);
  }
  for (const auto& c : f.cache_to) {
    auto spec = build::ParseCacheSpec(c, /*to=*/true);
    if (!spec) return cli.Fail(spec.error());
    req.cache_to.push_back(*spec);
  }
  req.pull = f.pull;
  req.jobs = f.jobs;
  req.network = f.network;
  auto timeout = ParseSeconds(f.step_timeout);
  if (!timeout) return cli.Fail(timeout.error().With("--step-timeout"));
  req.step_timeout = *timeout;
  std::string epoch = f.source_date_epoch;
  if (epoch.empty() && std::getenv("SOURCE_DATE_EPOCH")) epoch = std::getenv("SOURCE_DATE_EPOCH");
  if (!epoch.empty()) {
    if (epoch.find_first_not_of("0123456789") != std::string::npos || epoch.size() > 12)
      return cli.Fail(Error(ErrorCode::kInvalid,
                            "--source-date-epoch " + epoch + ": seconds since 1970 expected"));
    req.source_date_epoch = std::stoll(epoch);
  }
  auto comp = layer::ParseCompression(f.compression);
  if (!comp) return cli.Fail(comp.error().With("--compression"));
  req.compression = *comp;
  if (f.oci_mediatypes != "true" && f.oci_mediatypes != "false")
    return cli.Fail(Error(ErrorCode::kInvalid, "--oci-mediatypes takes true or false"));
  req.oci_mediatypes = f.oci_mediatypes == "true";
  req.env = cli.Env(f.jobs > 0 ? f.jobs : 4);

  BuildProgress progress(f.quiet ? "quiet" : cli.global.progress, cli.err(), cli.ErrStyle());
  req.events = &progress;
  // The step display owns a tty: transfers (base images, pushes) show only their warnings, as
  // the display's own, since two displays redrawing one screen would erase each other's lines.
  WarningsOnly transfers(progress);
  if (progress.mode() == "tty") req.env.reporter = &transfers;
  std::atomic<bool> cancel{false};
  req.cancel = &cancel;
  Result<build::BuildResult> r = MakeError(ErrorCode::kInternal, "not run");
  bool interrupted = false;
  {
    StopOnSignal stop(cancel);
    r = ops::Build(req,
                   {.verify = f.verify, .metadata_file = f.metadata_file, .iidfile = f.iidfile});
    interrupted = stop.interrupted();
  }
  progress.Finish();
  cli.EndProgress();
  if (!r) {
    if (interrupted) return cli.Fail(Error(ErrorCode::kCancelled, "the build was interrupted"));
    return cli.Fail(r.error());
  }
  if (f.metadata_file == "-") cli.out() << ops::BuildMetadata(req, *r);
  if (f.quiet) {
    cli.out() << r->digest << "\n";
    return;
  }
  if (f.json) {
    OrderedJson j;
    j["digest"] = r->digest;
    j["mediaType"] = r->media_type;
    j["seconds"] = r->seconds;
    j["outputs"] = r->outputs;
    OrderedJson ps = OrderedJson::array();
    for (const auto& p : r->platforms) {
      ps.push_back({{"platform", p.platform.ToString()},
                    {"digest", p.manifest_digest},
                    {"size", p.size},
                    {"steps_run", p.steps_run},
                    {"steps_cached", p.steps_cached}});
    }
    j["platforms"] = ps;
    cli.out() << j.dump(2) << "\n";
    return;
  }
  Table table({"PLATFORM", "MANIFEST", "SIZE", "STEPS"});
  for (const auto& p : r->platforms) {
    table.Add(
        {p.platform.ToString(), ShortId(p.manifest_digest, f.no_trunc), HumanSize(p.size),
         std::to_string(p.steps_run) + " run, " + std::to_string(p.steps_cached) + " cached"});
  }
  cli.out() << table.Render(cli.OutStyle());
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1fs", r->seconds);
  cli.out() << r->digest << "  (" << secs << ")\n";
  for (const auto& o : r->outputs) cli.out() << "  -> " << o << "\n";
}

}  // namespace

void RegisterBuildCommands(CLI::App& app, Cli& cli) {
  auto f = std::make_shared<BuildFlags>();
  CLI::App* b = app.add_subcommand(
      "build",
      "Build a Dockerfile for one or more platforms, like `docker buildx build`, without a\n"
      "daemon. Foreign platforms' RUN steps run emulated through binfmt_misc (anyarch binfmt\n"
      "install). Stages the same for every platform run once; independent stages and platforms\n"
      "run at once, up to --jobs. Every step is cached in the local store by a content key. The\n"
      "result goes to the local store by default (an index for several platforms, which run,\n"
      "push and export use at once), or to the --output destinations. Needs root.");
  b->add_option("context", f->context, "The build context: a directory, or - for a tar on stdin")
      ->capture_default_str();
  b->add_option("-f,--file", f->file, "The Dockerfile (default: CONTEXT/Dockerfile; - for stdin)");
  b->add_option("--platform", f->platforms,
                "Target platforms, comma-separated or repeated (default: this host; local = host)");
  b->add_option("-t,--tag", f->tags, "Name the result (repeatable)");
  b->add_option("--build-arg", f->build_args, "Set a build arg KEY=VALUE (repeatable)");
  b->add_option("--target", f->target, "Build this stage (default: the last)");
  b->add_option("--build-context", f->build_contexts,
                "NAME=LOCATION: FROM NAME / COPY --from=NAME reads oci:DIR, local:REF, "
                "docker-image://REF or a directory");
  b->add_option("--secret", f->secrets, "id=NAME,src=FILE or id=NAME,env=VAR (repeatable)");
  b->add_option("-o,--output", f->outputs,
                "type=registry | type=oci,dest=F|DIR | type=docker,dest=F | type=local,dest=DIR | "
                "type=tar,dest=F (repeatable)");
  b->add_flag("--push", f->push, "Also push the result under every -t name");
  b->add_flag("--push-by-digest", f->push_by_digest,
              "Push each platform's image by digest, without a tag (CI matrix builds)");
  b->add_option("--metadata-file", f->metadata_file,
                "Write the result's digests as JSON to this file (- for stdout)");
  b->add_option("--iidfile", f->iidfile, "Write the result's digest to this file");
  b->add_flag("--no-cache", f->no_cache, "Run every step again");
  b->add_option("--no-cache-filter", f->no_cache_filter, "Run these stages' steps again");
  b->add_option("--cache-from", f->cache_from,
                "Import a build cache first: type=registry,ref=REF or type=local,src=DIR "
                "(repeatable)");
  b->add_option("--cache-to", f->cache_to,
                "Export the build cache after: type=registry,ref=REF[,mode=min|max], "
                "type=local,dest=DIR[,mode=...] or type=inline");
  b->add_flag("--pull", f->pull, "Resolve base images from their registry, not the local store");
  b->add_option("-j,--jobs", f->jobs, "Steps at once (default: the number of cores)");
  b->add_option("--step-timeout", f->step_timeout,
                "Stop a RUN step after this long (90s, 10m, 1h) and fail the build");
  b->add_option("--source-date-epoch", f->source_date_epoch,
                "Clamp timestamps to this time (default: $SOURCE_DATE_EPOCH): reproducible images");
  b->add_option("--compression", f->compression, "Layer compression: gzip (default) or zstd");
  b->add_option("--oci-mediatypes", f->oci_mediatypes,
                "true (default): OCI media types; false: Docker's");
  b->add_option("--network", f->network, "RUN's network: default, none or host");
  b->add_flag("--verify", f->verify,
              "Check every ELF of every platform's result before anything is output");
  b->add_flag("-q,--quiet", f->quiet, "Print only the result's digest");
  b->add_flag("--no-trunc", f->no_trunc, "Show full manifest digests in the summary");
  b->add_flag("--json", f->json, "Print the result as JSON");
  b->footer(
      "\nExamples:\n"
      "  anyarch build --platform linux/amd64,linux/arm64,linux/arm/v7 -t app:1 .\n"
      "  anyarch build --platform linux/arm64 -t 127.0.0.1:5000/app:1 --push .\n"
      "  anyarch build -o type=oci,dest=app.tar --platform linux/arm64 .\n"
      "  anyarch build -t app:2 --cache-from 127.0.0.1:5000/app:cache --cache-to "
      "type=registry,ref=127.0.0.1:5000/app:cache,mode=max .\n"
      "  anyarch run --platform linux/arm64 app:1\n"
      "See docs/build.md.\n");
  b->callback([&cli, f] { RunBuild(cli, *f); });
}

}  // namespace anyarch::cli

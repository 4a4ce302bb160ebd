#include "ops/copy.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "base/io.h"
#include "base/thread_pool.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "ref/reference.h"

namespace anyarch::ops {

namespace {

constexpr int kBlobAttempts = 3;
constexpr std::uint64_t kProgressStep = 1 << 20;

// Reports bytes as they pass.
class ProgressReader final : public Reader {
 public:
  ProgressReader(Reader& inner, Reporter& rep, const image::Descriptor& d)
      : inner_(inner),
        rep_(rep),
        id_(d.digest.ToString()),
        total_(static_cast<std::uint64_t>(d.size)) {}
  Result<std::size_t> Read(void* buf, std::size_t n) override {
    ANYARCH_TRY(std::size_t got, inner_.Read(buf, n));
    done_ += got;
    if (done_ - reported_ >= kProgressStep || (got == 0 && done_ != reported_)) {
      reported_ = done_;
      rep_.Progress({.id = id_, .action = "copy", .current = done_, .total = total_});
    }
    return got;
  }

 private:
  Reader& inner_;
  Reporter& rep_;
  std::string id_;
  std::uint64_t total_;
  std::uint64_t done_ = 0, reported_ = 0;
};

struct Shared {
  std::mutex mu;
  CopyReport* report;
  std::atomic<bool> failed{false};
};

Status CopyBlob(image::ImageSource& src, image::ImageSink& dst, const image::Descriptor& b,
                const MountFrom& from, Reporter& rep, Shared& shared) {
  std::string id = b.digest.ToString();
  auto total = static_cast<std::uint64_t>(b.size);
  ANYARCH_TRY(bool have, dst.HasBlob(b));
  if (have) {
    std::lock_guard<std::mutex> lock(shared.mu);
    ++shared.report->blobs_skipped;
    rep.Progress({.id = id, .action = "skip", .current = total, .total = total, .done = true});
    return Ok();
  }
  if (!from.registry.empty()) {
    ANYARCH_TRY(bool mounted, dst.MountBlob(b, from.registry, from.repository));
    if (mounted) {
      std::lock_guard<std::mutex> lock(shared.mu);
      ++shared.report->blobs_mounted;
      rep.Progress({.id = id, .action = "mount", .current = total, .total = total, .done = true});
      return Ok();
    }
  }
  Status last = Ok();
  for (int attempt = 1; attempt <= kBlobAttempts; ++attempt) {
    if (shared.failed) return MakeError(ErrorCode::kCancelled, "cancelled");
    auto reader = src.OpenBlob(b);
    if (reader) {
      ProgressReader progress(**reader, rep, b);
      last = dst.PutBlob(b, progress);
    } else {
      last = Unexpected(reader.error());
    }
    if (last) break;
    if (last.error().code() != ErrorCode::kUnavailable || attempt == kBlobAttempts) break;
    rep.Warn("copying blob " + id + " failed (" + last.error().ToString() + "); starting it over");
  }
  if (!last) return Unexpected(std::move(last.error()).With("copying blob " + id));
  std::lock_guard<std::mutex> lock(shared.mu);
  ++shared.report->blobs_copied;
  shared.report->bytes_copied += total;
  rep.Progress({.id = id, .action = "copy", .current = total, .total = total, .done = true});
  return Ok();
}

}  // namespace

MountFrom MountSourceOf(const std::string& location) {
  auto loc = ParseLocation(location);
  if (!loc || loc->transport != "registry") return {};
  auto r = ref::Parse(loc->reference);
  if (!r) return {};
  return {r->registry, r->repository};
}

Status CopyImages(image::ImageSource& src, image::ImageSink& dst,
                  const std::vector<image::Descriptor>& images, const MountFrom& from,
                  const Env& env, CopyReport& report) {
  Reporter& rep = env.reporter ? *env.reporter : DiscardReporter();
  // Manifests first: they say which blobs there are.
  std::vector<image::RawManifest> raws;
  std::vector<image::Descriptor> blobs;
  std::map<Digest, bool> seen;
  for (const auto& d : images) {
    if (!image::IsManifest(d.media_type)) {
      return MakeError(ErrorCode::kUnsupported,
                       d.digest.ToString() + " is a " + d.media_type +
                           ", not an image manifest (nested indexes are not supported)");
    }
    ANYARCH_TRY(auto raw, src.GetManifest(d));
    auto m = image::ParseManifest(raw);
    if (!m) return Unexpected(std::move(m.error()).With("manifest " + d.digest.ToString()));
    std::vector<image::Descriptor> parts = {m->config};
    parts.insert(parts.end(), m->layers.begin(), m->layers.end());
    for (const auto& b : parts) {
      if (!b.urls.empty() && b.media_type.find("foreign") != std::string::npos) continue;
      if (seen.emplace(b.digest, true).second) blobs.push_back(b);
    }
    raws.push_back(std::move(raw));
  }
  Shared shared;
  shared.report = &report;
  {
    int jobs = std::max(1, std::min(env.jobs, 32));
    if (dst.MaxParallelWrites() > 0) jobs = std::min(jobs, dst.MaxParallelWrites());
    ThreadPool pool(static_cast<std::size_t>(jobs));
    std::vector<std::future<Status>> futures;
    for (const auto& b : blobs) {
      futures.push_back(pool.Submit([&, b]() -> Status {
        if (shared.failed) return MakeError(ErrorCode::kCancelled, "cancelled");
        auto st = CopyBlob(src, dst, b, from, rep, shared);
        if (!st) shared.failed = true;
        return st;
      }));
    }
    Status first = Ok();
    for (auto& f : futures) {
      Status st = f.get();
      if (!st && (first || first.error().code() == ErrorCode::kCancelled)) first = st;
    }
    if (!first) return first;
  }
  for (const auto& raw : raws) {
    ANYARCH_CHECK_CTX(dst.PutManifest(raw), "writing manifest " + raw.digest.ToString());
    ++report.manifests;
  }
  return Ok();
}

Result<CopyReport> Copy(const CopyRequest& req) {
  Transports transports(req.env);
  ANYARCH_TRY(auto src, transports.OpenSource(req.source));
  ANYARCH_TRY(auto dst, transports.OpenSink(req.destination));
  CopyReport report;
  // The store's own path means little to users: local: locations are reported as given.
  report.source = req.source.rfind("local:", 0) == 0 ? req.source : src->Describe();
  report.destination = req.destination.rfind("local:", 0) == 0 ? req.destination : dst->Describe();
  MountFrom from = MountSourceOf(req.source);
  ANYARCH_TRY(auto root, src->GetRootManifest());
  image::RawManifest written = root;
  if (image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(root));
    std::vector<image::Descriptor> chosen;
    if (req.all) {
      chosen = idx.manifests;
    } else {
      std::vector<platform::Platform> wants = req.platforms;
      if (wants.empty()) wants.push_back(platform::Host());
      std::vector<platform::Choice> choices;
      auto sel = image::SelectPlatforms(idx, wants, &choices);
      if (!sel) return Unexpected(std::move(sel.error()).With(report.source));
      chosen = *sel;
      for (std::size_t i = 0; i < choices.size(); ++i) {
        if (!choices[i].exact && req.env.reporter) {
          req.env.reporter->Warn(platform::DescribeSubstitute(wants[i], choices[i].chosen));
        }
      }
    }
    ANYARCH_CHECK(CopyImages(*src, *dst, chosen, from, req.env, report));
    for (const auto& d : chosen) {
      if (d.platform) report.platforms.push_back(platform::Normalize(*d.platform).ToString());
    }
    if (req.all) {
      ANYARCH_CHECK_CTX(dst->PutManifest(root), "writing index " + root.digest.ToString());
    } else if (chosen.size() == 1 && req.platforms.size() <= 1) {
      // One image: its manifest becomes the root, as skopeo does without --all.
      ANYARCH_TRY(written, src->GetManifest(chosen.front()));
    } else {
      // A subset of platforms is a new index (its digest differs from the source's).
      ANYARCH_TRY(written, image::BuildIndex(root.media_type, chosen, idx.annotations));
      ANYARCH_CHECK_CTX(dst->PutManifest(written), "writing index " + written.digest.ToString());
    }
  } else {
    if (!req.platforms.empty()) {
      // A single image: it must be one of the platforms asked for.
      ANYARCH_TRY(auto m, image::ParseManifest(root));
      ANYARCH_TRY(auto reader, src->OpenBlob(m.config));
      ANYARCH_TRY(std::string bytes, ReadAll(*reader, 8 << 20));
      ANYARCH_TRY(auto cfg, image::ParseConfig(std::move(bytes)));
      platform::Platform have = platform::Normalize(cfg.platform);
      bool ok =
          std::any_of(req.platforms.begin(), req.platforms.end(),
                      [&](const platform::Platform& p) { return platform::Choose(p, {have}); });
      if (!ok) {
        return MakeError(ErrorCode::kNotFound, report.source + " is a single " + have.ToString() +
                                                   " image, not an index with the platforms "
                                                   "asked for");
      }
      report.platforms.push_back(have.ToString());
    }
    ANYARCH_CHECK(CopyImages(*src, *dst, {root.ToDescriptor()}, from, req.env, report));
  }
  ANYARCH_CHECK_CTX(dst->Tag(written), "naming " + report.destination);
  ANYARCH_CHECK_CTX(dst->Commit(), "finishing " + report.destination);
  report.digest = written.digest.ToString();
  report.media_type = written.media_type;
  return report;
}

}  // namespace anyarch::ops

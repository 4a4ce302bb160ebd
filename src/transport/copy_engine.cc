#include "transport/copy_engine.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "base/io.h"
#include "base/progress_reader.h"
#include "base/thread_pool.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "ref/reference.h"

namespace anyarch::transport {

namespace {

constexpr int kBlobAttempts = 3;

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
      ProgressReader progress(**reader, rep, id, "copy", total);
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

}  // namespace anyarch::transport

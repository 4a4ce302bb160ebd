#include "ops/copy.h"

#include "image/manifest.h"
#include "image/media_types.h"
#include "ops/location.h"
#include "ref/reference.h"

namespace anyarch::ops {

Status CopyOneImage(image::ImageSource& src, image::ImageSink& dst, const image::Descriptor& desc,
                    CopyReport& report, Reporter& rep, const MountFrom& from) {
  ANYARCH_TRY(auto raw, src.GetManifest(desc));
  ANYARCH_TRY(auto m, image::ParseManifest(raw));
  std::vector<image::Descriptor> blobs = {m.config};
  blobs.insert(blobs.end(), m.layers.begin(), m.layers.end());
  for (const auto& b : blobs) {
    ANYARCH_TRY(bool have, dst.HasBlob(b));
    if (have) {
      ++report.blobs_skipped;
      rep.Progress({.id = b.digest.ToString(),
                    .action = "skip",
                    .total = static_cast<std::uint64_t>(b.size),
                    .done = true});
      continue;
    }
    if (!from.registry.empty()) {
      ANYARCH_TRY(bool mounted, dst.MountBlob(b, from.registry, from.repository));
      if (mounted) {
        ++report.blobs_mounted;
        rep.Progress({.id = b.digest.ToString(),
                      .action = "mount",
                      .total = static_cast<std::uint64_t>(b.size),
                      .done = true});
        continue;
      }
    }
    ANYARCH_TRY(auto reader, src.OpenBlob(b));
    auto st = dst.PutBlob(b, *reader);
    if (!st) return Unexpected(std::move(st.error()).With("copying blob " + b.digest.ToString()));
    ++report.blobs_copied;
    report.bytes_copied += static_cast<std::uint64_t>(b.size);
    rep.Progress({.id = b.digest.ToString(),
                  .action = "copy",
                  .current = static_cast<std::uint64_t>(b.size),
                  .total = static_cast<std::uint64_t>(b.size),
                  .done = true});
  }
  return dst.PutManifest(raw);
}

Result<CopyReport> Copy(const CopyRequest& req) {
  Reporter& rep = req.reporter ? *req.reporter : DiscardReporter();
  SourceOptions so{.insecure = req.insecure, .temp_dir = {}, .store_root = req.store_root};
  ANYARCH_TRY(auto src, OpenSource(req.source, so));
  ANYARCH_TRY(auto dst, OpenSink(req.destination, so));
  CopyReport report;
  report.source = src->Describe();
  report.destination = req.destination;
  MountFrom from;
  if (auto loc = ParseLocation(req.source); loc && loc->transport == "registry") {
    if (auto r = ref::Parse(loc->reference)) from = {r->registry, r->repository};
  }
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
      ANYARCH_TRY(chosen, image::SelectPlatforms(idx, wants));
    }
    for (const auto& d : chosen) {
      if (!image::IsManifest(d.media_type)) {
        return MakeError(ErrorCode::kUnsupported,
                         "nested index " + d.digest.ToString() + " in " + report.source);
      }
      ANYARCH_CHECK_CTX(CopyOneImage(*src, *dst, d, report, rep, from),
                        "copying " + (d.platform ? platform::Normalize(*d.platform).ToString()
                                                 : d.digest.ToString()));
      if (d.platform) report.platforms.push_back(platform::Normalize(*d.platform).ToString());
    }
    if (!req.all) {
      if (chosen.size() == 1 && req.platforms.size() <= 1) {
        // One image: copy its manifest as the root, as skopeo does without --all.
        ANYARCH_TRY(written, src->GetManifest(chosen.front()));
      } else {
        // A subset of platforms needs a new index (its digest differs from the source's).
        ANYARCH_TRY(written, image::BuildIndex(root.media_type, chosen, idx.annotations));
        ANYARCH_CHECK(dst->PutManifest(written));
      }
    } else {
      ANYARCH_CHECK(dst->PutManifest(root));
    }
  } else {
    ANYARCH_CHECK(CopyOneImage(*src, *dst, root.ToDescriptor(), report, rep, from));
  }
  ANYARCH_CHECK(dst->Tag(written));
  ANYARCH_CHECK(dst->Commit());
  report.digest = written.digest.ToString();
  return report;
}

}  // namespace anyarch::ops

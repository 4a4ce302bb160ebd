#include "ops/copy.h"

#include <algorithm>

#include "base/io.h"
#include "base/strings.h"
#include "content/oci_archive.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::ops {

Result<transport::CopyReport> Copy(const CopyRequest& req) {
  transport::Transports transports(req.env);
  ANYARCH_TRY(auto src, transports.OpenSource(req.source));
  std::unique_ptr<image::ImageSink> dst;
  auto dest_loc = transport::ParseLocation(req.destination);
  if (!req.image_name.empty() && dest_loc && dest_loc->transport == "oci-archive") {
    ANYARCH_TRY(dst, content::OpenOciArchiveSink(dest_loc->path, dest_loc->tag, req.image_name));
  } else {
    ANYARCH_TRY(dst, transports.OpenSink(req.destination));
  }
  transport::CopyReport report;
  // The store's own path means little to users: local: locations are reported as given.
  report.source = req.source.rfind("local:", 0) == 0 ? req.source : src->Describe();
  report.destination = req.destination.rfind("local:", 0) == 0 ? req.destination : dst->Describe();
  transport::MountFrom from = transport::MountSourceOf(req.source);
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
    // A docker-archive cannot hold an index: refuse before any blob moves, as export does.
    auto dest = transport::ParseLocation(req.destination);
    if (dest && dest->transport == "docker-archive" && (req.all || chosen.size() > 1)) {
      std::vector<std::string> names;
      for (const auto& d : chosen)
        if (d.platform) names.push_back(platform::Normalize(*d.platform).ToString());
      return MakeError(
          ErrorCode::kInvalid,
          report.destination + " holds one image, and " + report.source + " has " +
              std::to_string(chosen.size()) + " (" + Join(names, ", ") +
              "): give one --platform, or copy to oci-archive:, which keeps the index");
    }
    ANYARCH_CHECK(transport::CopyImages(*src, *dst, chosen, from, req.env, report));
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
    ANYARCH_CHECK(transport::CopyImages(*src, *dst, {root.ToDescriptor()}, from, req.env, report));
  }
  ANYARCH_CHECK_CTX(dst->Tag(written), "naming " + report.destination);
  ANYARCH_CHECK_CTX(dst->Commit(), "finishing " + report.destination);
  report.digest = written.digest.ToString();
  report.media_type = written.media_type;
  return report;
}

}  // namespace anyarch::ops

#include "ops/build.h"

#include "base/fs.h"
#include "base/json.h"
#include "base/strings.h"
#include "content/layout.h"
#include "inspect/check.h"

namespace anyarch::ops {

std::string BuildMetadata(const build::BuildRequest& request, const build::BuildResult& result) {
  OrderedJson j;
  j["containerimage.digest"] = result.digest;
  j["containerimage.descriptor"] = {{"mediaType", result.media_type}, {"digest", result.digest}};
  j["image.name"] = Join(request.tags, ",");
  OrderedJson ps = OrderedJson::array();
  for (const auto& p : result.platforms) {
    ps.push_back({{"platform", p.platform.ToString()},
                  {"digest", p.manifest_digest},
                  {"config", p.config_digest},
                  {"size", p.size}});
  }
  j["anyarch.platforms"] = ps;
  return j.dump(2) + "\n";
}

namespace {

// --verify: every platform's image of the result, read back from the local store where the
// build wrote it (not named yet), checked as `anyarch verify` checks. Any finding fails the build
// before its outputs are written, naming each file and its platform.
Status VerifyResult(const std::string& store_root, const image::RawManifest& root) {
  ANYARCH_TRY(auto src, content::OpenLayoutSource(store_root, ""));
  auto checks = inspect::CheckImages(*src, root, {}, DiscardReporter());
  if (!checks) return Unexpected(std::move(checks.error()).With("--verify"));
  std::vector<std::string> lines;
  for (const auto& c : *checks) {
    for (const auto& f : c.findings) lines.push_back(inspect::Describe(c, f));
  }
  if (lines.empty()) return Ok();
  return MakeError(ErrorCode::kInvalid,
                   "--verify found " +
                       (lines.size() == 1 ? std::string("a file that does not match its image's")
                                          : std::to_string(lines.size()) +
                                                " files that do not match their image's") +
                       " platform; nothing was output:\n  " + Join(lines, "\n  "));
}

}  // namespace

Result<build::BuildResult> Build(build::BuildRequest request, const BuildOptions& options) {
  if (options.verify) {
    request.verify = true;
    std::string store_root = request.env.store_root;
    auto chained = std::move(request.check);
    request.check = [store_root, chained](const image::RawManifest& root) -> Status {
      if (chained) ANYARCH_CHECK(chained(root));
      return VerifyResult(store_root, root);
    };
  }
  ANYARCH_TRY(auto result, build::Build(request));
  if (!options.metadata_file.empty() && options.metadata_file != "-")
    ANYARCH_CHECK(WriteFileAtomic(options.metadata_file, BuildMetadata(request, result)));
  if (!options.iidfile.empty())
    ANYARCH_CHECK(WriteFileAtomic(options.iidfile, result.digest + "\n"));
  return result;
}

}  // namespace anyarch::ops

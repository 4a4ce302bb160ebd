#include "ops/build.h"

#include "base/fs.h"
#include "base/json.h"
#include "base/strings.h"

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

Result<build::BuildResult> Build(build::BuildRequest request, const BuildOptions& options) {
  if (options.verify) {
    return MakeError(ErrorCode::kUnsupported,
                     "--verify is not available yet: build, then run anyarch verify on the result");
  }
  ANYARCH_TRY(auto result, build::Build(request));
  if (!options.metadata_file.empty() && options.metadata_file != "-")
    ANYARCH_CHECK(WriteFileAtomic(options.metadata_file, BuildMetadata(request, result)));
  if (!options.iidfile.empty())
    ANYARCH_CHECK(WriteFileAtomic(options.iidfile, result.digest + "\n"));
  return result;
}

}  // namespace anyarch::ops

#include "build/cache_key.h"

namespace anyarch::build {

namespace {

Json PlatformJson(const platform::Platform& p) {
  return {{"os", p.os}, {"architecture", p.architecture}, {"variant", p.variant}};
}

}  // namespace

Digest StepKey(const Digest& parent, const platform::Platform& platform, const Json& definition) {
  // nlohmann::json keeps object keys sorted, so dump() is canonical.
  Json doc = {{"v", kCacheKeyVersion},
              {"parent", parent.ToString()},
              {"platform", PlatformJson(platform)},
              {"step", definition}};
  return Sha256Of(doc.dump());
}

Digest BaseKey(const std::string& manifest_digest, const platform::Platform& platform) {
  Json doc = {{"v", kCacheKeyVersion},
              {"base", manifest_digest.empty() ? "scratch" : manifest_digest},
              {"platform", PlatformJson(platform)}};
  return Sha256Of(doc.dump());
}

}  // namespace anyarch::build

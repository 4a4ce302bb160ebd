// libFuzzer target: the JSON files that say what an archive or a layout holds. The first byte
// picks the input: even, a docker-archive manifest.json; odd, an OCI layout's oci-layout file, a
// NUL byte, then its index.json. Beyond not crashing: every image of a parsed manifest.json is
// found again by position and by each of its own RepoTags (as the docker-archive source selects
// them), an empty reference selects only a single image, and a parsed index.json is an OCI index.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "content/docker_manifest.h"
#include "content/layout.h"
#include "image/media_types.h"

namespace {

using namespace anyarch;
using namespace anyarch::content;

void CheckDockerManifest(std::string_view bytes) {
  auto images = ParseDockerManifest(bytes, "archive.tar");
  if (!images) return;
  auto only = SelectDockerImage(*images, "", "archive.tar");
  if (only.has_value() != (images->size() == 1)) std::abort();
  for (std::size_t i = 0; i < images->size() && i < 64; ++i) {
    auto at = SelectDockerImage(*images, "@" + std::to_string(i), "archive.tar");
    if (!at || *at != i) std::abort();
    for (const auto& tag : (*images)[i].repo_tags) {
      if (!SplitNameTag(tag)) continue;  // a name docker load would refuse
      auto by_tag = SelectDockerImage(*images, tag, "archive.tar");
      // The first image carrying an equivalent name wins, so it is at or before this one.
      if (!by_tag || *by_tag > i) std::abort();
      if (NormalizeRepoTag(NormalizeRepoTag(tag)) != NormalizeRepoTag(tag)) std::abort();
    }
  }
  (void)SelectDockerImage(*images, "@" + std::to_string(images->size()), "archive.tar");
  (void)SelectDockerImage(*images, "app", "archive.tar");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    CheckDockerManifest(in);
    return 0;
  }
  auto nul = in.find('\0');
  (void)CheckLayoutMarker(std::string_view(in).substr(0, nul), "oci-layout");
  if (nul == std::string::npos) return 0;
  auto index = ParseLayoutIndex(in.substr(nul + 1), "index.json");
  if (index && index->raw.media_type != image::kOciIndex) std::abort();
  return 0;
}

// libFuzzer target: what a registry or an archive serves as a manifest, an index or a config.
// The first byte picks the media type the transport claims (none, each type anyarch reads,
// schema 1, an unknown one), the rest is the document. Whatever the bytes, detection, parsing,
// validation and platform selection must return a value or an error; and what they return must
// hold together: a selected entry is one of the index's own, and an index rebuilt from its
// entries parses back to the same entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "image/manifest.h"
#include "image/media_types.h"

namespace {

using namespace anyarch;

constexpr std::string_view kTransportTypes[] = {
    "",
    image::kOciIndex,
    image::kOciManifest,
    image::kDockerManifestList,
    image::kDockerManifest,
    image::kDockerSchema1Signed,
    "application/json",
    "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
};

void CheckIndex(const image::Index& index) {
  static const platform::Platform wants[] = {
      *platform::Parse("linux/amd64"), *platform::Parse("linux/arm64"),
      *platform::Parse("linux/arm/v7"), *platform::Parse("linux/386")};
  for (const auto& want : wants) {
    auto d = image::SelectPlatform(index, want);
    if (!d) continue;
    bool listed = false;
    for (const auto& m : index.manifests) listed = listed || m == *d;
    if (!listed || !d->platform) std::abort();
  }
  (void)image::SelectPlatforms(index, {std::begin(wants), std::end(wants)});
  (void)image::DescribePlatforms(index.manifests);

  // Re-encoding keeps every entry (the platform as written), so a rebuilt index parses back.
  std::string type = image::IndexTypeFor(index.manifests, !index.annotations.empty());
  auto built = image::BuildIndex(type, index.manifests, index.annotations);
  if (!built) return;
  auto again = image::ParseIndex(*built);
  if (!again || again->manifests != index.manifests || again->annotations != index.annotations) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view transport = kTransportTypes[data[0] % std::size(kTransportTypes)];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  (void)image::ParseConfig(bytes);
  auto raw = image::MakeRawManifest(bytes, transport);
  if (!raw) return 0;
  if (raw->bytes != bytes || raw->digest != Sha256Of(bytes)) std::abort();
  if (image::IsIndex(raw->media_type)) {
    if (auto index = image::ParseIndex(*raw)) CheckIndex(*index);
  } else if (image::IsManifest(raw->media_type)) {
    (void)image::ParseManifest(*raw);
  } else {
    std::abort();  // MakeRawManifest only accepts the four types anyarch reads
  }
  return 0;
}

#include "content/layout.h"

#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "image/media_types.h"

namespace anyarch::content {

namespace fs = std::filesystem;

Result<Layout> Layout::Open(const fs::path& dir) {
  auto marker = ReadFile(dir / "oci-layout", 1 << 16);
  if (!marker) {
    if (marker.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       dir.string() + " is not an OCI image layout (no oci-layout file)");
    }
    return Unexpected(marker.error());
  }
  ANYARCH_TRY(Json m, ParseJson(*marker, (dir / "oci-layout").string()));
  ANYARCH_TRY(std::string version,
              GetString(m, "imageLayoutVersion", (dir / "oci-layout").string()));
  if (version != "1.0.0") {
    return MakeError(ErrorCode::kUnsupported,
                     dir.string() + ": unsupported imageLayoutVersion " + version);
  }
  ANYARCH_TRY(std::string index_bytes, ReadFile(dir / "index.json", image::kMaxManifestSize));
  image::RawManifest raw{
      .bytes = std::move(index_bytes), .media_type = std::string(image::kOciIndex), .digest = {}};
  auto index = image::ParseIndex(std::move(raw));
  if (!index) return Unexpected(std::move(index.error()).With((dir / "index.json").string()));
  Layout l;
  l.dir_ = dir;
  l.index_ = std::move(*index);
  return l;
}

std::vector<std::string> Layout::Tags() const {
  std::vector<std::string> out;
  for (const auto& d : index_.manifests) {
    auto it = d.annotations.find(kRefNameAnnotation);
    if (it != d.annotations.end()) out.push_back(it->second);
  }
  return out;
}

Result<image::Descriptor> Layout::Find(const std::string& tag) const {
  if (tag.empty()) {
    if (index_.manifests.size() == 1) return index_.manifests.front();
    if (index_.manifests.empty())
      return MakeError(ErrorCode::kNotFound, dir_.string() + " holds no images");
    return MakeError(ErrorCode::kInvalid, dir_.string() + " holds several images; name one (oci:" +
                                              dir_.string() + ":TAG) of: " + Join(Tags(), ", "));
  }
  for (const auto& d : index_.manifests) {
    auto it = d.annotations.find(kRefNameAnnotation);
    if (it != d.annotations.end() && it->second == tag) return d;
  }
  auto tags = Tags();
  return MakeError(ErrorCode::kNotFound,
                   "no image tagged \"" + tag + "\" in " + dir_.string() + " (it has: " +
                       (tags.empty() ? std::string("no tags") : Join(tags, ", ")) + ")");
}

fs::path Layout::BlobPath(const Digest& digest) const {
  // Digest::Parse already restricted the algorithm and hex, so this stays inside blobs/.
  return dir_ / "blobs" / digest.algorithm() / digest.hex();
}

Result<std::unique_ptr<Reader>> Layout::OpenBlob(const image::Descriptor& desc) const {
  auto f = FileReader::Open(BlobPath(desc.digest));
  if (!f) {
    if (f.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       "blob " + desc.digest.ToString() + " is missing from " + dir_.string());
    }
    return Unexpected(f.error());
  }
  return std::unique_ptr<Reader>(
      new VerifyingReader(std::move(*f), desc.digest, desc.size, "blob " + desc.digest.ToString()));
}

Result<image::RawManifest> Layout::ReadManifest(const image::Descriptor& desc) const {
  if (desc.size > static_cast<std::int64_t>(image::kMaxManifestSize)) {
    return MakeError(ErrorCode::kInvalid, "manifest " + desc.digest.ToString() + " is " +
                                              std::to_string(desc.size) +
                                              " bytes, over the 4 MiB limit");
  }
  ANYARCH_TRY(auto reader, OpenBlob(desc));
  ANYARCH_TRY(std::string bytes, ReadAll(*reader, image::kMaxManifestSize));
  ANYARCH_TRY(auto raw, image::MakeRawManifest(std::move(bytes), desc.media_type));
  return raw;
}

namespace {

class LayoutSource final : public image::ImageSource {
 public:
  LayoutSource(Layout layout, std::string tag) : layout_(std::move(layout)), tag_(std::move(tag)) {}
  std::string Describe() const override {
    return "oci:" + layout_.dir().string() + (tag_.empty() ? "" : ":" + tag_);
  }
  Result<image::RawManifest> GetRootManifest() override {
    ANYARCH_TRY(auto desc, layout_.Find(tag_));
    return layout_.ReadManifest(desc);
  }
  Result<image::RawManifest> GetManifest(const image::Descriptor& desc) override {
    return layout_.ReadManifest(desc);
  }
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& desc) override {
    return layout_.OpenBlob(desc);
  }

 private:
  Layout layout_;
  std::string tag_;
};

}  // namespace

Result<std::unique_ptr<image::ImageSource>> OpenLayoutSource(const fs::path& dir,
                                                             const std::string& tag) {
  ANYARCH_TRY(Layout l, Layout::Open(dir));
  return std::unique_ptr<image::ImageSource>(new LayoutSource(std::move(l), tag));
}

}  // namespace anyarch::content

// oci-archive: a tar of an OCI image layout (image-spec image-layout.md), read and written with
// libarchive through the shared tarball plumbing (tarball.h).
//
// Traps handled:
// - Reading: an archive is untrusted (tarball.h: unsafe paths, devices, bombs). Only the layout's
//   own files (oci-layout, index.json, blobs/) are extracted, and links are refused outright: an
//   OCI layout never needs them. The image is then served by Layout, whose messages are reworded
//   to name the archive rather than the temporary directory.
// - Writing: blobs go into the tar as they come, so a blob that fails verification fails the
//   whole sink. A manifest is refused until its config and layers (an index: its children) are
//   in the archive, so the archive never holds a dangling reference; index.json and oci-layout
//   are written last, in Commit().
#include "content/oci_archive.h"

#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "content/layout.h"
#include "content/tarball.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::content {

namespace fs = std::filesystem;

namespace {

using tarball::Dump;
using tarball::ExtractArchive;
using tarball::Extracted;
using tarball::PumpVerified;
using tarball::Quote;
using tarball::SinkState;
using tarball::TarWriter;

bool IsLayoutFile(const std::string& path) {
  return path == "oci-layout" || path == "index.json" || path.rfind("blobs/", 0) == 0;
}

class OciArchiveSource final : public image::ImageSource {
 public:
  OciArchiveSource(std::string describe, Extracted extracted, Layout layout, image::Descriptor root)
      : describe_(std::move(describe)),
        extracted_(std::move(extracted)),
        layout_(std::move(layout)),
        root_(std::move(root)) {}

  std::string Describe() const override { return describe_; }
  Result<image::RawManifest> GetRootManifest() override {
    return WithContext(layout_.ReadManifest(root_), describe_);
  }
  Result<image::RawManifest> GetManifest(const image::Descriptor& desc) override {
    return WithContext(layout_.ReadManifest(desc), describe_);
  }
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& desc) override {
    return WithContext(layout_.OpenBlob(desc), describe_);
  }

 private:
  std::string describe_;
  Extracted extracted_;  // owns the directory layout_ reads
  Layout layout_;
  image::Descriptor root_;
};

// Layout::Find, with messages that name the archive rather than the temporary directory.
Result<image::Descriptor> FindOciRoot(const Layout& layout, const std::string& tag,
                                      const std::string& what) {
  const auto& entries = layout.index().manifests;
  auto tags = layout.Tags();
  std::string have = tags.empty() ? std::string("no tags") : Join(tags, ", ");
  if (tag.empty()) {
    if (entries.size() == 1) return entries.front();
    if (entries.empty()) return MakeError(ErrorCode::kNotFound, what + " holds no images");
    return MakeError(ErrorCode::kInvalid, what + " holds " + std::to_string(entries.size()) +
                                              " images; name one (" + what + ":TAG) of: " + have);
  }
  for (const auto& d : entries) {
    auto it = d.annotations.find(kRefNameAnnotation);
    if (it != d.annotations.end() && it->second == tag) return d;
  }
  return MakeError(ErrorCode::kNotFound,
                   "no image tagged " + Quote(tag) + " in " + what + " (it has: " + have + ")");
}

class OciArchiveSink final : public image::ImageSink {
 public:
  OciArchiveSink(std::string describe, std::string tag, std::string image_name,
                 std::unique_ptr<TarWriter> tar)
      : state_(std::move(describe)),
        tag_(std::move(tag)),
        image_name_(std::move(image_name)),
        tar_(std::move(tar)) {}

  int MaxParallelWrites() const override { return 1; }

  std::string Describe() const override { return state_.describe(); }

  Result<bool> HasBlob(const image::Descriptor& desc) override {
    std::lock_guard<std::mutex> lock(mu_);
    return written_.contains(desc.digest);
  }

  Status PutBlob(const image::Descriptor& desc, Reader& data) override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    if (written_.contains(desc.digest)) return Ok();
    return state_.Fatal(WriteBlob(desc, data));
  }

  Status PutManifest(const image::RawManifest& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    ANYARCH_CHECK(CheckChildren(m));
    if (!written_.contains(m.digest)) {
      StringReader r(m.bytes);
      ANYARCH_CHECK(state_.Fatal(WriteBlob(m.ToDescriptor(), r)));
    }
    last_ = m;
    return Ok();
  }

  Status Tag(const image::RawManifest& root) override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    if (!written_.contains(root.digest)) {
      return MakeError(ErrorCode::kNotFound, state_.describe() + ": cannot tag manifest " +
                                                 root.digest.ToString() +
                                                 ", which was not put into the archive");
    }
    root_ = root;
    return Ok();
  }

  Status Commit() override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    const image::RawManifest* root = root_ ? &*root_ : last_ ? &*last_ : nullptr;
    if (!root) {
      return MakeError(ErrorCode::kInvalid,
                       state_.describe() + ": nothing to write, no manifest was put");
    }
    image::Descriptor d = root->ToDescriptor();
    if (!tag_.empty()) d.annotations[kRefNameAnnotation] = tag_;
    if (!image_name_.empty()) d.annotations[kImageNameAnnotation] = image_name_;
    OrderedJson index = OrderedJson::object();
    index["schemaVersion"] = 2;
    index["mediaType"] = std::string(image::kOciIndex);
    index["manifests"] = OrderedJson::array();
    index["manifests"].push_back(image::DescriptorToJson(d));
    Status st = [&]() -> Status {
      ANYARCH_CHECK(tar_->AddBytes("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
      ANYARCH_CHECK(tar_->AddBytes("index.json", Dump(index)));
      return tar_->Finish();
    }();
    ANYARCH_CHECK(state_.Fatal(std::move(st)));
    state_.MarkCommitted();
    tar_.reset();
    return Ok();
  }

 private:
  std::mutex mu_;  // one tar stream: calls are serialised
  Status WriteBlob(const image::Descriptor& desc, Reader& data) {
    if (desc.digest.algorithm() != "sha256") {
      return MakeError(ErrorCode::kUnsupported,
                       "blob " + desc.digest.ToString() + ": only sha256 blobs can be archived");
    }
    if (desc.size < 0) {
      return MakeError(ErrorCode::kInvalid, "blob " + desc.digest.ToString() + ": negative size");
    }
    ANYARCH_CHECK(tar_->BeginFile("blobs/sha256/" + desc.digest.hex(), desc.size));
    ANYARCH_CHECK(
        PumpVerified(data, desc, [&](const char* p, std::size_t n) { return tar_->Write(p, n); }));
    written_.insert(desc.digest);
    return Ok();
  }

  // An index's children, or a manifest's config and layers, must already be in the archive,
  // so that it never holds a dangling reference.
  Status CheckChildren(const image::RawManifest& m) const {
    std::vector<image::Descriptor> children;
    if (image::IsIndex(m.media_type)) {
      ANYARCH_TRY(auto idx, image::ParseIndex(m));
      children = idx.manifests;
    } else {
      ANYARCH_TRY(auto man, image::ParseManifest(m));
      children.push_back(man.config);
      children.insert(children.end(), man.layers.begin(), man.layers.end());
    }
    for (const auto& c : children) {
      if (!written_.contains(c.digest)) {
        return MakeError(ErrorCode::kNotFound,
                         state_.describe() + ": manifest " + m.digest.ToString() + " refers to " +
                             c.digest.ToString() + ", which was not put into the archive first");
      }
    }
    return Ok();
  }

  SinkState state_;
  std::string tag_;
  std::string image_name_;
  std::unique_ptr<TarWriter> tar_;
  std::set<Digest> written_;
  std::optional<image::RawManifest> last_;
  std::optional<image::RawManifest> root_;
};

}  // namespace

Result<std::unique_ptr<image::ImageSource>> OpenOciArchiveSource(const fs::path& file,
                                                                 const std::string& tag) {
  std::string what = "oci-archive:" + file.string();
  ANYARCH_TRY(Extracted x, ExtractArchive(file, what, {.wanted = IsLayoutFile}));
  auto layout = Layout::Open(x.dir.path());
  if (!layout) {
    if (layout.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kInvalid,
                       what + ": not an OCI image layout archive (no oci-layout file)");
    }
    return Unexpected(std::move(layout.error()).With(what));
  }
  ANYARCH_TRY(auto root, FindOciRoot(*layout, tag, what));
  return std::unique_ptr<image::ImageSource>(new OciArchiveSource(
      what + (tag.empty() ? "" : ":" + tag), std::move(x), std::move(*layout), std::move(root)));
}

Result<std::unique_ptr<image::ImageSink>> OpenOciArchiveSink(const fs::path& file,
                                                             const std::string& tag,
                                                             const std::string& image_name) {
  std::string what = "oci-archive:" + file.string();
  ANYARCH_TRY(auto tar, TarWriter::Create(file, what));
  ANYARCH_CHECK(tar->AddDirectory("blobs/"));
  ANYARCH_CHECK(tar->AddDirectory("blobs/sha256/"));
  return std::unique_ptr<image::ImageSink>(
      new OciArchiveSink(what + (tag.empty() ? "" : ":" + tag), tag, image_name, std::move(tar)));
}

}  // namespace anyarch::content

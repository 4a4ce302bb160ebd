// docker-archive: the format of `docker save` that `docker load` reads (moby image/tarexport),
// read and written with libarchive through the shared tarball plumbing (tarball.h).
// manifest.json is [{"Config": "<file>", "RepoTags": ["name:tag"], "Layers": ["<file>", ...]}],
// the config is a JSON file, each layer an uncompressed tar whose sha256 is its rootfs.diff_ids
// entry, and the legacy "repositories" file maps {"name": {"tag": "<top layer id>"}}.
//
// Traps handled:
// - Reading: an archive is untrusted (tarball.h: unsafe paths, devices, bombs). Links cannot be
//   refused: docker save (duplicate layers) and skopeo (legacy <id>/layer.tar) write symbolic
//   links, so links are recorded, never created, and followed by name when manifest.json points
//   at one; a link leaving the archive is refused.
// - Docker 25+ `docker save` writes an OCI layout with manifest.json paths under blobs/sha256;
//   older versions and skopeo write <id>/layer.tar and <hex>.json. Paths come from
//   manifest.json, never assumed.
// - RepoTags are written fully qualified ("docker.io/library/app:1", as skopeo does) and matched
//   normalised, so "app:1" finds them.
// - Writing: a tar header carries the entry's size, so a compressed layer is decompressed to a
//   temporary file before its entry is written, and checked against its diff_id on the way.
// - A blob that fails verification cannot be taken back out of a half-written tar, so it fails
//   the whole sink; only Commit() renames the file into place.
#include "content/docker_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "content/docker_manifest.h"
#include "content/tarball.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::content {

namespace fs = std::filesystem;

namespace {

using tarball::ArchiveErrorText;
using tarball::Dump;
using tarball::ExtractArchive;
using tarball::Extracted;
using tarball::ExtractedFile;
using tarball::kBufferSize;
using tarball::kMaxJsonFile;
using tarball::PumpVerified;
using tarball::Quote;
using tarball::ReadArchive;
using tarball::SinkState;
using tarball::TarWriter;
using tarball::WriteAll;

using Fd = UniqueFd;

// ---------------------------------------------------------------------------------------------
// Compression by magic bytes

enum class Compression { kNone, kGzip, kZstd };

Compression DetectCompression(std::string_view head) {
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
      static_cast<unsigned char>(head[1]) == 0x8b)
    return Compression::kGzip;
  if (head.size() >= 4 && static_cast<unsigned char>(head[0]) == 0x28 &&
      static_cast<unsigned char>(head[1]) == 0xb5 && static_cast<unsigned char>(head[2]) == 0x2f &&
      static_cast<unsigned char>(head[3]) == 0xfd)
    return Compression::kZstd;
  return Compression::kNone;
}

// ---------------------------------------------------------------------------------------------
// docker-archive source

class DockerArchiveSource final : public image::ImageSource {
 public:
  struct Blob {
    fs::path path;
    std::int64_t size = 0;
  };
  DockerArchiveSource(std::string describe, Extracted extracted, image::RawManifest root,
                      std::map<Digest, Blob> blobs)
      : describe_(std::move(describe)),
        extracted_(std::move(extracted)),
        root_(std::move(root)),
        blobs_(std::move(blobs)) {}

  std::string Describe() const override { return describe_; }
  Result<image::RawManifest> GetRootManifest() override { return root_; }
  Result<image::RawManifest> GetManifest(const image::Descriptor& desc) override {
    if (desc.digest == root_.digest) return root_;
    return MakeError(ErrorCode::kNotFound, describe_ + ": no manifest " + desc.digest.ToString() +
                                               " (a docker-archive holds only " +
                                               root_.digest.ToString() + ")");
  }
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& desc) override {
    auto it = blobs_.find(desc.digest);
    if (it == blobs_.end()) {
      return MakeError(ErrorCode::kNotFound,
                       describe_ + ": no blob " + desc.digest.ToString() + " in the archive");
    }
    auto f = FileReader::Open(it->second.path);
    if (!f) return Unexpected(std::move(f.error()).With(describe_));
    return std::unique_ptr<Reader>(new VerifyingReader(
        std::move(*f), desc.digest, desc.size, describe_ + ": blob " + desc.digest.ToString()));
  }

 private:
  std::string describe_;
  Extracted extracted_;  // owns the files blobs_ points at
  image::RawManifest root_;
  std::map<Digest, Blob> blobs_;
};

// ---------------------------------------------------------------------------------------------
// docker-archive sink

// An uncompressed layer on disk.
struct PlainLayer {
  fs::path path;
  Digest digest;
  std::int64_t size = 0;
  bool temporary = false;  // a file made by Decompress, removed after use
};

Result<std::string> ReadHead(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Unexpected(ErrnoError(errno, path.string()));
  char head[4];
  std::size_t got = 0;
  while (got < sizeof head) {
    ssize_t n = ::read(fd.get(), head + got, sizeof head - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unexpected(ErrnoError(errno, path.string()));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return std::string(head, got);
}

// Makes the blob at `src` (verified: `digest`, `size`) a plain tar: gzip and zstd (by magic
// bytes) are decompressed into a new file in `dir`, hashed on the way; a plain tar is used as it
// is. `what` names the layer in errors.
Result<PlainLayer> Decompress(const fs::path& src, const Digest& digest, std::int64_t size,
                              const fs::path& dir, const std::string& what) {
  ANYARCH_TRY(std::string head, ReadHead(src));
  if (DetectCompression(head) == Compression::kNone) return PlainLayer{src, digest, size, false};

  ReadArchive a(archive_read_new(), archive_read_free);
  if (!a) return MakeError(ErrorCode::kInternal, "libarchive: out of memory");
  // Only these two filters: "all" would let libarchive run external programs (lzop, lz4, ...).
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* ae = nullptr;
  if (archive_read_open_filename(a.get(), src.c_str(), kBufferSize) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &ae) != ARCHIVE_OK) {
    return MakeError(ErrorCode::kInvalid,
                     what + ": cannot decompress: " + ArchiveErrorText(a.get()));
  }
  fs::path out = dir / ("plain-" + digest.hex());
  PlainLayer plain{out, {}, 0, true};
  Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Unexpected(ErrnoError(errno, out.string()));
  std::vector<char> buf(kBufferSize);
  Sha256 hash;
  Status st = [&]() -> Status {
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) {
        return MakeError(ErrorCode::kInvalid,
                         what + ": cannot decompress: " + ArchiveErrorText(a.get()));
      }
      if (n == 0) break;
      hash.Update(buf.data(), static_cast<std::size_t>(n));
      plain.size += n;
      ANYARCH_CHECK(WriteAll(fd.get(), buf.data(), static_cast<std::size_t>(n), out.string()));
    }
    return fd.Close(out.string());
  }();
  if (!st) {
    ::unlink(out.c_str());
    return Unexpected(st.error());
  }
  plain.digest = hash.Finish();
  return plain;
}

class DockerArchiveSink final : public image::ImageSink {
 public:
  // One image per name in `names` (an unnamed image has nullopt), in the order they are put.
  DockerArchiveSink(std::string describe, std::vector<std::optional<NameTag>> names,
                    TempDir staging, std::unique_ptr<TarWriter> tar)
      : state_(std::move(describe)),
        names_(std::move(names)),
        staging_(std::move(staging)),
        tar_(std::move(tar)) {}

  int MaxParallelWrites() const override { return 1; }

  std::string Describe() const override { return state_.describe(); }

  Result<bool> HasBlob(const image::Descriptor& desc) override {
    std::lock_guard<std::mutex> lock(mu_);
    return staged_.contains(desc.digest);
  }

  Status PutBlob(const image::Descriptor& desc, Reader& data) override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    if (staged_.contains(desc.digest)) return Ok();
    return state_.Fatal(Stage(desc, data));
  }

  Status PutManifest(const image::RawManifest& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    if (image::IsIndex(m.media_type)) {
      return MakeError(ErrorCode::kUnsupported,
                       state_.describe() + ": a docker-archive holds one image, not an index (" +
                           m.digest.ToString() + "); pick one platform with --platform");
    }
    if (!image::IsManifest(m.media_type)) {
      return MakeError(ErrorCode::kUnsupported,
                       state_.describe() + ": cannot store a " + m.media_type);
    }
    for (const auto& e : entries_)
      if (e.manifest.digest == m.digest) return Ok();
    if (entries_.size() == names_.size()) {
      if (names_.size() == 1)
        return MakeError(ErrorCode::kUnsupported,
                         state_.describe() + ": a docker-archive holds one image, and " +
                             entries_[0].manifest.digest.ToString() + " is already in it");
      return MakeError(ErrorCode::kInvalid, state_.describe() + ": " + m.digest.ToString() +
                                                " is one image more than the " +
                                                std::to_string(names_.size()) + " names given");
    }
    return state_.Fatal(WriteImage(m));
  }

  Status Tag(const image::RawManifest& root) override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    bool known = std::any_of(entries_.begin(), entries_.end(),
                             [&](const Entry& e) { return e.manifest.digest == root.digest; });
    // Several images: the index that lists them names them all (each has its own RepoTag).
    if (!known && !(names_.size() > 1 && image::IsIndex(root.media_type))) {
      return MakeError(
          image::IsIndex(root.media_type) ? ErrorCode::kUnsupported : ErrorCode::kNotFound,
          state_.describe() + ": cannot tag " + root.digest.ToString() +
              ", which is not the image in the archive");
    }
    return Ok();
  }

  Status Commit() override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    if (entries_.size() != names_.size()) {
      return MakeError(ErrorCode::kInvalid,
                       state_.describe() + ": " + std::to_string(entries_.size()) + " of " +
                           std::to_string(names_.size()) + " image manifests were put");
    }
    OrderedJson manifest = OrderedJson::array();
    OrderedJson repos = OrderedJson::object();
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      OrderedJson item = OrderedJson::object();
      item["Config"] = e.config_name;
      item["RepoTags"] = OrderedJson::array();
      if (names_[i]) item["RepoTags"].push_back(names_[i]->name + ":" + names_[i]->tag);
      item["Layers"] = e.layer_names;
      manifest.push_back(item);
      if (names_[i] && !e.layer_names.empty()) {
        // The legacy loader's map from name and tag to the top layer.
        std::string top = e.layer_names.back().substr(0, e.layer_names.back().size() - 4);
        if (!repos.contains(names_[i]->name)) repos[names_[i]->name] = OrderedJson::object();
        repos[names_[i]->name][names_[i]->tag] = top;
      }
    }
    Status st = [&]() -> Status {
      ANYARCH_CHECK(tar_->AddBytes("manifest.json", Dump(manifest)));
      if (!repos.empty()) ANYARCH_CHECK(tar_->AddBytes("repositories", Dump(repos)));
      return tar_->Finish();
    }();
    ANYARCH_CHECK(state_.Fatal(std::move(st)));
    state_.MarkCommitted();
    tar_.reset();
    staging_ = TempDir();
    return Ok();
  }

 private:
  std::mutex mu_;  // one tar stream: calls are serialised
  struct Staged {
    fs::path path;
    std::int64_t size = 0;
  };

  Status Stage(const image::Descriptor& desc, Reader& data) {
    if (desc.digest.algorithm() != "sha256") {
      return MakeError(ErrorCode::kUnsupported,
                       "blob " + desc.digest.ToString() + ": only sha256 blobs can be archived");
    }
    fs::path path = staging_.path() / ("blob-" + desc.digest.hex());
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return Unexpected(ErrnoError(errno, path.string()));
    Status st = PumpVerified(data, desc, [&](const char* p, std::size_t n) {
      return WriteAll(fd.get(), p, n, path.string());
    });
    if (st) st = fd.Close(path.string());
    if (!st) {
      ::unlink(path.c_str());
      return st;
    }
    staged_[desc.digest] = Staged{path, desc.size};
    return Ok();
  }

  Status WriteImage(const image::RawManifest& m) {
    ANYARCH_TRY(auto man, image::ParseManifest(m));
    auto cfg = staged_.find(man.config.digest);
    if (cfg == staged_.end()) {
      return MakeError(ErrorCode::kNotFound, state_.describe() + ": config " +
                                                 man.config.digest.ToString() +
                                                 " was not put before its manifest");
    }
    ANYARCH_TRY(std::string config_bytes, ReadFile(cfg->second.path, kMaxJsonFile));
    auto config = image::ParseConfig(config_bytes);
    if (!config) {
      return Unexpected(std::move(config.error()).With("config " + man.config.digest.ToString()));
    }
    const auto& diff_ids = config->diff_ids;
    if (diff_ids.size() != man.layers.size()) {
      return MakeError(ErrorCode::kInvalid, "config " + man.config.digest.ToString() + " lists " +
                                                std::to_string(diff_ids.size()) +
                                                " rootfs.diff_ids for the " +
                                                std::to_string(man.layers.size()) +
                                                " layers of manifest " + m.digest.ToString());
    }
    Entry entry{.manifest = m, .config_name = man.config.digest.hex() + ".json"};
    if (written_.emplace(entry.config_name, man.config.digest).second)
      ANYARCH_CHECK(tar_->AddBytes(entry.config_name, config_bytes));
    auto& written = written_;
    for (std::size_t i = 0; i < man.layers.size(); ++i) {
      const auto& layer = man.layers[i];
      std::string what = "layer " + std::to_string(i) + " (" + layer.digest.ToString() + ")";
      if (diff_ids[i].algorithm() != "sha256") {
        return MakeError(ErrorCode::kUnsupported,
                         what + ": diff_id " + diff_ids[i].ToString() + " is not sha256");
      }
      std::string name = diff_ids[i].hex() + ".tar";
      entry.layer_names.push_back(name);
      // The same layer twice is one file named twice; a different blob claiming a diff_id
      // already written is still checked (another compression of the same tar is fine).
      auto prev = written.find(name);
      if (prev != written.end() && prev->second == layer.digest) continue;
      auto staged = staged_.find(layer.digest);
      if (staged == staged_.end()) {
        return MakeError(ErrorCode::kNotFound,
                         state_.describe() + ": " + what + " was not put before its manifest");
      }
      ANYARCH_TRY(PlainLayer plain, Decompress(staged->second.path, layer.digest,
                                               staged->second.size, staging_.path(), what));
      Status st = [&]() -> Status {
        if (plain.digest != diff_ids[i]) {
          return MakeError(ErrorCode::kDigestMismatch,
                           state_.describe() + ": " + what + " uncompresses to " +
                               plain.digest.ToString() + ", but the config's rootfs.diff_ids[" +
                               std::to_string(i) + "] is " + diff_ids[i].ToString());
        }
        if (prev != written.end()) return Ok();
        return tar_->AddFile(name, plain.path, plain.size);
      }();
      if (plain.temporary) ::unlink(plain.path.c_str());
      ANYARCH_CHECK(st);
      written.emplace(name, layer.digest);
    }
    entries_.push_back(std::move(entry));
    return Ok();
  }

  SinkState state_;
  struct Entry {
    image::RawManifest manifest;
    std::string config_name;
    std::vector<std::string> layer_names;
  };
  std::vector<std::optional<NameTag>> names_;
  TempDir staging_;
  std::unique_ptr<TarWriter> tar_;
  std::map<Digest, Staged> staged_;
  std::vector<Entry> entries_;
  std::map<std::string, Digest> written_;  // entry name -> the blob it came from
};

fs::path ParentDir(const fs::path& file) {
  fs::path dir = file.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

}  // namespace

Result<std::unique_ptr<image::ImageSource>> OpenDockerArchiveSource(const fs::path& file,
                                                                    const std::string& reference) {
  std::string what = "docker-archive:" + file.string();
  ANYARCH_TRY(Extracted x, ExtractArchive(file, what, {.record_links = true, .hash = true}));
  if (!x.files.contains("manifest.json")) {
    return MakeError(ErrorCode::kInvalid,
                     what + ": not a docker-archive (no manifest.json; docker save writes one)");
  }
  ANYARCH_TRY(std::string manifest_json, ReadFile(x.dir.path() / "manifest.json", kMaxJsonFile));
  ANYARCH_TRY(auto images, ParseDockerManifest(manifest_json, what));
  ANYARCH_TRY(std::size_t pick, SelectDockerImage(images, reference, what));
  const DockerImageEntry& entry = images[pick];

  std::map<Digest, DockerArchiveSource::Blob> blobs;
  ANYARCH_TRY(auto config_file, x.Lookup(entry.config, what, "config"));
  const fs::path config_path = x.dir.path() / config_file.first;
  ANYARCH_TRY(std::string config_bytes, ReadFile(config_path, kMaxJsonFile));
  auto config = image::ParseConfig(config_bytes);
  if (!config) {
    return Unexpected(std::move(config.error()).With(what + ": config " + Quote(entry.config)));
  }
  if (config->diff_ids.size() != entry.layers.size()) {
    return MakeError(ErrorCode::kInvalid, what + ": config " + Quote(entry.config) + " lists " +
                                              std::to_string(config->diff_ids.size()) +
                                              " rootfs.diff_ids, but manifest.json lists " +
                                              std::to_string(entry.layers.size()) + " layers");
  }
  image::Descriptor config_desc{.media_type = std::string(image::kDockerConfig),
                                .digest = config_file.second->digest,
                                .size = config_file.second->size};
  blobs[config_desc.digest] = {config_path, config_desc.size};

  std::vector<std::pair<image::Descriptor, Compression>> layers;
  bool oci = false;
  for (std::size_t i = 0; i < entry.layers.size(); ++i) {
    ANYARCH_TRY(auto layer_file, x.Lookup(entry.layers[i], what, "layer " + std::to_string(i)));
    const ExtractedFile& f = *layer_file.second;
    Compression c = DetectCompression(f.head);
    if (c == Compression::kNone && f.digest != config->diff_ids[i]) {
      return MakeError(ErrorCode::kDigestMismatch,
                       what + ": layer " + Quote(entry.layers[i]) + " has digest " +
                           f.digest.ToString() + ", but the config's rootfs.diff_ids[" +
                           std::to_string(i) + "] is " + config->diff_ids[i].ToString());
    }
    if (c == Compression::kZstd) oci = true;
    layers.push_back({image::Descriptor{.media_type = {}, .digest = f.digest, .size = f.size}, c});
    blobs[f.digest] = {x.dir.path() / layer_file.first, f.size};
  }

  // zstd has no Docker media type, so such an image is described as OCI.
  if (oci) config_desc.media_type = std::string(image::kOciConfig);
  OrderedJson j = OrderedJson::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = std::string(oci ? image::kOciManifest : image::kDockerManifest);
  j["config"] = image::DescriptorToJson(config_desc);
  j["layers"] = OrderedJson::array();
  for (auto& [d, c] : layers) {
    switch (c) {
      case Compression::kGzip:
        d.media_type = std::string(oci ? image::kOciLayerGzip : image::kDockerLayerGzip);
        break;
      case Compression::kZstd:
        d.media_type = std::string(image::kOciLayerZstd);
        break;
      case Compression::kNone:
        d.media_type =
            oci ? std::string(image::kOciLayer) : "application/vnd.docker.image.rootfs.diff.tar";
        break;
    }
    j["layers"].push_back(image::DescriptorToJson(d));
  }
  auto raw = image::MakeRawManifest(Dump(j), oci ? image::kOciManifest : image::kDockerManifest);
  if (!raw) return Unexpected(std::move(raw.error()).With(what));
  std::string describe = what + (reference.empty() ? "" : ":" + reference);
  return std::unique_ptr<image::ImageSource>(
      new DockerArchiveSource(describe, std::move(x), std::move(*raw), std::move(blobs)));
}

Result<std::unique_ptr<image::ImageSink>> OpenDockerArchiveSink(
    const fs::path& file, const std::vector<std::string>& repo_tags) {
  std::string what = "docker-archive:" + file.string();
  if (repo_tags.empty()) return MakeError(ErrorCode::kInvalid, what + ": no image to write");
  std::vector<std::optional<NameTag>> names;
  for (const auto& t : repo_tags) {
    if (t.empty()) {
      names.emplace_back();
      continue;
    }
    auto nt = SplitNameTag(t);
    if (!nt) return Unexpected(std::move(nt.error()).With(what));
    names.emplace_back(std::move(*nt));
  }
  ANYARCH_TRY(auto tar, TarWriter::Create(file, what));
  ANYARCH_TRY(TempDir staging,
              TempDir::Create("." + file.filename().string() + ".staging", ParentDir(file)));
  std::string shown = repo_tags.size() == 1 && !repo_tags[0].empty() ? ":" + repo_tags[0] : "";
  return std::unique_ptr<image::ImageSink>(
      new DockerArchiveSink(what + shown, std::move(names), std::move(staging), std::move(tar)));
}

Result<std::unique_ptr<image::ImageSink>> OpenDockerArchiveSink(const fs::path& file,
                                                                const std::string& repo_tag) {
  return OpenDockerArchiveSink(file, std::vector<std::string>{repo_tag});
}

}  // namespace anyarch::content

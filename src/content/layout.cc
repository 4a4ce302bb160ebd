#include "content/layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <functional>
#include <set>

#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "image/media_types.h"

namespace anyarch::content {

namespace fs = std::filesystem;

Status CheckLayoutMarker(std::string_view bytes, const std::string& what) {
  ANYARCH_TRY(Json m, ParseJson(bytes, what));
  if (!m.is_object()) return MakeError(ErrorCode::kInvalid, what + ": not a JSON object");
  ANYARCH_TRY(std::string version, GetString(m, "imageLayoutVersion", what));
  if (version != "1.0.0") {
    return MakeError(ErrorCode::kUnsupported,
                     what + ": unsupported imageLayoutVersion " + Printable(version, 40));
  }
  return Ok();
}

Result<image::Index> ParseLayoutIndex(std::string bytes, const std::string& what) {
  image::RawManifest raw{
      .bytes = std::move(bytes), .media_type = std::string(image::kOciIndex), .digest = {}};
  auto index = image::ParseIndex(std::move(raw));
  if (!index) return Unexpected(std::move(index.error()).With(what));
  return index;
}

Result<Layout> Layout::Open(const fs::path& dir) {
  auto marker = ReadFile(dir / "oci-layout", 1 << 16);
  if (!marker) {
    if (marker.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       dir.string() + " is not an OCI image layout (no oci-layout file)");
    }
    return Unexpected(marker.error());
  }
  ANYARCH_CHECK(CheckLayoutMarker(*marker, (dir / "oci-layout").string()));
  ANYARCH_TRY(std::string index_bytes, ReadFile(dir / "index.json", image::kMaxManifestSize));
  ANYARCH_TRY(auto index, ParseLayoutIndex(std::move(index_bytes), (dir / "index.json").string()));
  Layout l;
  l.dir_ = dir;
  l.index_ = std::move(index);
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

Result<Layout> CreateLayout(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "blobs" / "sha256", ec);
  if (ec) return MakeError(ErrorCode::kIo, dir.string() + ": " + ec.message());
  if (!fs::exists(dir / "oci-layout", ec)) {
    ANYARCH_CHECK(WriteFileAtomic(dir / "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
  }
  if (!fs::exists(dir / "index.json", ec)) {
    ANYARCH_CHECK(WriteFileAtomic(
        dir / "index.json",
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":[]}"));
  }
  return Layout::Open(dir);
}

Status WriteBlob(const fs::path& dir, const image::Descriptor& desc, Reader& data) {
  fs::path target = dir / "blobs" / desc.digest.algorithm() / desc.digest.hex();
  std::error_code ec;
  if (fs::exists(target, ec)) return Ok();
  ANYARCH_TRY(AtomicFile f, AtomicFile::Create(target, 0644));
  Sha256 hash;
  char buf[1 << 16];
  for (;;) {
    ANYARCH_TRY(std::size_t n, data.Read(buf, sizeof buf));
    if (n == 0) break;
    hash.Update(buf, n);
    ANYARCH_CHECK(f.Write(buf, n));
  }
  Digest got = hash.Finish();
  if (got != desc.digest || f.bytes_written() != static_cast<std::uint64_t>(desc.size)) {
    return MakeError(ErrorCode::kDigestMismatch, "blob " + desc.digest.ToString() +
                                                     ": content has digest " + got.ToString() +
                                                     ", expected " + desc.digest.ToString());
  }
  return f.Commit();
}

namespace {

// Holds an exclusive lock on <dir>/index.json.lock while index.json is rewritten.
class IndexLock {
 public:
  static Result<IndexLock> Take(const fs::path& dir) {
    int fd = ::open((dir / "index.json.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) return Unexpected(ErrnoError(errno, (dir / "index.json.lock").string()));
    if (::flock(fd, LOCK_EX) != 0) {
      ::close(fd);
      return Unexpected(ErrnoError(errno, "locking " + dir.string()));
    }
    IndexLock l;
    l.fd_ = fd;
    return l;
  }
  IndexLock() = default;
  IndexLock(IndexLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~IndexLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

Status RewriteIndex(const fs::path& dir,
                    const std::function<Status(std::vector<image::Descriptor>&)>& edit) {
  ANYARCH_TRY(IndexLock lock, IndexLock::Take(dir));
  ANYARCH_TRY(Layout l, Layout::Open(dir));
  std::vector<image::Descriptor> entries = l.index().manifests;
  ANYARCH_CHECK(edit(entries));
  OrderedJson j = OrderedJson::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = std::string(image::kOciIndex);
  OrderedJson arr = OrderedJson::array();
  for (const auto& e : entries) arr.push_back(image::DescriptorToJson(e));
  j["manifests"] = arr;
  return WriteFileAtomic(dir / "index.json", j.dump());
}

}  // namespace

Status SetRef(const fs::path& dir, const std::string& name, image::Descriptor desc) {
  return RewriteIndex(dir, [&](std::vector<image::Descriptor>& entries) -> Status {
    if (!name.empty()) {
      std::erase_if(entries, [&](const image::Descriptor& e) {
        auto it = e.annotations.find(kRefNameAnnotation);
        return it != e.annotations.end() && it->second == name;
      });
      desc.annotations[kRefNameAnnotation] = name;
    }
    desc.platform.reset();
    entries.push_back(desc);
    return Ok();
  });
}

Status RemoveRef(const fs::path& dir, const std::string& name) {
  return RewriteIndex(dir, [&](std::vector<image::Descriptor>& entries) -> Status {
    auto n = std::erase_if(entries, [&](const image::Descriptor& e) {
      auto it = e.annotations.find(kRefNameAnnotation);
      return it != e.annotations.end() && it->second == name;
    });
    if (n == 0)
      return MakeError(ErrorCode::kNotFound, "no image named " + name + " in " + dir.string());
    return Ok();
  });
}

namespace {

class LayoutSink final : public image::ImageSink {
 public:
  LayoutSink(fs::path dir, std::string name, StoreLock lock)
      : dir_(std::move(dir)), name_(std::move(name)), lock_(std::move(lock)) {}
  std::string Describe() const override {
    return "oci:" + dir_.string() + (name_.empty() ? "" : ":" + name_);
  }
  Result<bool> HasBlob(const image::Descriptor& desc) override {
    std::error_code ec;
    return fs::exists(dir_ / "blobs" / desc.digest.algorithm() / desc.digest.hex(), ec);
  }
  Status PutBlob(const image::Descriptor& desc, Reader& data) override {
    return WriteBlob(dir_, desc, data);
  }
  Status PutManifest(const image::RawManifest& m) override {
    StringReader r(m.bytes);
    return WriteBlob(dir_, m.ToDescriptor(), r);
  }
  Status Tag(const image::RawManifest& root) override {
    return SetRef(dir_, name_, root.ToDescriptor());
  }

 private:
  fs::path dir_;
  std::string name_;
  StoreLock lock_;
};

Result<int> TakeStoreLock(const fs::path& dir, int how) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  int fd = ::open((dir / "gc.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) return Unexpected(ErrnoError(errno, (dir / "gc.lock").string()));
  if (::flock(fd, how) != 0) {
    int e = errno;
    ::close(fd);
    return Unexpected(ErrnoError(e, "locking " + dir.string()));
  }
  return fd;
}

}  // namespace

Result<StoreLock> StoreLock::Shared(const fs::path& dir) {
  ANYARCH_TRY(int fd, TakeStoreLock(dir, LOCK_SH));
  StoreLock l;
  l.fd_ = fd;
  return l;
}

Result<StoreLock> StoreLock::Exclusive(const fs::path& dir) {
  ANYARCH_TRY(int fd, TakeStoreLock(dir, LOCK_EX));
  StoreLock l;
  l.fd_ = fd;
  return l;
}

StoreLock& StoreLock::operator=(StoreLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<image::ImageSink>> OpenLayoutSink(const fs::path& dir,
                                                         const std::string& name, bool store_lock) {
  StoreLock lock;
  if (store_lock) {
    ANYARCH_TRY(lock, StoreLock::Shared(dir));
  }
  ANYARCH_TRY(Layout l, CreateLayout(dir));
  (void)l;
  return std::unique_ptr<image::ImageSink>(new LayoutSink(dir, name, std::move(lock)));
}

Result<GcReport> CollectGarbage(const fs::path& dir,
                                const std::function<std::set<std::string>()>& more_roots,
                                bool dry_run) {
  GcReport report;
  std::error_code ec;
  if (!fs::exists(dir / "oci-layout", ec)) return report;
  ANYARCH_TRY(StoreLock gc, StoreLock::Exclusive(dir));
  ANYARCH_TRY(IndexLock lock, IndexLock::Take(dir));
  ANYARCH_TRY(Layout l, Layout::Open(dir));
  // Everything reachable from the names, and what the caller keeps.
  std::set<std::string> keep;
  if (more_roots) keep = more_roots();
  std::vector<image::Descriptor> todo = l.index().manifests;
  while (!todo.empty()) {
    image::Descriptor d = std::move(todo.back());
    todo.pop_back();
    if (!keep.insert(d.digest.hex()).second) continue;
    if (!image::IsManifestOrIndex(d.media_type)) continue;
    auto raw = l.ReadManifest(d);
    if (!raw) continue;  // a child that was never copied here
    if (image::IsIndex(raw->media_type)) {
      if (auto idx = image::ParseIndex(*raw))
        todo.insert(todo.end(), idx->manifests.begin(), idx->manifests.end());
    } else if (auto m = image::ParseManifest(*raw)) {
      todo.push_back(m->config);
      todo.insert(todo.end(), m->layers.begin(), m->layers.end());
      if (m->subject) keep.insert(m->subject->digest.hex());
    }
  }
  fs::path blobs = dir / "blobs" / "sha256";
  for (const auto& e : fs::directory_iterator(blobs, ec)) {
    std::string name = e.path().filename().string();
    std::error_code ec2;
    auto size = e.is_regular_file(ec2) ? e.file_size(ec2) : 0;
    if (name.size() > 0 && name[0] == '.') {
      // An AtomicFile left by a killed process: no writer runs while we hold the lock.
      if (dry_run || fs::remove(e.path(), ec2)) ++report.temp_files_removed;
      continue;
    }
    if (keep.count(name)) continue;
    if (dry_run || fs::remove(e.path(), ec2)) {
      ++report.blobs_removed;
      report.bytes_freed += size;
    }
  }
  return report;
}

Result<std::unique_ptr<image::ImageSource>> OpenLayoutSource(const fs::path& dir,
                                                             const std::string& tag) {
  ANYARCH_TRY(Layout l, Layout::Open(dir));
  return std::unique_ptr<image::ImageSource>(new LayoutSource(std::move(l), tag));
}

}  // namespace anyarch::content

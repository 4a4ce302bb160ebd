#include "build/snapshots.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/process.h"
#include "base/strings.h"
#include "content/layout.h"
#include "isolation/userns.h"
#include "layer/tar_stream.h"
#include "layer/unpack.h"

namespace anyarch::build {

namespace fs = std::filesystem;

namespace {

Status MakePrivateDir(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec) return MakeError(ErrorCode::kIo, p.string() + ": " + ec.message());
  ::chmod(p.c_str(), 0700);
  return Ok();
}

std::string PlatformDirName(const platform::Platform& p) {
  std::string s = p.os + "_" + p.architecture;
  if (!p.variant.empty()) s += "_" + p.variant;
  return s;
}

}  // namespace

Result<SnapshotStore> SnapshotStore::Open(const std::string& store_root) {
  ANYARCH_TRY(auto layout, content::CreateLayout(store_root));
  (void)layout;
  for (const char* d : {"build", "build/cache", "build/tmp", "build/mounts"})
    ANYARCH_CHECK(MakePrivateDir(fs::path(store_root) / d));
  SnapshotStore s;
  s.root_ = store_root;
  return s;
}

fs::path SnapshotStore::blobs_dir() const { return fs::path(root_) / "blobs" / "sha256"; }

std::optional<StepRecord> SnapshotStore::Lookup(const Digest& key) const {
  fs::path dir = fs::path(root_) / "build" / "cache" / key.hex();
  auto text = ReadFile(dir / "record.json", 1 << 20);
  if (!text) return std::nullopt;
  auto j = ParseJson(*text, "a build cache record");
  if (!j || !j->is_object()) return std::nullopt;
  StepRecord r;
  r.diff_dir = (dir / "upper").string();
  std::error_code ec;
  auto layer = j->find("layer");
  if (layer != j->end() && layer->is_object()) {
    auto d = image::DescriptorFromJson(*layer, "a build cache record");
    auto diff = Digest::Parse(j->value("diff_id", ""));
    if (!d || !diff) return std::nullopt;
    if (!fs::exists(blobs_dir() / d->digest.hex(), ec)) return std::nullopt;
    r.layer = *d;
    r.diff_id = *diff;
  } else if (!fs::is_directory(r.diff_dir, ec)) {
    return std::nullopt;  // a step that changed nothing always has its (empty) upper/
  }
  // Last use, for pruning by age: the record's mtime.
  ::utimensat(AT_FDCWD, (dir / "record.json").c_str(), nullptr, 0);
  return r;
}

Result<Scratch> SnapshotStore::NewScratch() const {
  ANYARCH_TRY(auto dir,
              TempDir::Create(std::to_string(::getpid()), fs::path(root_) / "build" / "tmp"));
  ::chmod(dir.path().c_str(), 0700);
  Scratch s{std::move(dir)};
  for (const auto& d : {s.diff(), s.work()}) ANYARCH_CHECK(MakePrivateDir(d));
  // The diff becomes the root of a layer: its mode is the image root's when overlay copies up.
  ::chmod(s.diff().c_str(), 0755);
  return s;
}

Result<StepRecord> SnapshotStore::Commit(const Digest& key, Scratch scratch,
                                         const layer::LayerWriteOptions& options,
                                         bool replace) const {
  fs::path final_dir = fs::path(root_) / "build" / "cache" / key.hex();
  std::error_code ec;
  if (!replace) {
    if (auto existing = Lookup(key)) return *existing;
  } else if (fs::exists(final_dir, ec)) {
    // Out of the way first (a rename is atomic), then removed: a reader never sees half of it.
    ANYARCH_TRY(auto old,
                TempDir::Create(std::to_string(::getpid()), fs::path(root_) / "build" / "tmp"));
    ::rename(final_dir.c_str(), (old.path() / "old").c_str());
  }
  Json record = Json::object();
  StepRecord r;
  if (!layer::IsEmptyDiff(scratch.diff())) {
    ANYARCH_TRY(auto blob, layer::WriteLayer(scratch.diff(), blobs_dir(), options));
    image::Descriptor d{.media_type = blob.media_type, .digest = blob.digest, .size = blob.size};
    record["layer"] = image::DescriptorToJson(d);
    record["diff_id"] = blob.diff_id.ToString();
    r.layer = d;
    r.diff_id = blob.diff_id;
  }
  return Publish(key, std::move(scratch), record, std::move(r));
}

Result<StepRecord> SnapshotStore::Import(const Digest& key,
                                         const std::optional<image::Descriptor>& layer,
                                         const Digest& diff_id) const {
  if (auto existing = Lookup(key)) return *existing;
  ANYARCH_TRY(auto scratch, NewScratch());
  std::error_code ec;
  fs::remove_all(scratch.diff(), ec);  // unpacked when a step first mounts it (Materialize)
  Json record = Json::object();
  StepRecord r;
  if (layer) {
    // Not unpacked, but read whole: the blob against its digest, the tar against the diff_id
    // the record claims (which an image config built from this cache will name) and its
    // entries against the unpacker's path rules.
    ANYARCH_TRY(auto verified, OpenLayer(*layer));
    ANYARCH_TRY(auto walked, layer::WalkLayer(*verified, diff_id,
                                              [](const layer::Entry&, const layer::EntryReader&) {
                                                return Ok();
                                              }));
    (void)walked;
    record["layer"] = image::DescriptorToJson(*layer);
    record["diff_id"] = diff_id.ToString();
    r.layer = *layer;
    r.diff_id = diff_id;
  } else {
    fs::create_directories(scratch.diff(), ec);
    if (ec) return MakeError(ErrorCode::kIo, scratch.diff() + ": " + ec.message());
  }
  return Publish(key, std::move(scratch), record, std::move(r));
}

Result<std::unique_ptr<Reader>> SnapshotStore::OpenLayer(const image::Descriptor& layer) const {
  ANYARCH_TRY(auto blob, FileReader::Open(blobs_dir() / layer.digest.hex()));
  return std::unique_ptr<Reader>(std::make_unique<VerifyingReader>(
      std::move(blob), layer.digest, layer.size, "layer " + layer.digest.Short()));
}

Status SnapshotStore::Materialize(const std::vector<std::string>& dirs) const {
  const fs::path cache = fs::path(root_) / "build" / "cache";
  for (const auto& d : dirs) {
    fs::path upper(d);
    fs::path entry = upper.parent_path();
    std::error_code ec;
    if (entry.parent_path() != cache || upper.filename() != "upper" || fs::is_directory(upper, ec))
      continue;  // a base image's rootfs, the empty tree, or unpacked already
    auto key = Digest::Parse("sha256:" + entry.filename().string());
    if (!key) return Unexpected(key.error());
    auto record = Lookup(*key);
    if (!record || !record->layer)
      return MakeError(ErrorCode::kNotFound,
                       "the build cache entry " + entry.string() +
                           " lost its layer; run the build again with --no-cache");
    ANYARCH_TRY(auto scratch, NewScratch());
    ANYARCH_TRY(auto verified, OpenLayer(*record->layer));
    layer::UnpackOptions uo{.diff_id = record->diff_id,
                            .overlay_opaque_xattr = isolation::InUserNamespace()
                                                        ? "user.overlay.opaque"
                                                        : "trusted.overlay.opaque"};
    ANYARCH_TRY(auto stats, layer::ApplyLayer(*verified, scratch.diff(), uo));
    (void)stats;
    // Another build (or stage) that unpacked the same entry first wins; ours is dropped with
    // the scratch.
    if (::rename(scratch.diff().c_str(), upper.c_str()) != 0 && errno != EEXIST &&
        errno != ENOTEMPTY)
      return Unexpected(ErrnoError(errno, "unpacking the build cache entry " + upper.string()));
  }
  return Ok();
}

Result<StepRecord> SnapshotStore::Publish(const Digest& key, Scratch scratch, const Json& record,
                                          StepRecord r) const {
  fs::path final_dir = fs::path(root_) / "build" / "cache" / key.hex();
  std::error_code ec;
  // work/ and merged/ are overlay's and the container's; only upper/ is kept.
  fs::remove_all(scratch.work(), ec);
  fs::remove_all(scratch.dir.path() / "merged", ec);
  ANYARCH_CHECK(WriteFileAtomic(scratch.dir.path() / "record.json", record.dump(), 0600));
  fs::path tmp = scratch.dir.path();
  for (int attempt = 0; ::rename(tmp.c_str(), final_dir.c_str()) != 0; ++attempt) {
    int err = errno;
    if (err == EEXIST || err == ENOTEMPTY) {
      if (auto existing = Lookup(key)) return *existing;  // scratch is removed on return
      if (attempt == 0) {
        // An entry Lookup refuses (its blob was removed by hand, its record is torn): moved out
        // of the way, to be removed with the TempDir, and replaced by ours.
        ANYARCH_TRY(auto stale,
                    TempDir::Create(std::to_string(::getpid()), fs::path(root_) / "build" / "tmp"));
        if (::rename(final_dir.c_str(), (stale.path() / "stale").c_str()) == 0) continue;
      }
    }
    return Unexpected(ErrnoError(err, "publishing the build cache entry " + final_dir.string()));
  }
  scratch.dir.Release();
  SyncDirectory(final_dir.parent_path());
  r.diff_dir = (final_dir / "upper").string();
  return r;
}

Result<std::string> SnapshotStore::CacheMount(const platform::Platform& platform,
                                              const std::string& id, unsigned mode, unsigned uid,
                                              unsigned gid) const {
  // The id is user text: hash it into a name, so it can never be a path.
  fs::path parent = fs::path(root_) / "build" / "mounts" / PlatformDirName(platform);
  ANYARCH_CHECK(MakePrivateDir(parent));
  fs::path dir = parent / Sha256Of(id).hex().substr(0, 32);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::path tmp = parent / (".new-" + std::to_string(::getpid()) + "-" + Sha256Of(id).Short());
    fs::create_directory(tmp, ec);
    if (ec) return MakeError(ErrorCode::kIo, tmp.string() + ": " + ec.message());
    ::chmod(tmp.c_str(), mode);
    if (::chown(tmp.c_str(), uid, gid) != 0) {
      // Not fatal: the mount still works for root.
    }
    if (::rename(tmp.c_str(), dir.c_str()) != 0) fs::remove_all(tmp, ec);
  }
  return dir.string();
}

void SnapshotStore::RemoveLeftovers() const {
  std::error_code ec;
  for (const auto& p : BuildLeftovers(root_)) fs::remove_all(p, ec);
}

namespace {

std::string RecordBlob(const fs::path& record) {
  auto text = ReadFile(record, 1 << 20);
  if (!text) return "";
  auto j = ParseJson(*text, "a build cache record");
  if (!j || !j->is_object()) return "";
  auto layer = j->find("layer");
  if (layer == j->end() || !layer->is_object()) return "";
  auto d = image::DescriptorFromJson(*layer, "a build cache record");
  return d ? d->digest.hex() : "";
}

}  // namespace

std::vector<CacheEntryInfo> ListBuildCache(const std::string& store_root) {
  std::vector<CacheEntryInfo> out;
  std::error_code ec;
  fs::path build = fs::path(store_root) / "build";
  fs::path blobs = fs::path(store_root) / "blobs" / "sha256";
  for (const auto& e : fs::directory_iterator(build / "cache", ec)) {
    CacheEntryInfo c;
    c.dir = e.path();
    c.name = e.path().filename().string();
    c.bytes = DirectoryUsage(e.path()).bytes;
    struct stat st {};
    if (::stat((e.path() / "record.json").c_str(), &st) == 0) c.last_used = st.st_mtim.tv_sec;
    c.blob = RecordBlob(e.path() / "record.json");
    std::error_code ec2;
    if (!c.blob.empty()) {
      auto size = fs::file_size(blobs / c.blob, ec2);
      if (!ec2) c.blob_bytes = size;
    }
    out.push_back(std::move(c));
  }
  for (const auto& plat : fs::directory_iterator(build / "mounts", ec)) {
    std::error_code ec2;
    for (const auto& e : fs::directory_iterator(plat.path(), ec2)) {
      std::string id = e.path().filename().string();
      if (id.rfind(".new-", 0) == 0) continue;  // being made (or a leftover: prune's)
      CacheEntryInfo c;
      c.dir = e.path();
      c.mount = true;
      c.name = plat.path().filename().string() + "/" + id;
      TreeUsage u = DirectoryUsage(e.path());
      c.bytes = u.bytes;
      c.last_used = u.newest_mtime;
      out.push_back(std::move(c));
    }
  }
  std::sort(out.begin(), out.end(), [](const CacheEntryInfo& a, const CacheEntryInfo& b) {
    return a.last_used != b.last_used ? a.last_used < b.last_used : a.name < b.name;
  });
  return out;
}

std::set<std::string> BuildCacheBlobs(const std::string& store_root) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(store_root) / "build" / "cache", ec)) {
    std::string b = RecordBlob(e.path() / "record.json");
    if (!b.empty()) out.insert(b);
  }
  return out;
}

std::vector<fs::path> BuildLeftovers(const std::string& store_root) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::path build = fs::path(store_root) / "build";
  for (const auto& e : fs::directory_iterator(build / "tmp", ec)) {
    long pid = LeadingPid(e.path().filename().string());
    if (pid > 0 && !ProcessAlive(pid)) out.push_back(e.path());
  }
  for (const auto& plat : fs::directory_iterator(build / "mounts", ec)) {
    std::error_code ec2;
    for (const auto& e : fs::directory_iterator(plat.path(), ec2)) {
      std::string name = e.path().filename().string();
      if (name.rfind(".new-", 0) != 0) continue;
      long pid = LeadingPid(name.substr(5));
      if (pid > 0 && !ProcessAlive(pid)) out.push_back(e.path());
    }
  }
  return out;
}

}  // namespace anyarch::build

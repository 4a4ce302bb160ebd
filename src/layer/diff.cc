#include "layer/diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "base/fs.h"
#include "image/media_types.h"
#include "layer/tar_stream.h"

namespace anyarch::layer {

namespace fs = std::filesystem;

namespace {

// The end of the pipeline: hashes the compressed bytes and writes them to the temporary file.
class BlobFileSink final : public ByteSink {
 public:
  explicit BlobFileSink(AtomicFile& file) : file_(file) {}
  Status Write(const void* data, std::size_t size) override {
    hash_.Update(data, size);
    size_ += size;
    return file_.Write(data, size);
  }
  anyarch::Digest BlobDigest() { return hash_.Finish(); }
  std::int64_t size() const { return static_cast<std::int64_t>(size_); }

 private:
  AtomicFile& file_;
  Sha256 hash_;
  std::uint64_t size_ = 0;
};

// libarchive's output callback target: hashes the tar (the diff_id) and compresses it.
struct TarOut {
  ByteSink* compressor = nullptr;
  Sha256 diff;
  Status status = Ok();
};

la_ssize_t TarWrite(struct archive*, void* ctx, const void* buf, size_t n) {
  auto* out = static_cast<TarOut*>(ctx);
  out->diff.Update(buf, n);
  if (auto s = out->compressor->Write(buf, n); !s) {
    out->status = s;
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Result<std::map<std::string, std::string>> ReadXattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return out;
    return Unexpected(ErrnoError(errno, "listing the attributes of " + path));
  }
  std::string names(static_cast<std::size_t>(n), '\0');
  n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) return Unexpected(ErrnoError(errno, "listing the attributes of " + path));
  names.resize(static_cast<std::size_t>(n));
  for (std::size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    if (name.empty()) continue;
    ssize_t vn = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vn < 0) continue;  // removed meanwhile, or not readable: nothing to record
    std::string value(static_cast<std::size_t>(vn), '\0');
    vn = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vn < 0) continue;
    value.resize(static_cast<std::size_t>(vn));
    out[name] = value;
  }
  return out;
}

class Writer {
 public:
  Writer(struct archive* a, const LayerWriteOptions& options) : a_(a), options_(options) {}

  Status WalkDir(const std::string& abs, const std::string& rel) {
    std::vector<std::string> names;
    {
      DIR* d = ::opendir(abs.c_str());
      if (!d) return Unexpected(ErrnoError(errno, "reading " + abs));
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(std::move(n));
      }
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      ANYARCH_CHECK(Visit(abs + "/" + n, rel.empty() ? n : rel + "/" + n, n));
    }
    return Ok();
  }

  std::uint64_t entries() const { return entries_; }

 private:
  std::int64_t Clamp(std::int64_t t) const {
    if (options_.source_date_epoch && t > *options_.source_date_epoch)
      return *options_.source_date_epoch;
    return t;
  }

  Status WriteHeader(archive_entry* e, const std::string& what) {
    if (archive_write_header(a_, e) != ARCHIVE_OK)
      return MakeError(ErrorCode::kIo,
                       "writing the layer entry " + what + ": " + archive_error_string(a_));
    ++entries_;
    return Ok();
  }

  Status Visit(const std::string& abs, const std::string& rel, const std::string& name) {
    struct stat st {};
    if (::lstat(abs.c_str(), &st) != 0) return Unexpected(ErrnoError(errno, abs));
    std::string parent = rel.size() > name.size() ? rel.substr(0, rel.size() - name.size()) : "";

    // A 0/0 character device is overlay's whiteout.
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
      archive_entry_set_pathname(e.get(), (parent + ".wh." + name).c_str());
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), 0);
      archive_entry_set_size(e.get(), 0);
      archive_entry_set_mtime(e.get(), Clamp(st.st_mtim.tv_sec), 0);
      return WriteHeader(e.get(), rel);
    }
    if (S_ISSOCK(st.st_mode)) return Ok();  // a socket cannot be carried in a layer

    ANYARCH_TRY(auto xattrs, ReadXattrs(abs));
    bool opaque = false;
    for (const char* key : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
      auto it = xattrs.find(key);
      if (it != xattrs.end() && it->second == "y") opaque = true;
    }
    if (xattrs.count("trusted.overlay.redirect") || xattrs.count("user.overlay.redirect"))
      return MakeError(ErrorCode::kUnsupported,
                       "the snapshot has a renamed lower directory at /" + rel +
                           " (overlay redirect_dir), which a layer cannot express");

    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_perm(e.get(), st.st_mode & 07777);
    std::int64_t mtime = Clamp(st.st_mtim.tv_sec);
    long nsec = mtime == st.st_mtim.tv_sec ? st.st_mtim.tv_nsec : 0;
    // Sub-second times make PAX records; with an epoch they are dropped for every entry, so
    // two builds of the same tree agree byte for byte.
    if (options_.source_date_epoch) nsec = 0;
    archive_entry_set_mtime(e.get(), mtime, nsec);
    for (const auto& [k, v] : xattrs) {
      if (IsLayerXattr(k)) archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    }

    if (S_ISDIR(st.st_mode)) {
      archive_entry_set_pathname(e.get(), (rel + "/").c_str());
      archive_entry_set_filetype(e.get(), AE_IFDIR);
      ANYARCH_CHECK(WriteHeader(e.get(), rel));
      if (opaque) {
        std::unique_ptr<archive_entry, EntryDeleter> w(archive_entry_new());
        archive_entry_set_pathname(w.get(), (rel + "/.wh..wh..opq").c_str());
        archive_entry_set_filetype(w.get(), AE_IFREG);
        archive_entry_set_perm(w.get(), 0);
        archive_entry_set_size(w.get(), 0);
        archive_entry_set_mtime(w.get(), mtime, 0);
        ANYARCH_CHECK(WriteHeader(w.get(), rel + "/.wh..wh..opq"));
      }
      return WalkDir(abs, rel);
    }
    archive_entry_set_pathname(e.get(), rel.c_str());
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(abs.c_str(), target.data(), target.size());
      if (n < 0) return Unexpected(ErrnoError(errno, "reading the link " + abs));
      target.resize(static_cast<std::size_t>(n));
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_symlink(e.get(), target.c_str());
      return WriteHeader(e.get(), rel);
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      archive_entry_set_filetype(e.get(), S_ISCHR(st.st_mode)   ? AE_IFCHR
                                          : S_ISBLK(st.st_mode) ? AE_IFBLK
                                                                : AE_IFIFO);
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
      return WriteHeader(e.get(), rel);
    }
    if (!S_ISREG(st.st_mode)) return Ok();
    if (st.st_nlink > 1) {
      auto [it, fresh] = links_.emplace(st.st_ino, rel);
      if (!fresh) {
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        return WriteHeader(e.get(), rel);
      }
    }
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_size(e.get(), st.st_size);
    UniqueFd fd(::open(abs.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return Unexpected(ErrnoError(errno, "opening " + abs));
    ANYARCH_CHECK(WriteHeader(e.get(), rel));
    std::vector<char>& buf = buf_;
    std::int64_t left = st.st_size;
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buf.data(),
                         static_cast<std::size_t>(std::min<std::int64_t>(left, buf.size())));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Unexpected(ErrnoError(errno, "reading " + abs));
      if (n == 0)
        return MakeError(ErrorCode::kIo, abs + " shrank while it was written into the layer");
      if (archive_write_data(a_, buf.data(), static_cast<std::size_t>(n)) != n)
        return MakeError(ErrorCode::kIo, "writing " + rel + " into the layer: " +
                                             std::string(archive_error_string(a_)));
      left -= n;
    }
    return Ok();
  }

  struct archive* a_;
  const LayerWriteOptions& options_;
  std::map<ino_t, std::string> links_;
  std::uint64_t entries_ = 0;
  // One read buffer for every file, not a fresh 1 MiB (an mmap and a memset) per file.
  std::vector<char> buf_ = std::vector<char>(1 << 20);
};

std::string MediaTypeFor(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return std::string(image::kOciLayerGzip);
    case Compression::kZstd:
      return std::string(image::kOciLayerZstd);
    case Compression::kNone:
      return std::string(image::kOciLayer);
  }
  return {};
}

}  // namespace

Result<std::map<std::string, std::string>> LayerXattrs(const std::string& path) {
  ANYARCH_TRY(auto all, ReadXattrs(path));
  std::map<std::string, std::string> out;
  for (auto& [k, v] : all)
    if (IsLayerXattr(k)) out.emplace(k, std::move(v));
  return out;
}

bool IsEmptyDiff(const fs::path& upper) {
  std::error_code ec;
  return fs::is_empty(upper, ec) || ec;
}

Result<LayerBlob> WriteLayer(const fs::path& upper, const fs::path& blobs_dir,
                             const LayerWriteOptions& options) {
  ANYARCH_TRY(AtomicFile file, AtomicFile::Create(blobs_dir / "layer", 0644));
  BlobFileSink blob(file);
  ANYARCH_TRY(auto compressor, NewCompressor(blob, options.compress));
  TarOut out;
  out.compressor = compressor.get();
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  // The tar ends with its two zero blocks, not padded to libarchive's 10 KiB default record.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open2(a.get(), &out, nullptr, TarWrite, nullptr, nullptr) != ARCHIVE_OK)
    return MakeError(ErrorCode::kInternal,
                     std::string("starting the layer tar: ") + archive_error_string(a.get()));
  Writer w(a.get(), options);
  Status walked = w.WalkDir(upper.string(), "");
  if (!walked) return Unexpected(walked.error());
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    if (!out.status) return Unexpected(out.status.error());
    return MakeError(ErrorCode::kIo,
                     std::string("finishing the layer tar: ") + archive_error_string(a.get()));
  }
  if (!out.status) return Unexpected(out.status.error());
  ANYARCH_CHECK(compressor->Finish());
  LayerBlob result;
  result.diff_id = out.diff.Finish();
  result.digest = blob.BlobDigest();
  result.size = blob.size();
  result.media_type = MediaTypeFor(options.compress.compression);
  result.entries = w.entries();
  fs::path target = blobs_dir / result.digest.hex();
  std::error_code ec;
  if (fs::exists(target, ec)) {
    file.Abort();
    return result;
  }
  file.SetTarget(target);
  ANYARCH_CHECK(file.Commit());
  return result;
}

}  // namespace anyarch::layer

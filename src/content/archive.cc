// oci-archive and docker-archive: image tarballs, read and written with libarchive.
//
// oci-archive is a tar of an OCI image layout (image-spec image-layout.md). docker-archive is the
// format of `docker save` that `docker load` reads (moby image/tarexport): manifest.json is
// [{"Config": "<file>", "RepoTags": ["name:tag"], "Layers": ["<file>", ...]}], the config is a
// JSON file, each layer an uncompressed tar whose sha256 is its rootfs.diff_ids entry, and the
// legacy "repositories" file maps {"name": {"tag": "<top layer id>"}}.
//
// Traps handled:
// - Reading: an archive is untrusted. Entries with an absolute path or a ".." component, device
//   nodes, fifos and sockets are refused by name; nothing but regular files is ever created, in
//   a private temporary directory (opened O_EXCL|O_NOFOLLOW). oci-archive refuses links.
//   docker-archive cannot: docker save (duplicate layers) and skopeo (legacy <id>/layer.tar)
//   write symbolic links, so links are recorded, never created, and followed by name when
//   manifest.json points at one; a link leaving the archive is refused.
// - Bombs: the bytes unpacked may not exceed the archive's size (a plain tar cannot hold more
//   than itself; sparse entries are counted at their full size), or 256 times it for a gzip or
//   zstd compressed archive. Entries are capped in number too.
// - Docker 25+ `docker save` writes an OCI layout with manifest.json paths under blobs/sha256;
//   older versions and skopeo write <id>/layer.tar and <hex>.json. Paths come from
//   manifest.json, never assumed.
// - RepoTags are written fully qualified ("docker.io/library/app:1", as skopeo does) and matched
//   normalised, so "app:1" finds them.
// - Writing: a tar header carries the entry's size, so a compressed layer is decompressed to a
//   temporary file before its entry is written. Output is deterministic (owner 0:0, mode 0644,
//   mtime 0) and pax-restricted: plain ustar unless a layer is over 8 GiB.
// - A blob that fails verification cannot be taken back out of a half-written tar, so it fails
//   the whole sink; only Commit() renames the file into place.
#include "content/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "content/docker_manifest.h"
#include "content/layout.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::content {

namespace fs = std::filesystem;

namespace {

using ReadArchive = std::unique_ptr<archive, int (*)(archive*)>;

constexpr std::size_t kBufferSize = 1 << 16;
// A compressed archive may unpack to this many times its size (gzip tops out near 1000:1 on
// zeros; real images compress 2-10:1), and at least kMinCompressedLimit.
constexpr std::uint64_t kCompressedRatio = 256;
constexpr std::uint64_t kMinCompressedLimit = std::uint64_t{64} << 20;
constexpr std::size_t kMaxEntries = std::size_t{1} << 20;
constexpr std::size_t kMaxJsonFile = std::size_t{64} << 20;  // manifest.json, configs
constexpr int kMaxLinkHops = 16;

std::string Quote(std::string_view s) { return "\"" + Printable(s) + "\""; }

using Fd = UniqueFd;

Status WriteAll(int fd, const char* p, std::size_t n, const std::string& what) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Unexpected(ErrnoError(errno, what));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return Ok();
}

std::string Dump(const OrderedJson& j) {
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

// ---------------------------------------------------------------------------------------------
// Paths and names

// An archive entry's path made relative and clean: "./a//b" is "a/b", "./" is "" (the root).
// Absolute paths and ".." components are refused, naming the entry.
Result<std::string> SafeEntryPath(std::string_view raw, const std::string& what) {
  if (raw.empty()) return MakeError(ErrorCode::kInvalid, what + ": an entry has an empty name");
  if (raw.front() == '/') {
    return MakeError(ErrorCode::kInvalid,
                     what + ": entry " + Quote(raw) + " has an absolute path; refusing it");
  }
  std::vector<std::string> parts;
  for (auto& p : Split(raw, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      return MakeError(ErrorCode::kInvalid,
                       what + ": entry " + Quote(raw) + " climbs out with \"..\"; refusing it");
    }
    parts.push_back(std::move(p));
  }
  return Join(parts, "/");
}

// Resolves a symbolic link's target against the link's directory, by name only. nullopt when
// the target is absolute or climbs above the archive's root.
std::optional<std::string> ResolveLinkTarget(const std::string& link, std::string_view target) {
  if (target.empty() || target.front() == '/') return std::nullopt;
  std::vector<std::string> parts = Split(link, '/');
  parts.pop_back();
  for (auto& p : Split(target, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(p));
  }
  if (parts.empty()) return std::nullopt;
  return Join(parts, "/");
}

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
// Secure extraction

struct ExtractedFile {
  std::int64_t size = 0;
  Digest digest;     // set when ExtractOptions::hash
  std::string head;  // the first bytes (up to 4), for DetectCompression
};

struct ExtractOptions {
  // docker-archive: record symbolic and hard links that stay inside the archive instead of
  // refusing them. They are never created on disk.
  bool record_links = false;
  // Compute the sha256 of every file while it is written.
  bool hash = false;
  // Files to extract; the others are skipped after their path is checked. Empty: all.
  std::function<bool(const std::string&)> wanted;
};

struct Extracted {
  TempDir dir;
  std::map<std::string, ExtractedFile> files;  // by clean relative path
  std::map<std::string, std::string> links;    // clean path -> clean target path

  // The file `name` (from manifest.json) stands for, following recorded links. kInvalid for an
  // unsafe name, kNotFound when absent; `what` names the archive and `role` the file.
  Result<std::pair<std::string, const ExtractedFile*>> Lookup(const std::string& name,
                                                              const std::string& what,
                                                              const std::string& role) const {
    auto clean = SafeEntryPath(name, what + ": manifest.json: " + role);
    if (!clean) return Unexpected(clean.error());
    std::string p = *clean;
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      if (auto f = files.find(p); f != files.end()) return std::make_pair(p, &f->second);
      auto l = links.find(p);
      if (l == links.end()) break;
      p = l->second;
    }
    return MakeError(ErrorCode::kNotFound,
                     what + ": " + role + " file " + Quote(name) + " is missing from the archive");
  }
};

std::string ArchiveErrorText(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown libarchive error";
}

Result<Extracted> ExtractArchive(const fs::path& file, const std::string& what,
                                 const ExtractOptions& opt) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return Unexpected(ErrnoError(errno, what));
  if (!S_ISREG(st.st_mode)) return MakeError(ErrorCode::kInvalid, what + ": not a regular file");

  ReadArchive a(archive_read_new(), archive_read_free);
  if (!a) return MakeError(ErrorCode::kInternal, "libarchive: out of memory");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), kBufferSize) != ARCHIVE_OK) {
    return MakeError(ErrorCode::kInvalid,
                     what + ": not a tar archive: " + ArchiveErrorText(a.get()));
  }
  ANYARCH_TRY(TempDir dir, TempDir::Create("anyarch-archive"));
  Extracted out{std::move(dir), {}, {}};
  const auto archive_size = static_cast<std::uint64_t>(st.st_size);
  std::optional<std::uint64_t> limit;
  std::uint64_t total = 0;
  std::size_t entries = 0;
  std::vector<char> buf(kBufferSize);
  bool compressed = false;
  auto too_big = [&]() {
    return MakeError(ErrorCode::kInvalid, what + ": unpacks to more than " + HumanSize(*limit) +
                                              " from " + HumanSize(archive_size) +
                                              (compressed ? " compressed" : "") +
                                              "; refusing it as a likely archive bomb");
  };

  for (;;) {
    archive_entry* ae = nullptr;
    int rc = archive_read_next_header(a.get(), &ae);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      return MakeError(ErrorCode::kInvalid,
                       what + ": malformed or truncated archive: " + ArchiveErrorText(a.get()));
    }
    if (!limit) {
      // The filter is known once the first header is read.
      compressed = archive_filter_code(a.get(), 0) != ARCHIVE_FILTER_NONE;
      limit = compressed ? std::max(archive_size * kCompressedRatio, kMinCompressedLimit)
                         : archive_size;
    }
    if (++entries > kMaxEntries) {
      return MakeError(ErrorCode::kInvalid, what + ": more than " + std::to_string(kMaxEntries) +
                                                " entries; refusing it");
    }
    const char* name = archive_entry_pathname(ae);
    if (!name) name = archive_entry_pathname_utf8(ae);
    if (!name) return MakeError(ErrorCode::kInvalid, what + ": an entry has an unreadable name");
    std::string raw = name;
    ANYARCH_TRY(std::string path, SafeEntryPath(raw, what));

    if (const char* hard = archive_entry_hardlink(ae)) {
      if (!opt.record_links) {
        return MakeError(ErrorCode::kInvalid,
                         what + ": entry " + Quote(raw) +
                             " is a hard link; this archive may hold only files and directories");
      }
      auto target = SafeEntryPath(hard, what + ": hard link " + Quote(raw));
      if (!target) return Unexpected(target.error());
      if (path.empty() || target->empty()) {
        return MakeError(ErrorCode::kInvalid, what + ": malformed hard link " + Quote(raw));
      }
      out.files.erase(path);
      out.links[path] = *target;
      continue;
    }
    switch (archive_entry_filetype(ae)) {
      case AE_IFREG:
        break;
      case AE_IFDIR:
        continue;  // created as needed, with our own permissions
      case AE_IFLNK: {
        const char* t = archive_entry_symlink(ae);
        std::string target = t ? t : "";
        if (!opt.record_links) {
          return MakeError(ErrorCode::kInvalid,
                           what + ": entry " + Quote(raw) + " is a symbolic link (to " +
                               Quote(target) +
                               "); this archive may hold only files and directories");
        }
        auto resolved = path.empty() ? std::nullopt : ResolveLinkTarget(path, target);
        if (!resolved) {
          return MakeError(ErrorCode::kInvalid, what + ": symbolic link " + Quote(raw) + " -> " +
                                                    Quote(target) +
                                                    " points outside the archive; refusing it");
        }
        out.files.erase(path);
        out.links[path] = *resolved;
        continue;
      }
      default:
        return MakeError(ErrorCode::kInvalid,
                         what + ": entry " + Quote(raw) +
                             " is a device, fifo or socket; this archive may hold only files "
                             "and directories");
    }
    if (path.empty()) {
      return MakeError(ErrorCode::kInvalid, what + ": entry " + Quote(raw) + " has no file name");
    }
    if (opt.wanted && !opt.wanted(path)) continue;  // libarchive skips the data

    // A compressed archive's headers are checked up front, so a bomb is refused before it is
    // written; in a plain tar an oversized header means truncation, which libarchive reports
    // by name when the data runs out. The byte count below catches the rest (sparse entries).
    std::int64_t size = archive_entry_size(ae);
    if (size < 0) {
      return MakeError(ErrorCode::kInvalid,
                       what + ": entry " + Quote(raw) + " has a negative size");
    }
    if (compressed && static_cast<std::uint64_t>(size) > *limit - total) return too_big();
    fs::path dest = out.dir.path() / path;
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) {
      return MakeError(ErrorCode::kInvalid,
                       what + ": cannot extract entry " + Quote(raw) + ": " + ec.message());
    }
    // A later entry of the same name replaces the earlier one, as tar does.
    if (out.files.erase(path) > 0) ::unlink(dest.c_str());
    out.links.erase(path);
    Fd fd(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      if (errno == EEXIST) {
        return MakeError(ErrorCode::kInvalid, what + ": entry " + Quote(raw) +
                                                  " clashes with a directory of the same name");
      }
      return Unexpected(ErrnoError(errno, what + ": extracting entry " + Quote(raw)));
    }
    ExtractedFile f;
    Sha256 hash;
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) {
        return MakeError(ErrorCode::kInvalid,
                         what + ": reading entry " + Quote(raw) + ": " + ArchiveErrorText(a.get()));
      }
      if (n == 0) break;
      auto un = static_cast<std::size_t>(n);
      if (un > *limit - total) return too_big();
      total += un;
      f.size += n;
      if (opt.hash) hash.Update(buf.data(), un);
      if (f.head.size() < 4)
        f.head.append(buf.data(), std::min<std::size_t>(4 - f.head.size(), un));
      ANYARCH_CHECK(WriteAll(fd.get(), buf.data(), un, what + ": extracting " + Quote(raw)));
    }
    ANYARCH_CHECK(fd.Close(what + ": extracting " + Quote(raw)));
    if (opt.hash) f.digest = hash.Finish();
    out.files[path] = std::move(f);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// oci-archive source

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
// Writing tar files

// A tar written through libarchive into an AtomicFile. Entries are owned by 0:0 with mtime 0.
// Destroying it without Finish() discards everything.
class TarWriter {
 public:
  static Result<std::unique_ptr<TarWriter>> Create(const fs::path& target, std::string what) {
    ANYARCH_TRY(AtomicFile f, AtomicFile::Create(target, 0644));
    std::unique_ptr<TarWriter> w(new TarWriter(std::move(f), std::move(what)));
    archive* a = w->a_.get();
    if (!a) return MakeError(ErrorCode::kInternal, "libarchive: out of memory");
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_add_filter_none(a) != ARCHIVE_OK ||
        archive_write_open2(a, w.get(), nullptr, &TarWriter::WriteCallback, nullptr, nullptr) !=
            ARCHIVE_OK) {
      return Unexpected(w->Failure("starting the archive"));
    }
    return w;
  }

  ~TarWriter() {
    // archive_write_free() closes the archive, writing its trailer; nobody wants it now.
    discard_ = true;
    a_.reset();
  }
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  Status AddDirectory(const std::string& name) { return Header(name, AE_IFDIR, 0755, 0); }

  Status AddBytes(const std::string& name, std::string_view data) {
    ANYARCH_CHECK(Header(name, AE_IFREG, 0644, static_cast<std::int64_t>(data.size())));
    return Write(data.data(), data.size());
  }

  // Starts a regular file of `size` bytes; the caller then Write()s exactly that many.
  Status BeginFile(const std::string& name, std::int64_t size) {
    return Header(name, AE_IFREG, 0644, size);
  }

  Status Write(const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      la_ssize_t n = archive_write_data(a_.get(), p, size);
      if (n < 0) return Unexpected(Failure("writing"));
      if (n == 0) {
        return MakeError(ErrorCode::kInternal,
                         what_ + ": more bytes than the entry's header declared");
      }
      p += n;
      size -= static_cast<std::size_t>(n);
    }
    return Ok();
  }

  // Copies the file at `src` (of `size` bytes) into the entry `name`.
  Status AddFile(const std::string& name, const fs::path& src, std::int64_t size) {
    ANYARCH_CHECK(BeginFile(name, size));
    ANYARCH_TRY(auto in, FileReader::Open(src));
    std::vector<char> buf(kBufferSize);
    std::int64_t copied = 0;
    for (;;) {
      ANYARCH_TRY(std::size_t n, in->Read(buf.data(), buf.size()));
      if (n == 0) break;
      copied += static_cast<std::int64_t>(n);
      if (copied > size) break;
      ANYARCH_CHECK(Write(buf.data(), n));
    }
    if (copied != size) {
      return MakeError(ErrorCode::kIo,
                       src.string() + ": changed size while being copied into " + what_);
    }
    return Ok();
  }

  // Writes the trailer and renames the file into place.
  Status Finish() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return Unexpected(Failure("finishing"));
    if (io_error_) return Unexpected(*io_error_);
    return file_.Commit();
  }

 private:
  TarWriter(AtomicFile file, std::string what)
      : file_(std::move(file)),
        what_(std::move(what)),
        a_(archive_write_new(), archive_write_free) {}

  static la_ssize_t WriteCallback(archive*, void* self, const void* buf, size_t size) {
    auto* w = static_cast<TarWriter*>(self);
    if (w->discard_) return static_cast<la_ssize_t>(size);
    if (w->io_error_) return -1;
    auto st = w->file_.Write(buf, size);
    if (!st) {
      w->io_error_ = st.error();
      return -1;
    }
    return static_cast<la_ssize_t>(size);
  }

  // The error behind a failed libarchive call: our file's, if writing it failed, else
  // libarchive's.
  Error Failure(const std::string& doing) {
    if (io_error_) return *io_error_;
    return Error(ErrorCode::kIo, what_ + ": " + doing + ": " + ArchiveErrorText(a_.get()));
  }

  Status Header(const std::string& name, unsigned type, unsigned perm, std::int64_t size) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    if (!e) return MakeError(ErrorCode::kInternal, "libarchive: out of memory");
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), perm);
    archive_entry_set_size(e.get(), size);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) {
      return Unexpected(Failure("writing the header of " + name));
    }
    return Ok();
  }

  AtomicFile file_;
  std::string what_;
  std::unique_ptr<archive, int (*)(archive*)> a_;
  std::optional<Error> io_error_;
  bool discard_ = false;
};

// Reads `data` to its end, handing each chunk to `out`, and checks size and digest against
// `desc` (kDigestMismatch as soon as there are too many bytes, else at the end).
Status PumpVerified(Reader& data, const image::Descriptor& desc,
                    const std::function<Status(const char*, std::size_t)>& out) {
  std::string what = "blob " + desc.digest.ToString();
  if (desc.digest.algorithm() != "sha256") {
    return MakeError(ErrorCode::kUnsupported,
                     what + ": only sha256 digests can be stored in an archive");
  }
  if (desc.size < 0) return MakeError(ErrorCode::kInvalid, what + ": negative size");
  std::vector<char> buf(kBufferSize);
  Sha256 hash;
  std::uint64_t count = 0;
  const auto want = static_cast<std::uint64_t>(desc.size);
  for (;;) {
    ANYARCH_TRY(std::size_t n, data.Read(buf.data(), buf.size()));
    if (n == 0) break;
    count += n;
    if (count > want) {
      return MakeError(ErrorCode::kDigestMismatch,
                       what + ": more than the expected " + std::to_string(want) + " bytes");
    }
    hash.Update(buf.data(), n);
    ANYARCH_CHECK(out(buf.data(), n));
  }
  if (count != want) {
    return MakeError(ErrorCode::kDigestMismatch, what + ": got " + std::to_string(count) +
                                                     " bytes, expected " + std::to_string(want));
  }
  Digest got = hash.Finish();
  if (got != desc.digest) {
    return MakeError(ErrorCode::kDigestMismatch, what + ": content has digest " + got.ToString() +
                                                     ", expected " + desc.digest.ToString());
  }
  return Ok();
}

// What the archive sinks share: the failed state and the committed state.
class SinkState {
 public:
  explicit SinkState(std::string describe) : describe_(std::move(describe)) {}
  const std::string& describe() const { return describe_; }

  // An error once the sink failed or was committed.
  Status Usable() const {
    if (failed_) {
      return MakeError(failed_->code(),
                       describe_ + ": an earlier write failed: " + failed_->ToString());
    }
    if (committed_) return MakeError(ErrorCode::kInternal, describe_ + ": already committed");
    return Ok();
  }
  // Records `s`'s error, if any, as fatal to the sink.
  Status Fatal(Status s) {
    if (!s) failed_ = s.error();
    return s;
  }
  void MarkCommitted() { committed_ = true; }

 private:
  std::string describe_;
  std::optional<Error> failed_;
  bool committed_ = false;
};

// ---------------------------------------------------------------------------------------------
// oci-archive sink

class OciArchiveSink final : public image::ImageSink {
 public:
  OciArchiveSink(std::string describe, std::string tag, std::unique_ptr<TarWriter> tar)
      : state_(std::move(describe)), tag_(std::move(tag)), tar_(std::move(tar)) {}

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
  std::unique_ptr<TarWriter> tar_;
  std::set<Digest> written_;
  std::optional<image::RawManifest> last_;
  std::optional<image::RawManifest> root_;
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
  DockerArchiveSink(std::string describe, std::optional<NameTag> name, TempDir staging,
                    std::unique_ptr<TarWriter> tar)
      : state_(std::move(describe)),
        name_(std::move(name)),
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
    if (manifest_) {
      if (manifest_->digest == m.digest) return Ok();
      return MakeError(ErrorCode::kUnsupported,
                       state_.describe() + ": a docker-archive holds one image, and " +
                           manifest_->digest.ToString() + " is already in it");
    }
    return state_.Fatal(WriteImage(m));
  }

  Status Tag(const image::RawManifest& root) override {
    std::lock_guard<std::mutex> lock(mu_);
    ANYARCH_CHECK(state_.Usable());
    if (!manifest_ || manifest_->digest != root.digest) {
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
    if (!manifest_) {
      return MakeError(ErrorCode::kInvalid,
                       state_.describe() + ": nothing to write, no image manifest was put");
    }
    OrderedJson item = OrderedJson::object();
    item["Config"] = config_name_;
    item["RepoTags"] = OrderedJson::array();
    if (name_) item["RepoTags"].push_back(name_->name + ":" + name_->tag);
    item["Layers"] = layer_names_;
    OrderedJson manifest = OrderedJson::array();
    manifest.push_back(item);
    Status st = [&]() -> Status {
      ANYARCH_CHECK(tar_->AddBytes("manifest.json", Dump(manifest)));
      if (name_ && !layer_names_.empty()) {
        // The legacy loader's map from name and tag to the top layer.
        std::string top = layer_names_.back().substr(0, layer_names_.back().size() - 4);
        OrderedJson repos = OrderedJson::object();
        repos[name_->name] = OrderedJson::object();
        repos[name_->name][name_->tag] = top;
        ANYARCH_CHECK(tar_->AddBytes("repositories", Dump(repos)));
      }
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
    config_name_ = man.config.digest.hex() + ".json";
    ANYARCH_CHECK(tar_->AddBytes(config_name_, config_bytes));
    std::map<std::string, Digest> written;  // entry name -> the layer blob it came from
    for (std::size_t i = 0; i < man.layers.size(); ++i) {
      const auto& layer = man.layers[i];
      std::string what = "layer " + std::to_string(i) + " (" + layer.digest.ToString() + ")";
      if (diff_ids[i].algorithm() != "sha256") {
        return MakeError(ErrorCode::kUnsupported,
                         what + ": diff_id " + diff_ids[i].ToString() + " is not sha256");
      }
      std::string name = diff_ids[i].hex() + ".tar";
      layer_names_.push_back(name);
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
    manifest_ = m;
    return Ok();
  }

  SinkState state_;
  std::optional<NameTag> name_;
  TempDir staging_;
  std::unique_ptr<TarWriter> tar_;
  std::map<Digest, Staged> staged_;
  std::optional<image::RawManifest> manifest_;
  std::string config_name_;
  std::vector<std::string> layer_names_;
};

fs::path ParentDir(const fs::path& file) {
  fs::path dir = file.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

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
                                                             const std::string& tag) {
  std::string what = "oci-archive:" + file.string();
  ANYARCH_TRY(auto tar, TarWriter::Create(file, what));
  ANYARCH_CHECK(tar->AddDirectory("blobs/"));
  ANYARCH_CHECK(tar->AddDirectory("blobs/sha256/"));
  return std::unique_ptr<image::ImageSink>(
      new OciArchiveSink(what + (tag.empty() ? "" : ":" + tag), tag, std::move(tar)));
}

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

Result<std::unique_ptr<image::ImageSink>> OpenDockerArchiveSink(const fs::path& file,
                                                                const std::string& repo_tag) {
  std::string what = "docker-archive:" + file.string();
  std::optional<NameTag> name;
  if (!repo_tag.empty()) {
    auto nt = SplitNameTag(repo_tag);
    if (!nt) return Unexpected(std::move(nt.error()).With(what));
    name = std::move(*nt);
  }
  ANYARCH_TRY(auto tar, TarWriter::Create(file, what));
  ANYARCH_TRY(TempDir staging,
              TempDir::Create("." + file.filename().string() + ".staging", ParentDir(file)));
  return std::unique_ptr<image::ImageSink>(
      new DockerArchiveSink(what + (repo_tag.empty() ? "" : ":" + repo_tag), std::move(name),
                            std::move(staging), std::move(tar)));
}

}  // namespace anyarch::content

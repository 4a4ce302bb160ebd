#include "content/tarball.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "base/strings.h"

namespace anyarch::content::tarball {

namespace fs = std::filesystem;

namespace {

// A compressed archive may unpack to this many times its size (gzip tops out near 1000:1 on
// zeros; real images compress 2-10:1), and at least kMinCompressedLimit.
constexpr std::uint64_t kCompressedRatio = 256;
constexpr std::uint64_t kMinCompressedLimit = std::uint64_t{64} << 20;
constexpr std::size_t kMaxEntries = std::size_t{1} << 20;
constexpr int kMaxLinkHops = 16;

using Fd = UniqueFd;

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

}  // namespace

std::string Quote(std::string_view s) { return "\"" + Printable(s) + "\""; }

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

Result<std::pair<std::string, const ExtractedFile*>> Extracted::Lookup(
    const std::string& name, const std::string& what, const std::string& role) const {
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

Result<std::unique_ptr<TarWriter>> TarWriter::Create(const fs::path& target, std::string what) {
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

TarWriter::TarWriter(AtomicFile file, std::string what)
    : file_(std::move(file)), what_(std::move(what)), a_(archive_write_new(), archive_write_free) {}

TarWriter::~TarWriter() {
  // archive_write_free() closes the archive, writing its trailer; nobody wants it now.
  discard_ = true;
  a_.reset();
}

Status TarWriter::AddDirectory(const std::string& name) { return Header(name, AE_IFDIR, 0755, 0); }

Status TarWriter::AddBytes(const std::string& name, std::string_view data) {
  ANYARCH_CHECK(Header(name, AE_IFREG, 0644, static_cast<std::int64_t>(data.size())));
  return Write(data.data(), data.size());
}

Status TarWriter::BeginFile(const std::string& name, std::int64_t size) {
  return Header(name, AE_IFREG, 0644, size);
}

Status TarWriter::Write(const void* data, std::size_t size) {
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

Status TarWriter::AddFile(const std::string& name, const fs::path& src, std::int64_t size) {
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

Status TarWriter::Finish() {
  if (archive_write_close(a_.get()) != ARCHIVE_OK) return Unexpected(Failure("finishing"));
  if (io_error_) return Unexpected(*io_error_);
  return file_.Commit();
}

la_ssize_t TarWriter::WriteCallback(archive*, void* self, const void* buf, size_t size) {
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
Error TarWriter::Failure(const std::string& doing) {
  if (io_error_) return *io_error_;
  return Error(ErrorCode::kIo, what_ + ": " + doing + ": " + ArchiveErrorText(a_.get()));
}

Status TarWriter::Header(const std::string& name, unsigned type, unsigned perm, std::int64_t size) {
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

Status SinkState::Usable() const {
  if (failed_) {
    return MakeError(failed_->code(),
                     describe_ + ": an earlier write failed: " + failed_->ToString());
  }
  if (committed_) return MakeError(ErrorCode::kInternal, describe_ + ": already committed");
  return Ok();
}

}  // namespace anyarch::content::tarball

#include "layer/tar_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "base/prefetch_reader.h"
#include "base/strings.h"
#include "layer/gzip_reader.h"

namespace anyarch::layer {

bool IsLayerXattr(std::string_view name) {
  if (name == "security.capability") return true;
  return name.substr(0, 5) == "user." && name.substr(0, 13) != "user.overlay.";
}

Result<std::string> CleanEntryPath(const std::string& raw) {
  std::vector<std::string> parts;
  for (const auto& p : Split(raw, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      return MakeError(ErrorCode::kInvalid, "unsafe path \"" + Printable(raw) +
                                                "\" in layer: it climbs out with \"..\"");
    }
    parts.push_back(p);
  }
  return Join(parts, "/");  // "" for the root entry ("./")
}

namespace {

// A name for messages: a 10,000-byte path is not worth printing whole.
std::string Shortened(const std::string& s) {
  constexpr std::size_t kShown = 80;
  if (s.size() <= kShown) return Printable(s);
  return Printable(s.substr(0, kShown)) + "...";
}

Status CheckPathLimits(const std::string& path, const Entry& e, const char* what) {
  // The component first: it is the more precise message for one over-long name.
  for (const auto& c : Split(path, '/')) {
    if (c.size() > kMaxNameBytes) {
      return MakeError(ErrorCode::kInvalid, std::string(what) + " of \"" + Shortened(e.raw_path) +
                                                "\" in layer has a name of " +
                                                std::to_string(c.size()) + " bytes; the limit is " +
                                                std::to_string(kMaxNameBytes) + " (NAME_MAX)");
    }
  }
  if (path.size() + 1 > kMaxPathBytes) {
    return MakeError(ErrorCode::kInvalid, std::string(what) + " of \"" + Shortened(e.raw_path) +
                                              "\" in layer is " + std::to_string(path.size() + 1) +
                                              " bytes long; the limit is " +
                                              std::to_string(kMaxPathBytes) + " (PATH_MAX)");
  }
  return Ok();
}

}  // namespace

Status CheckEntryLimits(const Entry& e) {
  ANYARCH_CHECK(CheckPathLimits(e.path, e, "the path"));
  if (e.type == EntryType::kHardlink) ANYARCH_CHECK(CheckPathLimits(e.link, e, "the link target"));
  if (e.type == EntryType::kSymlink && e.link.size() > kMaxPathBytes) {
    return MakeError(ErrorCode::kInvalid, "the symlink target of \"" + Shortened(e.raw_path) +
                                              "\" in layer is " + std::to_string(e.link.size()) +
                                              " bytes long; the limit is " +
                                              std::to_string(kMaxPathBytes) + " (PATH_MAX)");
  }
  return Ok();
}

namespace {

struct Source {
  Reader* in;
  std::vector<char> buf = std::vector<char>(256 * 1024);
  std::optional<Error> error;  // the reader's own error (e.g. digest mismatch)
  std::string head;            // bytes read from `in` before libarchive, handed over first
};

la_ssize_t ReadCallback(struct archive*, void* data, const void** out) {
  auto* s = static_cast<Source*>(data);
  if (!s->head.empty()) {
    std::memcpy(s->buf.data(), s->head.data(), s->head.size());
    *out = s->buf.data();
    auto n = static_cast<la_ssize_t>(s->head.size());
    s->head.clear();
    return n;
  }
  auto r = s->in->Read(s->buf.data(), s->buf.size());
  if (!r) {
    s->error = r.error();
    return -1;
  }
  *out = s->buf.data();
  return static_cast<la_ssize_t>(*r);
}

EntryType TypeOf(archive_entry* e) {
  if (archive_entry_hardlink(e)) return EntryType::kHardlink;
  switch (archive_entry_filetype(e)) {
    case AE_IFREG:
      return EntryType::kFile;
    case AE_IFDIR:
      return EntryType::kDirectory;
    case AE_IFLNK:
      return EntryType::kSymlink;
    case AE_IFCHR:
      return EntryType::kCharDevice;
    case AE_IFBLK:
      return EntryType::kBlockDevice;
    case AE_IFIFO:
      return EntryType::kFifo;
    default:
      return EntryType::kOther;
  }
}

// When decoding fails, the cause may be corrupted bytes: read the rest of the stream so a
// VerifyingReader reports the digest mismatch, which is the error worth showing.
Error PreferReaderError(Reader& in, Error decode_error) {
  auto drained = Drain(in);
  return drained ? decode_error : drained.error();
}

// libarchive's "raw" format over its zstd filter (gzip goes to gzip_reader.h, which is faster):
// one pseudo-entry whose data is the decompressed stream, or the stream itself when it is not
// compressed.
class DecompressingReader final : public Reader {
 public:
  DecompressingReader(Reader& in, std::string head)
      : a_(archive_read_new(), archive_read_free), src_{.in = &in, .head = std::move(head)} {}

  Status Open() {
    archive_read_support_filter_zstd(a_.get());
    archive_read_support_format_raw(a_.get());
    if (archive_read_open(a_.get(), &src_, nullptr, ReadCallback, nullptr) != ARCHIVE_OK)
      return Unexpected(Failure("not a layer"));
    archive_entry* ae = nullptr;
    int rc = archive_read_next_header(a_.get(), &ae);
    if (rc == ARCHIVE_EOF) {
      done_ = true;  // an empty stream
      return Ok();
    }
    if (rc < ARCHIVE_WARN) return Unexpected(Failure("decompressing the layer"));
    return Ok();
  }

  Result<std::size_t> Read(void* buf, std::size_t size) override {
    if (done_) return std::size_t{0};
    la_ssize_t n = archive_read_data(a_.get(), buf, size);
    if (n < 0) return Unexpected(Failure("decompressing the layer"));
    // libarchive may take a failed read past the end of the compressed data (its look-ahead for
    // another gzip member) for the end of the stream: the blob's own error (a size or digest
    // mismatch) must not be lost with it.
    if (src_.error) return Unexpected(*src_.error);
    if (n == 0) {
      done_ = true;
      // Whatever follows the compressed data still belongs to the blob: read it so a
      // VerifyingReader underneath checks the digest of all of it.
      ANYARCH_CHECK(Drain(*src_.in));
    }
    return static_cast<std::size_t>(n);
  }

 private:
  Error Failure(const std::string& what) {
    if (src_.error) return *src_.error;
    const char* msg = archive_error_string(a_.get());
    return PreferReaderError(
        *src_.in, Error(ErrorCode::kInvalid, what + ": " + (msg ? msg : "unknown error")));
  }

  std::unique_ptr<archive, int (*)(archive*)> a_;
  Source src_;
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<Reader>> Decompress(Reader& in) {
  // The first two bytes tell gzip; they are handed to whichever decoder reads the rest.
  std::string head;
  while (head.size() < 2) {
    char c[2];
    ANYARCH_TRY(std::size_t n, in.Read(c, 2 - head.size()));
    if (n == 0) break;
    head.append(c, n);
  }
  if (IsGzipMagic(head)) return NewGzipReader(in, std::move(head));
  auto r = std::make_unique<DecompressingReader>(in, std::move(head));
  ANYARCH_CHECK(r->Open());
  return std::unique_ptr<Reader>(std::move(r));
}

Status WalkTar(Reader& in, const WalkOptions& options, const EntryVisitor& visit) {
  if (options.decompress) {
    ANYARCH_TRY(auto plain, Decompress(in));
    return WalkTar(*plain, {.decompress = false}, visit);
  }
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  Source src{&in};
  if (archive_read_open(a.get(), &src, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    if (src.error) return Unexpected(*src.error);
    return Unexpected(PreferReaderError(
        in, Error(ErrorCode::kInvalid,
                  std::string("not a tar layer: ") + archive_error_string(a.get()))));
  }
  for (;;) {
    archive_entry* ae = nullptr;
    int rc = archive_read_next_header(a.get(), &ae);
    if (rc == ARCHIVE_EOF) break;
    if (src.error) return Unexpected(*src.error);
    if (rc < ARCHIVE_WARN) {
      return Unexpected(PreferReaderError(
          in, Error(ErrorCode::kInvalid,
                    std::string("malformed layer: ") + archive_error_string(a.get()))));
    }
    Entry e;
    const char* p = archive_entry_pathname(ae);
    e.raw_path = p ? p : "";
    ANYARCH_TRY(e.path, CleanEntryPath(e.raw_path));
    e.type = TypeOf(ae);
    if (e.path.empty()) {
      // The layer's root ("./"): the directory every layer is applied to already exists, and
      // its metadata is the image's business, not the layer's. Anything else there is malformed.
      if (e.type != EntryType::kDirectory) {
        return MakeError(ErrorCode::kInvalid, "the root entry \"" + Printable(e.raw_path) +
                                                  "\" of the layer is not a directory");
      }
      continue;
    }
    e.mode = archive_entry_perm(ae);
    e.uid = archive_entry_uid(ae);
    e.gid = archive_entry_gid(ae);
    e.size = archive_entry_size(ae);
    e.sparse = archive_entry_sparse_count(ae) > 0;
    if (archive_entry_mtime_is_set(ae)) {
      e.mtime = archive_entry_mtime(ae);
      e.mtime_nsec = archive_entry_mtime_nsec(ae);
    }
    archive_entry_xattr_reset(ae);
    const char* xname = nullptr;
    const void* xvalue = nullptr;
    std::size_t xsize = 0;
    // libarchive's writer records each xattr twice (LIBARCHIVE.xattr and SCHILY.xattr), and its
    // reader returns both: a name seen again replaces the first value.
    while (archive_entry_xattr_next(ae, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
      if (!xname) continue;
      std::string value =
          xvalue ? std::string(static_cast<const char*>(xvalue), xsize) : std::string();
      auto same = std::find_if(e.xattrs.begin(), e.xattrs.end(),
                               [&](const auto& x) { return x.first == xname; });
      if (same != e.xattrs.end()) {
        same->second = std::move(value);
      } else {
        e.xattrs.emplace_back(xname, std::move(value));
      }
    }
    if (e.type == EntryType::kSymlink) {
      const char* t = archive_entry_symlink(ae);
      e.link = t ? t : "";
    } else if (e.type == EntryType::kHardlink) {
      ANYARCH_TRY(e.link, CleanEntryPath(archive_entry_hardlink(ae)));
      if (e.link.empty()) {
        return MakeError(ErrorCode::kInvalid,
                         "hard link \"" + Printable(e.raw_path) + "\" in layer points at the root");
      }
    } else if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice) {
      e.dev_major = archive_entry_rdevmajor(ae);
      e.dev_minor = archive_entry_rdevminor(ae);
    }
    ANYARCH_CHECK(CheckEntryLimits(e));
    std::string base =
        e.path.substr(e.path.rfind('/') == std::string::npos ? 0 : e.path.rfind('/') + 1);
    std::string dir =
        e.path.rfind('/') == std::string::npos ? "" : e.path.substr(0, e.path.rfind('/'));
    if (base == ".wh..wh..opq") {
      e.opaque = true;
      e.path = dir;
    } else if (base.rfind(".wh.", 0) == 0) {
      e.whiteout = true;
      std::string name = base.substr(4);
      if (name.empty() || name == "." || name == "..") {
        return MakeError(ErrorCode::kInvalid,
                         "malformed whiteout \"" + Printable(e.raw_path) + "\" in layer");
      }
      e.path = dir.empty() ? name : dir + "/" + name;
    }
    auto read_error = [&]() -> Error {
      if (src.error) return *src.error;
      return PreferReaderError(
          in, Error(ErrorCode::kInvalid,
                    "reading " + e.path + " from layer: " + archive_error_string(a.get())));
    };
    EntryReader read(
        [&](void* buf, std::size_t size) -> Result<std::size_t> {
          la_ssize_t n = archive_read_data(a.get(), buf, size);
          if (n < 0) return Unexpected(read_error());
          return static_cast<std::size_t>(n);
        },
        [&]() -> Result<Extent> {
          const void* data = nullptr;
          std::size_t size = 0;
          la_int64_t offset = 0;
          int r = archive_read_data_block(a.get(), &data, &size, &offset);
          if (r == ARCHIVE_EOF) return Extent{};
          if (r < ARCHIVE_WARN) return Unexpected(read_error());
          if (offset < 0) {
            return MakeError(ErrorCode::kInvalid,
                             "entry " + e.path + " in layer has data at a negative offset");
          }
          return Extent{.data = data, .size = size, .offset = offset};
        });
    ANYARCH_CHECK(visit(e, read));
  }
  if (src.error) return Unexpected(*src.error);
  // Drain to the end so a VerifyingReader checks the digest of the whole blob.
  return Drain(in);
}

Result<Digest> WalkLayer(Reader& blob, const std::optional<Digest>& diff_id,
                         const EntryVisitor& visit) {
  if (diff_id && diff_id->algorithm() != "sha256") {
    return MakeError(ErrorCode::kUnsupported,
                     "diff_id " + diff_id->ToString() + ": only sha256 is supported");
  }
  // Decompressed here rather than inside WalkTar, so that the tar stream itself is hashed.
  ANYARCH_TRY(auto plain, Decompress(blob));
  // Reading the blob, its digest and inflating run on a thread of their own; the diff_id, the
  // tar and the visitor (an unpack's file creation) on the caller's. That splits the work about
  // evenly on two cores (figures in the commit that brought it).
  PrefetchReader ahead(*plain);
  HashingReader hashed(ahead);
  ANYARCH_CHECK(WalkTar(hashed, {.decompress = false}, visit));
  // WalkTar read the stream to its end, trailing bytes included: the digest covers all of it.
  Digest got = hashed.Finish();
  if (diff_id && got != *diff_id) {
    return MakeError(ErrorCode::kDigestMismatch,
                     "the uncompressed layer has digest " + got.ToString() +
                         ", but the image config's diff_id is " + diff_id->ToString());
  }
  return got;
}

}  // namespace anyarch::layer

// Streaming reads of image layers: tar (POSIX ustar, GNU and PAX), optionally compressed with
// gzip (decoded by ISA-L, gzip_reader.h) or zstd (libarchive), parsed by libarchive from any
// Reader (e.g. a VerifyingReader over a blob), one entry at a time, without writing anything to
// disk. WalkLayer reads and inflates the blob on a thread of its own (base/prefetch_reader.h).
//
// Entry paths are cleaned: a leading "./" or "/" is dropped, "." components removed; a path
// with a ".." component is reported as unsafe (kInvalid) rather than silently rewritten, so
// callers can refuse or skip it. The root entry ("./", what `tar -C dir -c .` writes first) is a
// directory entry for the layer's root: it is accepted and not passed to visitors (a root entry
// that is not a directory is malformed). Whiteouts (".wh.<name>") and opaque markers
// (".wh..wh..opq") are classified here (OCI image-spec layer.md).
//
// One validation path: every reader of layers (the unpacker, verify, the store check) walks them
// here, so what one of them refuses the others refuse too. WalkTar refuses names no Linux
// filesystem can hold (CheckEntryLimits); WalkLayer checks the uncompressed stream against the
// config's diff_id exactly as ApplyLayer does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/io.h"

namespace anyarch::layer {

enum class EntryType {
  kFile,
  kDirectory,
  kSymlink,
  kHardlink,
  kCharDevice,
  kBlockDevice,
  kFifo,
  kOther
};

struct Entry {
  std::string path;      // cleaned, relative, no leading "/"
  std::string raw_path;  // as in the archive
  EntryType type = EntryType::kOther;
  std::string link;  // symlink target (as written) or hardlink target (cleaned path)
  std::uint32_t mode = 0;
  std::int64_t uid = 0, gid = 0;
  std::int64_t size = 0;  // the file's apparent size (holes included, for a sparse entry)
  bool sparse = false;    // a sparse entry: read it with EntryReader::NextExtent
  std::uint32_t dev_major = 0, dev_minor = 0;
  std::int64_t mtime = 0;  // seconds since the epoch, as the header (or its PAX record) says
  long mtime_nsec = 0;     // from a PAX mtime with a fraction; 0 otherwise
  // Extended attributes from PAX records (SCHILY.xattr.*, LIBARCHIVE.xattr.*), name and value,
  // in archive order. Which ones are applied is the unpacker's business (layer/unpack.h).
  std::vector<std::pair<std::string, std::string>> xattrs;
  bool whiteout = false;  // .wh.<name>: `path` is the deleted path
  bool opaque = false;    // .wh..wh..opq: `path` is the directory made opaque
};

// The extended attributes a layer carries, written by the differ and applied by the unpacker:
// user.* and security.capability (file capabilities), as Docker's layers hold them. Never
// overlay's own (trusted.overlay.*, user.overlay.*: in a lower directory they would redirect
// or hide paths), other trusted.* or security.* (the host's SELinux, IMA and EVM labels), or
// system.* (ACLs, which the filesystem keeps itself).
bool IsLayerXattr(std::string_view name);

// Cleans an archive path. "" for the root ("./", "/", "."); kInvalid when it has a ".."
// component.
Result<std::string> CleanEntryPath(const std::string& raw);

// The longest name of one path component (Linux NAME_MAX) and the longest absolute path ("/" +
// Entry::path, or a link target) without its terminating NUL (PATH_MAX - 1): an entry beyond
// them cannot be created, and its content would be unreachable inside a container.
inline constexpr std::size_t kMaxNameBytes = 255;
inline constexpr std::size_t kMaxPathBytes = 4095;

// kInvalid (naming the entry, shortened) when a component of entry.path or of a hard link's
// target is longer than kMaxNameBytes, or when "/" + entry.path, a hard link's "/" + target or a
// symlink's target as written is longer than kMaxPathBytes. WalkTar calls it for every entry.
Status CheckEntryLimits(const Entry& entry);

// An entry's stored content, one extent at a time: `size` bytes at `offset` in the file. The
// extents of a sparse entry (GNU sparse 0.0, 0.1 and 1.0 in PAX headers, old GNU 'S' entries)
// leave holes between them, which the archive does not store; a plain entry has one extent after
// another. `size` 0 is the end.
struct Extent {
  const void* data = nullptr;
  std::size_t size = 0;
  std::int64_t offset = 0;
};

// Reads the content of the entry being visited (regular files only); calling it is optional.
// Use one of the two ways per entry. Errors as WalkTar's.
class EntryReader {
 public:
  using ReadFn = std::function<Result<std::size_t>(void* buf, std::size_t size)>;
  using ExtentFn = std::function<Result<Extent>()>;
  EntryReader(ReadFn read, ExtentFn extent) : read_(std::move(read)), extent_(std::move(extent)) {}
  // The content as one flat stream: the holes of a sparse entry come back as zeros, so this reads
  // entry.size bytes whatever the archive stores. 0 at the end.
  Result<std::size_t> operator()(void* buf, std::size_t size) const { return read_(buf, size); }
  // The next stored extent, without materialising holes (the way to write sparse files).
  Result<Extent> NextExtent() const { return extent_(); }

 private:
  ReadFn read_;
  ExtentFn extent_;
};

// Called per entry. Return an error to stop the walk.
using EntryVisitor = std::function<Status(const Entry& entry, const EntryReader& read)>;

struct WalkOptions {
  bool decompress = true;  // false: `in` is the plain tar (e.g. from Decompress)
};

// Walks every entry of the tar stream, gzip- or zstd-compressed unless options.decompress is
// false. kInvalid for a malformed archive, unsafe paths included (the message names the entry);
// errors from `in` (e.g. a digest mismatch) and from the visitor come back as they are. Reads `in`
// to its end, so a VerifyingReader checks the whole blob.
Status WalkTar(Reader& in, const WalkOptions& options, const EntryVisitor& visit);
inline Status WalkTar(Reader& in, const EntryVisitor& visit) { return WalkTar(in, {}, visit); }

// Walks a layer blob the way ApplyLayer applies it: decompressed (gzip, zstd or plain), the
// uncompressed stream hashed, every entry visited. Returns that hash (the layer's diff_id). When
// `diff_id` is set and the stream hashes otherwise, kDigestMismatch once it has been read to its
// end (the message gives both digests); kUnsupported for a diff_id that is not sha256. Errors of
// WalkTar come back as they are.
Result<Digest> WalkLayer(Reader& blob, const std::optional<Digest>& diff_id,
                         const EntryVisitor& visit);

// The uncompressed bytes of a layer blob: gzip and zstd are recognised by their magic bytes (as
// WalkTar does), anything else passes through unchanged. `in` must outlive the reader, which
// reads it to its end (so a VerifyingReader underneath checks the whole blob). Errors from `in`
// come back as they are; corrupt compressed data is kInvalid.
Result<std::unique_ptr<Reader>> Decompress(Reader& in);

}  // namespace anyarch::layer

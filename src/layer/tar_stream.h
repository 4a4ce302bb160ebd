// Streaming reads of image layers: tar (POSIX ustar, GNU and PAX), optionally compressed with
// gzip or zstd, decoded by libarchive from any Reader (e.g. a VerifyingReader over a blob), one
// entry at a time, without writing anything to disk.
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
  std::int64_t size = 0;
  std::uint32_t dev_major = 0, dev_minor = 0;
  bool whiteout = false;  // .wh.<name>: `path` is the deleted path
  bool opaque = false;    // .wh..wh..opq: `path` is the directory made opaque
};

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

// Called per entry. `read` reads the entry's content (regular files only); calling it is
// optional. Return an error to stop the walk.
using EntryReader = std::function<Result<std::size_t>(void* buf, std::size_t size)>;
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

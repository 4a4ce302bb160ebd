// What the two tarball transports (oci_archive.h, docker_archive.h) share: secure extraction of
// an untrusted tar into a private temporary directory, deterministic tar writing into an
// AtomicFile, and the verified copy of a blob into either. Internal to content/: other modules use
// the transports, never these.
//
// Traps handled:
// - An archive is untrusted. Entries with an absolute path or a ".." component, device nodes,
//   fifos and sockets are refused by name; nothing but regular files is ever created, in a
//   private temporary directory (opened O_EXCL|O_NOFOLLOW). Links are refused unless the caller
//   asks for them to be recorded (docker-archive); recorded links are never created, only
//   followed by name, and a link leaving the archive is refused.
// - Bombs: the bytes unpacked may not exceed the archive's size (a plain tar cannot hold more
//   than itself; sparse entries are counted at their full size), or 256 times it for a gzip or
//   zstd compressed archive. Entries are capped in number too.
// - Writing: output is deterministic (owner 0:0, mode 0644, mtime 0) and pax-restricted: plain
//   ustar unless an entry is over 8 GiB. A blob that fails verification cannot be taken back out
//   of a half-written tar, so it fails the whole sink (SinkState); only Finish() renames the file
//   into place.
#pragma once

#include <archive.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/digest.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "image/descriptor.h"

namespace anyarch::content::tarball {

using ReadArchive = std::unique_ptr<archive, int (*)(archive*)>;

inline constexpr std::size_t kBufferSize = 1 << 16;
inline constexpr std::size_t kMaxJsonFile = std::size_t{64} << 20;  // manifest.json, configs

// `s` in double quotes, unprintable bytes escaped, for messages naming entries.
std::string Quote(std::string_view s);

// Writes all `n` bytes to `fd` (retrying EINTR); errors are named `what`.
Status WriteAll(int fd, const char* p, std::size_t n, const std::string& what);

// Compact JSON, invalid UTF-8 replaced rather than thrown.
std::string Dump(const OrderedJson& j);

// libarchive's message for its last error on `a`.
std::string ArchiveErrorText(archive* a);

// An archive entry's path made relative and clean: "./a//b" is "a/b", "./" is "" (the root).
// Absolute paths and ".." components are kInvalid, naming the entry; `what` names the archive.
Result<std::string> SafeEntryPath(std::string_view raw, const std::string& what);

struct ExtractedFile {
  std::int64_t size = 0;
  Digest digest;     // set when ExtractOptions::hash
  std::string head;  // the first bytes (up to 4), to detect compression by magic bytes
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
  TempDir dir;                                 // removed with this object
  std::map<std::string, ExtractedFile> files;  // by clean relative path
  std::map<std::string, std::string> links;    // clean path -> clean target path

  // The file `name` (from manifest.json) stands for, following recorded links. kInvalid for an
  // unsafe name, kNotFound when absent; `what` names the archive and `role` the file.
  Result<std::pair<std::string, const ExtractedFile*>> Lookup(const std::string& name,
                                                              const std::string& what,
                                                              const std::string& role) const;
};

// Extracts the tar `file` (plain, gzip or zstd) into a new private directory under $TMPDIR.
// kInvalid, naming `what` and the entry, for anything unsafe, malformed, truncated or too big;
// nothing is left behind on error.
Result<Extracted> ExtractArchive(const std::filesystem::path& file, const std::string& what,
                                 const ExtractOptions& opt);

// A tar written through libarchive into an AtomicFile. Entries are owned by 0:0 with mtime 0.
// Destroying it without Finish() discards everything.
class TarWriter {
 public:
  static Result<std::unique_ptr<TarWriter>> Create(const std::filesystem::path& target,
                                                   std::string what);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  Status AddDirectory(const std::string& name);
  Status AddBytes(const std::string& name, std::string_view data);
  // Starts a regular file of `size` bytes; the caller then Write()s exactly that many.
  Status BeginFile(const std::string& name, std::int64_t size);
  Status Write(const void* data, std::size_t size);
  // Copies the file at `src` (of `size` bytes) into the entry `name`; kIo if it changed size.
  Status AddFile(const std::string& name, const std::filesystem::path& src, std::int64_t size);
  // Writes the trailer and renames the file into place.
  Status Finish();

 private:
  TarWriter(AtomicFile file, std::string what);
  static la_ssize_t WriteCallback(archive*, void* self, const void* buf, size_t size);
  Error Failure(const std::string& doing);
  Status Header(const std::string& name, unsigned type, unsigned perm, std::int64_t size);

  AtomicFile file_;
  std::string what_;
  std::unique_ptr<archive, int (*)(archive*)> a_;
  std::optional<Error> io_error_;
  bool discard_ = false;
};

// Reads `data` to its end, handing each chunk to `out`, and checks size and digest against
// `desc` (kDigestMismatch as soon as there are too many bytes, else at the end). kUnsupported
// for a digest that is not sha256.
Status PumpVerified(Reader& data, const image::Descriptor& desc,
                    const std::function<Status(const char*, std::size_t)>& out);

// What the archive sinks share: the failed state and the committed state.
class SinkState {
 public:
  explicit SinkState(std::string describe) : describe_(std::move(describe)) {}
  const std::string& describe() const { return describe_; }

  // An error once the sink failed or was committed.
  Status Usable() const;
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

}  // namespace anyarch::content::tarball

// Filesystem helpers. Every write that other processes may observe goes through AtomicFile:
// bytes land in a temporary file in the target's directory, are fsynced, then renamed over the
// target and the directory is fsynced, so a killed process never leaves a half-written file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.h"

namespace anyarch {

// An Error for a failed system call: kNotFound for ENOENT, kDenied for EACCES/EPERM, else kIo.
// The message reads "<what>: <strerror(err)>".
Error ErrnoError(int err, std::string what);

// What the regular files under `dir` hold (symlinks not followed, a hard-linked file counted
// once), and the newest mtime of anything there (seconds). Unreadable parts are skipped.
struct TreeUsage {
  std::uint64_t bytes = 0;
  std::int64_t newest_mtime = 0;
};
TreeUsage DirectoryUsage(const std::filesystem::path& dir);

// Reads a whole file. Files larger than max_size give kInvalid (the caller names the limit).
Result<std::string> ReadFile(const std::filesystem::path& path,
                             std::size_t max_size = static_cast<std::size_t>(-1));

// Writes data to path atomically (temp + fsync + rename + directory fsync). Creates missing
// parent directories.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                       unsigned mode = 0644);

// A file written in pieces and published atomically by Commit(). If the object is destroyed
// without Commit(), the temporary file is removed and the target is untouched.
class AtomicFile {
 public:
  AtomicFile() = default;
  ~AtomicFile();
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Creates the temporary file next to `target` (creating parent directories).
  static Result<AtomicFile> Create(const std::filesystem::path& target, unsigned mode = 0644);

  Status Write(const void* data, std::size_t size);
  Status Write(std::string_view data) { return Write(data.data(), data.size()); }
  // fsync, rename over the target, fsync the directory.
  Status Commit();
  // Changes the name Commit() publishes under, for content-addressed files whose name is known
  // only once every byte is written. Must be in the same directory as the original target.
  void SetTarget(const std::filesystem::path& target) { target_ = target; }
  // Drops the temporary file. Safe to call more than once.
  void Abort();

  int fd() const { return fd_; }
  const std::filesystem::path& temp_path() const { return temp_; }
  std::uint64_t bytes_written() const { return written_; }

 private:
  int fd_ = -1;
  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::uint64_t written_ = 0;
};

// Owns a file descriptor: closes it when destroyed. Movable, not copyable.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close() may carry for a written file (named `what`).
  Status Close(const std::string& what);

 private:
  int fd_;
};

// Copies everything readable from `from` to `to` until end of file, retrying on EINTR and short
// writes. kIo names `what` and the errno. Neither descriptor is closed.
Status CopyFdData(int from, int to, const std::string& what);

// A file's contents to a descriptor (`export -o -`), or a descriptor's to a new file with mode
// 0600 (`import -`). kIo on failure.
Status CopyFileToFd(const std::filesystem::path& file, int to);
Status CopyFdToFile(int from, const std::filesystem::path& file);

// Creates `dir` (and missing parents) and makes it mode 0700 whether it was there or not: the
// store's directories that hold image or container content, which other local users must not
// reach (a setuid-root file in an image is one). Errors: kIo / kDenied with the path.
Status MakePrivateDir(const std::filesystem::path& dir);

// fsyncs a directory so that a rename inside it is durable.
Status SyncDirectory(const std::filesystem::path& dir);

// A directory removed (recursively) when the object goes out of scope.
class TempDir {
 public:
  // Creates a fresh directory under `parent` (default: $TMPDIR or /tmp) named prefix.XXXXXX.
  static Result<TempDir> Create(std::string_view prefix = "anyarch",
                                const std::filesystem::path& parent = {});
  TempDir() = default;
  ~TempDir();
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Keeps the directory on destruction and returns its path.
  std::filesystem::path Release();

 private:
  std::filesystem::path path_;
};

}  // namespace anyarch

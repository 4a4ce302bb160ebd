// The context hash's memory between builds: the content digest SourceTree::Hash computed for a
// regular file, keyed by what changes whenever the file does (device, inode, size, mtime, ctime,
// mode, owner), so that a rebuild reads no unchanged file again. One cache per build context
// directory, in <store>/build/statcache/, holding the entries the last build of that context
// used.
//
// Traps handled:
// - ctime cannot be set by a user (utimes, touch -r and tar set only mtime and atime), and any
//   write, chmod, chown or rename changes it, so a file restored to an old mtime is still seen
//   as changed;
// - "racily clean" files (git's term): file times have the resolution of a kernel tick, so a file
//   changed again within the tick in which it was hashed would look unchanged. A digest is only
//   remembered when the file's mtime and ctime are at least two seconds older than the moment it
//   was read;
// - a cache file that is missing, truncated or malformed is an empty cache, never an error;
//   it is rewritten atomically.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "base/digest.h"
#include "base/error.h"

namespace anyarch::build {

class StatCache {
 public:
  // The cache of the context `context_dir` in the store at `store_root` (read now).
  static StatCache Load(const std::string& store_root, const std::string& context_dir);
  StatCache() = default;
  StatCache(StatCache&& o) noexcept;
  StatCache& operator=(StatCache&& o) noexcept;

  // The digest remembered for a file with this stat, if any. Thread-safe.
  std::optional<Digest> Find(const struct stat& st);
  // Remembers `digest` for a file with this stat, read at `read_at` (seconds since the epoch),
  // unless it is racily clean. Thread-safe.
  void Remember(const struct stat& st, const Digest& digest, std::int64_t read_at);
  // Writes the entries found or remembered since Load (the others are of files gone or
  // changed). Errors are not worth failing a build for: the caller may ignore them.
  Status Save() const;

 private:
  using Key = std::tuple<std::uint64_t, std::uint64_t, std::int64_t, std::int64_t, std::int64_t,
                         std::uint32_t, std::uint32_t, std::uint32_t>;
  static Key KeyOf(const struct stat& st);
  std::string path_;
  std::map<Key, Digest> old_, used_;
  mutable std::mutex mu_;
};

}  // namespace anyarch::build

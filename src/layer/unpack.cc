#include "layer/unpack.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "layer/tar_stream.h"

namespace anyarch::layer {
namespace {

using Fd = UniqueFd;

// Opens `path` (relative, may be "") beneath root, resolving as if root were "/".
Result<Fd> OpenInRoot(int root, const std::string& path, int flags) {
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string p = path.empty() ? "." : path;
  long fd = ::syscall(SYS_openat2, root, p.c_str(), &how, sizeof how);
  if (fd < 0) {
    int err = errno;
    if (err == ENOSYS) {
      return MakeError(ErrorCode::kUnsupported,
                       "this kernel has no openat2 (Linux 5.6+), which safe unpacking needs");
    }
    return Unexpected(ErrnoError(err, "/" + path));
  }
  return Fd(static_cast<int>(fd));
}

// Joins `rel` onto `base` lexically, with ".." never climbing above the root.
std::string JoinInRoot(const std::string& base, const std::string& rel) {
  std::vector<std::string> parts;
  if (!rel.empty() && rel[0] != '/') {
    for (const auto& p : Split(base, '/')) {
      if (!p.empty()) parts.push_back(p);
    }
  }
  for (const auto& p : Split(rel, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  return Join(parts, "/");
}

// Makes sure directory `dir` exists beneath root, as the container would see it: missing
// components are created, and a symlink on the way is followed inside the root (its target
// directory is created there if needed). Never touches anything outside root.
Status MkdirInRoot(int root, const std::string& dir, int depth = 0) {
  if (dir.empty()) return Ok();
  if (depth > 40)
    return MakeError(ErrorCode::kInvalid, "too many levels of symbolic links at /" + dir);
  auto existing = OpenInRoot(root, dir, O_PATH | O_DIRECTORY);
  if (existing) return Ok();
  if (existing.error().code() == ErrorCode::kUnsupported) return Unexpected(existing.error());
  std::string parent = dir.find('/') == std::string::npos ? "" : dir.substr(0, dir.rfind('/'));
  std::string name = dir.substr(dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/') + 1);
  ANYARCH_CHECK(MkdirInRoot(root, parent, depth + 1));
  ANYARCH_TRY(Fd pfd, OpenInRoot(root, parent, O_RDONLY | O_DIRECTORY));
  if (::mkdirat(pfd.get(), name.c_str(), 0755) == 0) return Ok();
  if (errno != EEXIST) return Unexpected(ErrnoError(errno, "creating /" + dir));
  struct stat st;
  if (::fstatat(pfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlinkat(pfd.get(), name.c_str(), target, sizeof target - 1);
    if (n < 0) return Unexpected(ErrnoError(errno, "/" + dir));
    target[n] = '\0';
    return MkdirInRoot(root, JoinInRoot(parent, target), depth + 1);
  }
  return MakeError(ErrorCode::kInvalid, "/" + dir + " exists and is not a directory");
}

// Creates the directories of `dir` beneath root, each resolved inside root.
Result<Fd> MakeParents(int root, const std::string& dir) {
  ANYARCH_CHECK(MkdirInRoot(root, dir));
  return OpenInRoot(root, dir, O_PATH | O_DIRECTORY);
}

Status RemoveChildren(int dirfd, const std::set<std::string>& keep = {});

// Removes `name` in `dirfd`, recursively if it is a directory; never follows symlinks.
Status RemoveAt(int dirfd, const std::string& name) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return Unexpected(ErrnoError(errno, name));
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Unexpected(ErrnoError(errno, name));
    ANYARCH_CHECK(RemoveChildren(fd));
    ::close(fd);
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0)
      return Unexpected(ErrnoError(errno, name));
    return Ok();
  }
  if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
    return Unexpected(ErrnoError(errno, name));
  return Ok();
}

// Passes a stream through unchanged, hashing it.
class HashingReader final : public Reader {
 public:
  explicit HashingReader(Reader& in) : in_(in) {}
  Result<std::size_t> Read(void* buf, std::size_t size) override {
    ANYARCH_TRY(std::size_t n, in_.Read(buf, size));
    hash_.Update(buf, n);
    return n;
  }
  Digest Finish() { return hash_.Finish(); }

 private:
  Reader& in_;
  Sha256 hash_;
};

// Removes every entry of an open directory, except names in `keep`.
Status RemoveChildren(int dirfd, const std::set<std::string>& keep) {
  int dup = ::dup(dirfd);
  if (dup < 0) return Unexpected(ErrnoError(errno, "dup"));
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return Unexpected(ErrnoError(errno, "opendir"));
  }
  std::vector<std::string> names;
  while (dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n == "." || n == ".." || keep.count(n)) continue;
    names.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) ANYARCH_CHECK(RemoveAt(dirfd, n));
  return Ok();
}

}  // namespace

Result<UnpackStats> ApplyLayer(Reader& layer, const std::string& target_dir,
                               const UnpackOptions& options) {
  if (options.diff_id && options.diff_id->algorithm() != "sha256") {
    return MakeError(ErrorCode::kUnsupported,
                     "diff_id " + options.diff_id->ToString() + ": only sha256 is supported");
  }
  int root_raw = ::open(target_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_raw < 0) return Unexpected(ErrnoError(errno, target_dir));
  Fd root(root_raw);
  UnpackStats stats;
  // Paths this layer created, so an opaque marker only empties what lower layers left.
  std::set<std::string> created;
  const bool as_root = ::geteuid() == 0;
  // Decompressed here rather than inside WalkTar, so that the tar stream itself is hashed.
  ANYARCH_TRY(auto plain, Decompress(layer));
  HashingReader hashed(*plain);
  const WalkOptions already_plain{.decompress = false};
  auto st = WalkTar(hashed, already_plain, [&](const Entry& e, const EntryReader& read) -> Status {
    const auto uid = static_cast<uid_t>(options.owner ? options.owner->first : e.uid);
    const auto gid = static_cast<gid_t>(options.owner ? options.owner->second : e.gid);
    std::string dir =
        e.path.find('/') == std::string::npos ? "" : e.path.substr(0, e.path.rfind('/'));
    std::string name =
        e.path.substr(e.path.rfind('/') == std::string::npos ? 0 : e.path.rfind('/') + 1);
    if (e.opaque) {
      ANYARCH_TRY(Fd d, MakeParents(root.get(), e.path));
      ANYARCH_TRY(Fd rd, OpenInRoot(root.get(), e.path, O_RDONLY | O_DIRECTORY));
      std::set<std::string> keep;
      std::string prefix = e.path.empty() ? "" : e.path + "/";
      for (const auto& c : created) {
        if (c.rfind(prefix, 0) == 0)
          keep.insert(c.substr(prefix.size(), c.find('/', prefix.size()) - prefix.size()));
      }
      ++stats.whiteouts;
      return RemoveChildren(rd.get(), keep);
    }
    ANYARCH_TRY(Fd parent, MakeParents(root.get(), dir));
    // O_PATH fds cannot be used for unlinkat/mkdirat on every kernel; reopen as a directory.
    ANYARCH_TRY(Fd pd, OpenInRoot(root.get(), dir, O_RDONLY | O_DIRECTORY));
    int p = pd.get();
    if (e.whiteout) {
      ++stats.whiteouts;
      return RemoveAt(p, name);
    }
    created.insert(e.path);
    struct stat old;
    bool exists = ::fstatat(p, name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (e.type == EntryType::kDirectory) {
      if (exists && !S_ISDIR(old.st_mode)) ANYARCH_CHECK(RemoveAt(p, name));
      if ((!exists || !S_ISDIR(old.st_mode)) && ::mkdirat(p, name.c_str(), 0755) != 0) {
        return Unexpected(ErrnoError(errno, "creating /" + e.path));
      }
      int dfd = ::openat(p, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dfd < 0) return Unexpected(ErrnoError(errno, "/" + e.path));
      ::fchmod(dfd, e.mode & 07777);
      if (options.keep_ownership && as_root) {
        if (::fchown(dfd, uid, gid) != 0) {
          // Not fatal: ownership is best effort on filesystems that refuse it.
        }
      }
      ::close(dfd);
      ++stats.dirs;
      return Ok();
    }
    if (exists) ANYARCH_CHECK(RemoveAt(p, name));
    switch (e.type) {
      case EntryType::kFile: {
        int fd =
            ::openat(p, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return Unexpected(ErrnoError(errno, "creating /" + e.path));
        Fd f(fd);
        char buf[65536];
        for (;;) {
          ANYARCH_TRY(std::size_t n, read(buf, sizeof buf));
          if (n == 0) break;
          const char* q = buf;
          while (n > 0) {
            ssize_t w = ::write(fd, q, n);
            if (w < 0) {
              if (errno == EINTR) continue;
              return Unexpected(ErrnoError(errno, "writing /" + e.path));
            }
            q += w;
            n -= static_cast<std::size_t>(w);
          }
        }
        if (options.keep_ownership && as_root) {
          if (::fchown(fd, uid, gid) != 0) {
          }
        }
        ::fchmod(fd, e.mode & 07777);
        ++stats.files;
        return Ok();
      }
      case EntryType::kSymlink:
        // The target is stored as written; it is only ever resolved inside the rootfs.
        if (::symlinkat(e.link.c_str(), p, name.c_str()) != 0)
          return Unexpected(ErrnoError(errno, "/" + e.path));
        if (options.keep_ownership && as_root) {
          if (::fchownat(p, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
          }
        }
        ++stats.symlinks;
        return Ok();
      case EntryType::kHardlink: {
        auto target = OpenInRoot(root.get(), e.link, O_PATH | O_NOFOLLOW);
        if (!target) {
          return MakeError(ErrorCode::kInvalid,
                           "hard link /" + e.path + " points at /" + e.link +
                               ", which is not in the image: " + target.error().message());
        }
        struct stat ts;
        if (::fstat(target->get(), &ts) == 0 && S_ISDIR(ts.st_mode)) {
          return MakeError(ErrorCode::kInvalid, "hard link /" + e.path + " points at a directory");
        }
        if (::linkat(target->get(), "", p, name.c_str(), AT_EMPTY_PATH) != 0) {
          return Unexpected(ErrnoError(errno, "linking /" + e.path + " to /" + e.link));
        }
        ++stats.hardlinks;
        return Ok();
      }
      case EntryType::kFifo:
        if (::mkfifoat(p, name.c_str(), e.mode & 0777) != 0)
          return Unexpected(ErrnoError(errno, "/" + e.path));
        return Ok();
      case EntryType::kCharDevice:
      case EntryType::kBlockDevice:
        stats.skipped.push_back(
            "/" + e.path + " (" + (e.type == EntryType::kCharDevice ? "character" : "block") +
            " device " + std::to_string(e.dev_major) + ":" + std::to_string(e.dev_minor) +
            " not created: layers never get host devices)");
        return Ok();
      default:
        stats.skipped.push_back("/" + e.path + " (unsupported entry type)");
        return Ok();
    }
  });
  if (!st) return Unexpected(st.error());
  // WalkTar read the stream to its end, trailing bytes included: the digest covers all of it.
  stats.diff_id = hashed.Finish();
  if (options.diff_id && stats.diff_id != *options.diff_id) {
    return MakeError(ErrorCode::kDigestMismatch,
                     "the uncompressed layer has digest " + stats.diff_id.ToString() +
                         ", but the image config's diff_id is " + options.diff_id->ToString());
  }
  return stats;
}

}  // namespace anyarch::layer

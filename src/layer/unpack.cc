#include "layer/unpack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>

#include "base/fs.h"
#include "base/in_root.h"
#include "base/strings.h"
#include "layer/tar_stream.h"

namespace anyarch::layer {
namespace {

using Fd = UniqueFd;

// Opens directory `dir` beneath root as a directory fd, creating what is missing. Depth costs
// nothing (base/in_root.h walks component by component, up to PATH_MAX); only symlink chains are
// bounded, as the kernel bounds them. The common case, a directory that exists, is one lookup.
Result<Fd> MakeParents(int root, const std::string& dir) {
  auto existing = OpenInRoot(root, dir, O_RDONLY | O_DIRECTORY);
  if (existing) return existing;
  if (existing.error().code() == ErrorCode::kUnsupported) return Unexpected(existing.error());
  ANYARCH_CHECK(MkdirInRoot(root, dir, 0755));
  return OpenInRoot(root, dir, O_RDONLY | O_DIRECTORY);
}

// Keeps an unpack from filling the store's filesystem: every write is charged against the space
// free when it was last measured, less the margin, and the filesystem is measured again when the
// charge would exceed it or every kRecheckBytes (other processes write there too). What counts is
// what is written, so neither a compression ratio nor a declared size can fool it.
class SpaceGuard {
 public:
  explicit SpaceGuard(int fd) : fd_(fd) {}

  // kIo, naming the file, when `n` more bytes would leave less than the margin free.
  Status Charge(std::uint64_t n, const std::string& path) {
    if (n > budget_ || since_measure_ >= kRecheckBytes) ANYARCH_CHECK(Measure());
    if (n > budget_) {
      return MakeError(ErrorCode::kIo,
                       "unpacking /" + path + " stopped: not enough free space on the " +
                           "store's filesystem (" + HumanSize(free_) + " free, and an unpack " +
                           "leaves at least " + HumanSize(margin_) + " free); free some space " +
                           "(anyarch prune) or use a larger store");
    }
    budget_ -= n;
    since_measure_ += n;
    return Ok();
  }

 private:
  static constexpr std::uint64_t kRecheckBytes = 64ull << 20;

  Status Measure() {
    struct statvfs v {};
    if (::fstatvfs(fd_, &v) != 0) return Unexpected(ErrnoError(errno, "statvfs of the target"));
    std::uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
    free_ = static_cast<std::uint64_t>(v.f_bavail) * unit;
    std::uint64_t total = static_cast<std::uint64_t>(v.f_blocks) * unit;
    margin_ = std::min(total / 100 * kFreeSpaceMargin.percent, kFreeSpaceMargin.max_bytes);
    budget_ = free_ > margin_ ? free_ - margin_ : 0;
    since_measure_ = 0;
    return Ok();
  }

  int fd_;
  std::uint64_t budget_ = 0, since_measure_ = 0, free_ = 0, margin_ = 0;
};

// Writes a regular file's content to `fd`. Only the stored extents are written, each at its
// offset: the holes of a sparse entry stay holes (ftruncate sets the size), never zeros on disk.
Status WriteContent(int fd, const Entry& e, const EntryReader& read, SpaceGuard& space) {
  std::int64_t end = 0;
  for (;;) {
    ANYARCH_TRY(Extent x, read.NextExtent());
    if (x.size == 0) break;
    ANYARCH_CHECK(space.Charge(x.size, e.path));
    const char* q = static_cast<const char*>(x.data);
    std::size_t n = x.size;
    off_t at = static_cast<off_t>(x.offset);
    while (n > 0) {
      ssize_t w = ::pwrite(fd, q, n, at);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Unexpected(ErrnoError(errno, "writing /" + e.path));
      }
      q += w;
      at += w;
      n -= static_cast<std::size_t>(w);
    }
    end = std::max<std::int64_t>(end, at);
  }
  // A file that ends in a hole (or is all hole) gets its size here.
  if (e.size > end && ::ftruncate(fd, static_cast<off_t>(e.size)) != 0)
    return Unexpected(ErrnoError(errno, "sizing /" + e.path));
  return Ok();
}

// The result of giving an entry the layer's owner. Ownership is best effort on filesystems that
// refuse it (EPERM), but EINVAL means the kernel cannot represent the id here: a user namespace
// that does not map it (rootless, with no subordinate range or one too small). The file would
// silently stay root's, so it is an error, as podman makes it.
Status Owned(int rc, const Entry& e, uid_t uid, gid_t gid) {
  if (rc == 0 || errno != EINVAL) return Ok();
  return MakeError(ErrorCode::kUnsupported,
                   "/" + e.path + " belongs to " + std::to_string(uid) + ":" + std::to_string(gid) +
                       ", an id this user namespace does not map: it maps the caller's own id "
                       "and, if there are any, the caller's ranges in /etc/subuid and "
                       "/etc/subgid; a range covering the id lets it unpack");
}

// The entry's times as utimensat and futimens take them: its mtime, for atime too. A fraction
// outside a second (a hostile PAX record) is dropped rather than refused.
using Times = std::array<struct timespec, 2>;
Times EntryTimes(const Entry& e) {
  struct timespec t {};
  t.tv_sec = static_cast<time_t>(e.mtime);
  t.tv_nsec = e.mtime_nsec >= 0 && e.mtime_nsec < 1000000000 ? e.mtime_nsec : 0;
  return {t, t};
}

// A directory of the layer whose times are set once the layer is applied.
struct DirTimes {
  std::string dir, name;  // the parent, relative to the root, and the name in it
  Times times;
};

// Sets the entry's layer xattrs (IsLayerXattr) on the open file or directory `fd`, after its
// owner and mode: a chown clears security.capability. What the filesystem or the kernel refuses
// (no user xattrs on this filesystem, no CAP_SETFCAP, a malformed capability value) is noted in
// `skipped`, as a device node is; any other failure fails the unpack.
Status ApplyXattrs(int fd, const Entry& e, UnpackStats& stats) {
  for (const auto& [name, value] : e.xattrs) {
    if (!IsLayerXattr(name)) continue;
    if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) == 0) {
      ++stats.xattrs;
      continue;
    }
    int err = errno;
    if (err == EPERM || err == ENOTSUP || err == E2BIG || err == ERANGE || err == EINVAL ||
        err == ENOSPC) {
      stats.skipped.push_back("/" + e.path + " (extended attribute " + Printable(name) +
                              " not set: " + std::strerror(err) + ")");
      continue;
    }
    return Unexpected(ErrnoError(err, "setting " + Printable(name) + " on /" + e.path));
  }
  return Ok();
}

// Directories get their times once the layer is applied: every entry created in one changes
// its mtime. Each is looked up again inside the root (a later entry may have replaced it).
void ApplyDirectoryTimes(int root, const std::vector<DirTimes>& dirs) {
  for (const auto& d : dirs) {
    auto parent = OpenInRoot(root, d.dir, O_RDONLY | O_DIRECTORY);
    if (parent) ::utimensat(parent->get(), d.name.c_str(), d.times.data(), AT_SYMLINK_NOFOLLOW);
  }
}

}  // namespace

Result<UnpackStats> ApplyLayer(Reader& layer, const std::string& target_dir,
                               const UnpackOptions& options) {
  int root_raw = ::open(target_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_raw < 0) return Unexpected(ErrnoError(errno, target_dir));
  Fd root(root_raw);
  UnpackStats stats;
  SpaceGuard space(root.get());
  // Paths this layer created, so an opaque marker only empties what lower layers left.
  std::set<std::string> created;
  // The directories of this layer, with their times, set at the end (ApplyDirectoryTimes).
  std::vector<DirTimes> dir_times;
  const bool as_root = ::geteuid() == 0;
  // WalkLayer decompresses, hashes the tar stream and checks options.diff_id.
  auto digest =
      WalkLayer(layer, options.diff_id, [&](const Entry& e, const EntryReader& read) -> Status {
        const auto uid = static_cast<uid_t>(options.owner ? options.owner->first : e.uid);
        const auto gid = static_cast<gid_t>(options.owner ? options.owner->second : e.gid);
        std::string dir =
            e.path.find('/') == std::string::npos ? "" : e.path.substr(0, e.path.rfind('/'));
        std::string name =
            e.path.substr(e.path.rfind('/') == std::string::npos ? 0 : e.path.rfind('/') + 1);
        const bool as_upper = !options.overlay_opaque_xattr.empty();
        if (e.opaque && as_upper) {
          ANYARCH_TRY(Fd rd, MakeParents(root.get(), e.path));
          ++stats.whiteouts;
          if (::fsetxattr(rd.get(), options.overlay_opaque_xattr.c_str(), "y", 1, 0) != 0)
            return Unexpected(ErrnoError(errno, "marking /" + e.path + " opaque"));
          return Ok();
        }
        if (e.opaque) {
          ANYARCH_TRY(Fd rd, MakeParents(root.get(), e.path));
          std::set<std::string> keep;
          std::string prefix = e.path.empty() ? "" : e.path + "/";
          for (const auto& c : created) {
            if (c.rfind(prefix, 0) == 0)
              keep.insert(c.substr(prefix.size(), c.find('/', prefix.size()) - prefix.size()));
          }
          ++stats.whiteouts;
          return RemoveChildren(rd.get(), keep);
        }
        // A directory fd, not O_PATH: O_PATH fds cannot be used for unlinkat/mkdirat everywhere.
        ANYARCH_TRY(Fd pd, MakeParents(root.get(), dir));
        int p = pd.get();
        if (e.whiteout) {
          ++stats.whiteouts;
          ANYARCH_CHECK(RemoveAt(p, name));
          if (as_upper && ::mknodat(p, name.c_str(), S_IFCHR | 0, ::makedev(0, 0)) != 0)
            return Unexpected(ErrnoError(errno, "writing the whiteout of /" + e.path));
          return Ok();
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
          Fd d(dfd);
          ::fchmod(dfd, e.mode & 07777);
          if (options.keep_ownership && as_root)
            ANYARCH_CHECK(Owned(::fchown(dfd, uid, gid), e, uid, gid));
          ANYARCH_CHECK(ApplyXattrs(dfd, e, stats));
          dir_times.push_back({dir, name, EntryTimes(e)});
          ++stats.dirs;
          return Ok();
        }
        if (exists) ANYARCH_CHECK(RemoveAt(p, name));
        switch (e.type) {
          case EntryType::kFile: {
            int fd = ::openat(p, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                              0600);
            if (fd < 0) return Unexpected(ErrnoError(errno, "creating /" + e.path));
            Fd f(fd);
            ANYARCH_CHECK(WriteContent(fd, e, read, space));
            if (options.keep_ownership && as_root)
              ANYARCH_CHECK(Owned(::fchown(fd, uid, gid), e, uid, gid));
            ::fchmod(fd, e.mode & 07777);
            ANYARCH_CHECK(ApplyXattrs(fd, e, stats));
            ::futimens(fd, EntryTimes(e).data());
            ++stats.files;
            return Ok();
          }
          case EntryType::kSymlink:
            // The target is stored as written; it is only ever resolved inside the rootfs.
            if (::symlinkat(e.link.c_str(), p, name.c_str()) != 0)
              return Unexpected(ErrnoError(errno, "/" + e.path));
            if (options.keep_ownership && as_root)
              ANYARCH_CHECK(
                  Owned(::fchownat(p, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW), e, uid, gid));
            // No xattrs: Linux refuses user.* on symlinks, and capabilities mean nothing there.
            ::utimensat(p, name.c_str(), EntryTimes(e).data(), AT_SYMLINK_NOFOLLOW);
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
              return MakeError(ErrorCode::kInvalid,
                               "hard link /" + e.path + " points at a directory");
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
            ::utimensat(p, name.c_str(), EntryTimes(e).data(), AT_SYMLINK_NOFOLLOW);
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
  if (!digest) return Unexpected(digest.error());
  ApplyDirectoryTimes(root.get(), dir_times);
  stats.diff_id = *digest;
  return stats;
}

}  // namespace anyarch::layer

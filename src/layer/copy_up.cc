#include "layer/copy_up.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/fs.h"
#include "base/in_root.h"
#include "layer/diff.h"

namespace anyarch::layer {

namespace {

// Opens `rel` under `root` without following any symlink or leaving it; -1 when it cannot be.
int OpenStrictly(int root, const std::string& rel, int flags) {
  return Openat2(root, rel.c_str(), static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW),
                 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

bool SameMeta(const struct stat& a, const struct stat& b) {
  return (a.st_mode & S_IFMT) == (b.st_mode & S_IFMT) && a.st_mode == b.st_mode &&
         a.st_uid == b.st_uid && a.st_gid == b.st_gid && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

bool SameBytes(int a, int b) {
  std::vector<char> x(1 << 16), y(1 << 16);
  for (;;) {
    ssize_t n = ::read(a, x.data(), x.size());
    if (n < 0) return false;
    std::size_t got = 0;
    while (got < static_cast<std::size_t>(n)) {
      ssize_t m = ::read(b, y.data() + got, static_cast<std::size_t>(n) - got);
      if (m <= 0) return false;
      got += static_cast<std::size_t>(m);
    }
    if (std::memcmp(x.data(), y.data(), got) != 0) return false;
    if (n == 0) {
      char c;
      return ::read(b, &c, 1) == 0;
    }
  }
}

bool SameXattrs(const std::string& upper_path, const std::string& lower_path) {
  auto a = LayerXattrs(upper_path);
  auto b = LayerXattrs(lower_path);
  return a && b && *a == *b;
}

bool Opaque(const std::string& path) {
  char v[4];
  return ::lgetxattr(path.c_str(), "trusted.overlay.opaque", v, sizeof v) > 0 ||
         ::lgetxattr(path.c_str(), "user.overlay.opaque", v, sizeof v) > 0;
}

class Dropper {
 public:
  Dropper(std::string upper, std::string lower, int lower_fd)
      : upper_(std::move(upper)), lower_(std::move(lower)), lower_fd_(lower_fd) {}

  // Processes directory `rel` ("" for the top); returns whether it is empty afterwards.
  Result<bool> Dir(const std::string& rel) {
    std::string abs = rel.empty() ? upper_ : upper_ + "/" + rel;
    UniqueFd fd(::open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return Unexpected(ErrnoError(errno, abs));
    // Unlinking changes the directory's mtime, which the layer records: it is put back.
    struct stat self {};
    if (::fstat(fd.get(), &self) != 0) return Unexpected(ErrnoError(errno, abs));
    std::vector<std::string> names;
    {
      int dup = ::dup(fd.get());
      DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
      if (!d) return Unexpected(ErrnoError(errno, abs));
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
    }
    std::size_t left = names.size();
    for (const auto& n : names) {
      std::string child = rel.empty() ? n : rel + "/" + n;
      struct stat st {};
      if (::fstatat(fd.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        ANYARCH_TRY(bool empty, Dir(child));
        if (empty && CopiedUpDir(child, st) && ::unlinkat(fd.get(), n.c_str(), AT_REMOVEDIR) == 0) {
          ++report_.dirs_dropped;
          --left;
        }
      } else if (S_ISREG(st.st_mode) && st.st_nlink == 1 && CopiedUpFile(fd.get(), n, child, st)) {
        if (::unlinkat(fd.get(), n.c_str(), 0) == 0) {
          ++report_.files_dropped;
          report_.bytes_dropped += static_cast<std::uint64_t>(st.st_size);
          --left;
        }
      }
    }
    if (left != names.size()) {
      const struct timespec times[2] = {self.st_atim, self.st_mtim};
      if (::futimens(fd.get(), times) != 0) return Unexpected(ErrnoError(errno, abs));
    }
    return left == 0;
  }

  const CopyUpReport& report() const { return report_; }

 private:
  bool CopiedUpFile(int dir, const std::string& name, const std::string& rel,
                    const struct stat& st) {
    UniqueFd low(OpenStrictly(lower_fd_, rel, O_RDONLY));
    struct stat ls {};
    if (low.get() < 0 || ::fstat(low.get(), &ls) != 0) return false;
    if (!S_ISREG(ls.st_mode) || !SameMeta(st, ls) || st.st_size != ls.st_size) return false;
    if (!SameXattrs(upper_ + "/" + rel, lower_ + "/" + rel)) return false;
    UniqueFd up(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    return up.get() >= 0 && SameBytes(up.get(), low.get());
  }

  bool CopiedUpDir(const std::string& rel, const struct stat& st) {
    if (Opaque(upper_ + "/" + rel)) return false;
    UniqueFd low(OpenStrictly(lower_fd_, rel, O_PATH | O_DIRECTORY));
    struct stat ls {};
    if (low.get() < 0 || ::fstat(low.get(), &ls) != 0) return false;
    return S_ISDIR(ls.st_mode) && SameMeta(st, ls) &&
           SameXattrs(upper_ + "/" + rel, lower_ + "/" + rel);
  }

  std::string upper_, lower_;
  int lower_fd_;
  CopyUpReport report_;
};

}  // namespace

Result<CopyUpReport> DropSpuriousCopyUps(const std::string& upper, const std::string& lower_view) {
  UniqueFd lower(::open(lower_view.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (lower.get() < 0) return Unexpected(ErrnoError(errno, lower_view));
  Dropper d(upper, lower_view, lower.get());
  ANYARCH_CHECK(d.Dir("").map([](bool) {}));
  return d.report();
}

}  // namespace anyarch::layer

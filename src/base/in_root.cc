#include "base/in_root.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "base/strings.h"

namespace anyarch {

int Openat2(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve) {
  struct open_how how {};
  how.flags = flags;
  how.resolve = resolve;
  // The race the kernel reports is with other processes' renames and mounts, over in
  // microseconds; a bound keeps a system that never stops mounting from spinning us forever.
  long fd = -1;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) break;
  }
  return static_cast<int>(fd);
}

Result<UniqueFd> OpenInRoot(int root, const std::string& path, int flags) {
  std::string p = path.empty() ? "." : path;
  int fd = Openat2(root, p.c_str(), static_cast<std::uint64_t>(flags | O_CLOEXEC),
                   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) {
    int err = errno;
    if (err == ENOSYS)
      return MakeError(ErrorCode::kUnsupported,
                       "this kernel has no openat2 (Linux 5.6+), which confined paths need");
    return Unexpected(ErrnoError(err, "/" + path));
  }
  return UniqueFd(static_cast<int>(fd));
}

std::string JoinInRoot(const std::string& base, const std::string& rel) {
  std::vector<std::string> parts;
  if (!rel.empty() && rel[0] != '/') {
    for (const auto& p : Split(base, '/')) {
      if (!p.empty() && p != ".") parts.push_back(p);
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

Status MkdirInRoot(int root, const std::string& dir, unsigned mode, long uid, long gid) {
  // Walk component by component holding the directory reached so far, so that depth costs one
  // lookup per component (a path thousands of directories deep is not an attack). A plain
  // directory is entered with openat(O_NOFOLLOW) on one name, which cannot leave the root; each
  // symlink met on the way restarts from the root with the link's target (bounded, as the
  // kernel bounds symlink chains), and ".." is taken lexically on `done`, which holds no links.
  std::string done;
  std::vector<std::string> todo;
  for (const auto& p : Split(dir, '/')) {
    if (!p.empty() && p != ".") todo.push_back(p);
  }
  ANYARCH_TRY(UniqueFd pfd, OpenInRoot(root, "", O_RDONLY | O_DIRECTORY));
  auto enter = [&](const std::string& name) -> Status {
    int fd = ::openat(pfd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Unexpected(ErrnoError(errno, "/" + JoinInRoot(done, name)));
    pfd = UniqueFd(fd);
    done = done.empty() ? name : done + "/" + name;  // one clean component
    return Ok();
  };
  int links = 0;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const std::string name = todo[i];
    if (name == "..") {
      done = JoinInRoot(done, "..");
      ANYARCH_TRY(pfd, OpenInRoot(root, done, O_RDONLY | O_DIRECTORY));
      continue;
    }
    struct stat st {};
    if (::fstatat(pfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return Unexpected(ErrnoError(errno, "/" + JoinInRoot(done, name)));
      if (::mkdirat(pfd.get(), name.c_str(), mode) != 0 && errno != EEXIST)
        return Unexpected(ErrnoError(errno, "creating /" + JoinInRoot(done, name)));
      std::string path = "/" + JoinInRoot(done, name);
      ANYARCH_CHECK(enter(name));
      if (uid >= 0 || gid >= 0) {
        if (::fchown(pfd.get(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0)
          return Unexpected(ErrnoError(errno, "chown " + path));
      }
      ::fchmod(pfd.get(), mode);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      ANYARCH_CHECK(enter(name));
      continue;
    }
    if (!S_ISLNK(st.st_mode))
      return MakeError(ErrorCode::kInvalid,
                       "/" + JoinInRoot(done, name) + " exists and is not a directory");
    if (++links > 40)
      return MakeError(ErrorCode::kInvalid,
                       "too many levels of symbolic links at /" + JoinInRoot(done, name));
    std::string target(4096, '\0');
    ssize_t n = ::readlinkat(pfd.get(), name.c_str(), target.data(), target.size() - 1);
    if (n < 0) return Unexpected(ErrnoError(errno, "/" + JoinInRoot(done, name)));
    target.resize(static_cast<std::size_t>(n));
    // Continue from the link's target: its components replace the link's.
    std::vector<std::string> rest;
    if (!target.empty() && target[0] == '/') {
      done.clear();
      ANYARCH_TRY(pfd, OpenInRoot(root, "", O_RDONLY | O_DIRECTORY));
    }
    for (const auto& p : Split(target, '/')) {
      if (!p.empty() && p != ".") rest.push_back(p);
    }
    rest.insert(rest.end(), todo.begin() + static_cast<long>(i) + 1, todo.end());
    todo = std::move(rest);
    i = static_cast<std::size_t>(-1);
  }
  return Ok();
}

Status RemoveAt(int dirfd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return Unexpected(ErrnoError(errno, name));
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Unexpected(ErrnoError(errno, name));
    UniqueFd d(fd);
    ANYARCH_CHECK(RemoveChildren(d.get()));
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0)
      return Unexpected(ErrnoError(errno, name));
    return Ok();
  }
  if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
    return Unexpected(ErrnoError(errno, name));
  return Ok();
}

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

}  // namespace anyarch

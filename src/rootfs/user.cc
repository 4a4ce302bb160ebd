#include "rootfs/user.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <sstream>
#include <vector>

#include "base/fs.h"
#include "base/in_root.h"
#include "base/strings.h"

namespace anyarch::rootfs {

namespace fs = std::filesystem;

namespace {

using Fd = UniqueFd;

// (uid_t)-1 means "leave unchanged" to setresuid and friends, so it is no id a user can have.
constexpr std::uint64_t kMaxId = 4294967294u;

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<unsigned> ParseId(std::string_view s) {
  if (!AllDigits(s)) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > kMaxId) return std::nullopt;
  return static_cast<unsigned>(v);
}

std::vector<std::vector<std::string>> Lines(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    out.push_back(Split(line, ':'));
  }
  return out;
}

// The image's /etc/passwd or /etc/group; nullopt when the image has none (or it is unreadable:
// a symlink pointing nowhere inside the image, a directory ...), as Docker treats a missing file.
std::optional<std::string> ImageFile(const fs::path& rootfs, const char* path) {
  auto text = ReadFileInRoot(rootfs, path, 4 << 20);
  if (!text) return std::nullopt;
  return *text;
}

Status BadField(const char* file, const std::string& name, const char* field,
                const std::string& value) {
  return MakeError(ErrorCode::kInvalid, std::string("the image's ") + file + " gives \"" +
                                            Printable(name) + "\" an invalid " + field + " \"" +
                                            Printable(value) + "\"");
}

}  // namespace

Result<std::string> ReadFileInRoot(const fs::path& rootfs, const std::string& path,
                                   std::size_t max_size, bool use_openat2) {
  auto parts = Split(path, '/');
  parts.erase(std::remove_if(parts.begin(), parts.end(),
                             [](const std::string& p) { return p.empty() || p == "."; }),
              parts.end());
  if (parts.empty() || std::find(parts.begin(), parts.end(), "..") != parts.end())
    return MakeError(ErrorCode::kInvalid, "bad path \"" + Printable(path) + "\" in the image");
  std::string shown = "/" + Join(parts, "/") + " in the image";
  Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return Unexpected(ErrnoError(errno, rootfs.string()));
  // O_NONBLOCK: a fifo planted at the path must not hang us; only regular files are read.
  const int file_flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  int fd = -1;
  bool done = false;
  if (use_openat2) {
    std::string rel = Join(parts, "/");
    int r = Openat2(root.get(), rel.c_str(), static_cast<std::uint64_t>(file_flags),
                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (r >= 0) {
      fd = r;
      done = true;
    } else if (errno != ENOSYS && errno != EPERM) {
      // EPERM: some seccomp profiles forbid syscalls they do not know; fall back as for ENOSYS.
      return Unexpected(ErrnoError(errno, shown));
    }
  }
  if (!done) {
    // One component at a time, following no symlink at all: safe, if stricter than the kernel.
    int dir = ::dup(root.get());
    if (dir < 0) return Unexpected(ErrnoError(errno, "dup"));
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const bool last = i + 1 == parts.size();
      int next = ::openat(
          dir, parts[i].c_str(),
          last ? file_flags | O_NOFOLLOW : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int err = errno;
      ::close(dir);
      if (next < 0) {
        if (err == ELOOP || (err == ENOTDIR && !last)) {
          return MakeError(ErrorCode::kInvalid,
                           shown + ": symbolic links are not followed on kernels without openat2");
        }
        return Unexpected(ErrnoError(err, shown));
      }
      dir = next;
    }
    fd = dir;
  }
  Fd file(fd);
  struct stat st;
  if (::fstat(file.get(), &st) != 0) return Unexpected(ErrnoError(errno, shown));
  if (!S_ISREG(st.st_mode)) return MakeError(ErrorCode::kInvalid, shown + " is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    return MakeError(ErrorCode::kInvalid,
                     shown + " is larger than " + std::to_string(max_size) + " bytes");
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unexpected(ErrnoError(errno, shown));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_size) {
      return MakeError(ErrorCode::kInvalid,
                       shown + " is larger than " + std::to_string(max_size) + " bytes");
    }
  }
  return out;
}

Result<UserIds> ResolveUser(const fs::path& rootfs, const std::string& spec) {
  // No user is root, looked up as uid 0 (so root's memberships count, as in Docker: busybox's
  // root is also in wheel).
  std::size_t colon = spec.find(':');
  std::string user = spec.empty() ? "0" : spec.substr(0, colon);
  std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  UserIds ids;
  std::string member_name;  // the passwd name, whose memberships become supplementary groups
  auto passwd = ImageFile(rootfs, "etc/passwd");
  if (AllDigits(user)) {
    auto uid = ParseId(user);
    if (!uid) {
      return MakeError(ErrorCode::kInvalid,
                       "user \"" + Printable(user) + "\" is not a valid uid (0 to 4294967294)");
    }
    ids.uid = *uid;
    ids.gid = 0;  // Docker's default when the image has no entry for the uid
    if (passwd) {
      for (const auto& f : Lines(*passwd)) {
        if (f.size() < 4 || ParseId(f[2]) != uid) continue;
        auto gid = ParseId(f[3]);
        if (!gid) return Unexpected(BadField("/etc/passwd", f[0], "gid", f[3]).error());
        ids.gid = *gid;
        member_name = f[0];
        break;
      }
    }
  } else {
    if (user.empty()) return MakeError(ErrorCode::kInvalid, "--user \"" + spec + "\" has no user");
    bool found = false;
    if (passwd) {
      for (const auto& f : Lines(*passwd)) {
        if (f.empty() || f[0] != user) continue;
        if (f.size() < 4) {
          return MakeError(
              ErrorCode::kInvalid,
              "the image's /etc/passwd has a malformed line for \"" + Printable(user) + "\"");
        }
        auto uid = ParseId(f[2]);
        if (!uid) return Unexpected(BadField("/etc/passwd", user, "uid", f[2]).error());
        auto gid = ParseId(f[3]);
        if (!gid) return Unexpected(BadField("/etc/passwd", user, "gid", f[3]).error());
        ids.uid = *uid;
        ids.gid = *gid;
        member_name = user;
        found = true;
        break;
      }
    }
    if (!found) {
      return MakeError(ErrorCode::kNotFound,
                       "user \"" + Printable(user) + "\" is not in the image's /etc/passwd");
    }
  }
  if (colon != std::string::npos) {
    if (AllDigits(group)) {
      auto gid = ParseId(group);
      if (!gid) {
        return MakeError(ErrorCode::kInvalid,
                         "group \"" + Printable(group) + "\" is not a valid gid (0 to 4294967294)");
      }
      ids.gid = *gid;
    } else {
      if (group.empty())
        return MakeError(ErrorCode::kInvalid, "--user \"" + spec + "\" has an empty group");
      bool found = false;
      if (auto text = ImageFile(rootfs, "etc/group")) {
        for (const auto& f : Lines(*text)) {
          if (f.empty() || f[0] != group) continue;
          if (f.size() < 3) {
            return MakeError(
                ErrorCode::kInvalid,
                "the image's /etc/group has a malformed line for \"" + Printable(group) + "\"");
          }
          auto gid = ParseId(f[2]);
          if (!gid) return Unexpected(BadField("/etc/group", group, "gid", f[2]).error());
          ids.gid = *gid;
          found = true;
          break;
        }
      }
      if (!found) {
        return MakeError(ErrorCode::kNotFound,
                         "group \"" + Printable(group) + "\" is not in the image's /etc/group");
      }
    }
  }
  ids.groups.push_back(ids.gid);
  if (colon == std::string::npos && !member_name.empty()) {
    if (auto text = ImageFile(rootfs, "etc/group")) {
      for (const auto& f : Lines(*text)) {
        if (f.size() < 4) continue;
        auto members = Split(f[3], ',');
        if (std::find(members.begin(), members.end(), member_name) == members.end()) continue;
        auto gid = ParseId(f[2]);
        if (!gid) return Unexpected(BadField("/etc/group", f[0], "gid", f[2]).error());
        if (std::find(ids.groups.begin(), ids.groups.end(), *gid) == ids.groups.end())
          ids.groups.push_back(*gid);
      }
    }
  }
  return ids;
}

}  // namespace anyarch::rootfs

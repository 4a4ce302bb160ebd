#include "build/source_tree.h"

#include <ctime>

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "base/in_root.h"
#include "base/strings.h"

namespace anyarch::build {

namespace {

bool HasWildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

Result<std::vector<std::string>> ListDir(int dirfd) {
  int dup = ::dup(dirfd);
  if (dup < 0) return Unexpected(ErrnoError(errno, "dup"));
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return Unexpected(ErrnoError(errno, "reading a directory"));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Join2(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "/" + b;
}

void HashHeader(Sha256& h, const char* type, const struct stat& st) {
  std::string head = std::string(type) + " " + std::to_string(st.st_mode & 07777) + " " +
                     std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + " " +
                     std::to_string(S_ISREG(st.st_mode) ? st.st_size : 0) + "\n";
  h.Update(head);
}

}  // namespace

bool MatchPattern(const std::string& pattern, const std::string& name) {
  // fnmatch with FNM_PATHNAME is Go's filepath.Match for the patterns Dockerfiles use.
  return ::fnmatch(pattern.c_str(), name.c_str(), FNM_PATHNAME) == 0;
}

Result<SourceTree> SourceTree::Open(const std::string& root, std::string description,
                                    const dockerfile::IgnoreMatcher* ignore) {
  int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrnoError(errno, description + " (" + root + ")"));
  SourceTree t;
  t.fd_ = UniqueFd(fd);
  t.root_ = root;
  t.description_ = std::move(description);
  t.ignore_ = ignore;
  return t;
}

bool SourceTree::Excluded(const std::string& rel) const {
  return ignore_ && !rel.empty() && ignore_->Excluded(rel);
}

bool SourceTree::HasExceptions() const {
  if (!ignore_) return false;
  return std::any_of(ignore_->patterns().begin(), ignore_->patterns().end(),
                     [](const auto& p) { return p.exception; });
}

Result<std::vector<std::string>> SourceTree::Match(const std::string& source) const {
  std::string clean = dockerfile::CleanPath(source);
  if (clean == ".") clean.clear();
  auto not_found = [&](const std::string& why) {
    return MakeError(ErrorCode::kNotFound,
                     "\"" + source + "\" not found in " + description_ + (why.empty() ? "" : why));
  };
  if (!HasWildcard(clean)) {
    if (Excluded(clean))
      return not_found(": it is excluded by " + (ignore_->source().empty()
                                                     ? std::string(".dockerignore")
                                                     : ignore_->source()));
    auto fd = OpenInRoot(fd_.get(), clean, O_PATH);
    if (!fd) {
      if (fd.error().code() == ErrorCode::kNotFound) return not_found("");
      return Unexpected(fd.error());
    }
    return std::vector<std::string>{clean};
  }
  std::vector<std::string> current = {""};
  for (const auto& part : Split(clean, '/')) {
    std::vector<std::string> next;
    for (const auto& dir : current) {
      if (!HasWildcard(part)) {
        std::string p = Join2(dir, part);
        if (OpenInRoot(fd_.get(), p, O_PATH)) next.push_back(p);
        continue;
      }
      auto dfd = OpenInRoot(fd_.get(), dir, O_RDONLY | O_DIRECTORY);
      if (!dfd) continue;
      ANYARCH_TRY(auto names, ListDir(dfd->get()));
      for (const auto& n : names) {
        if (MatchPattern(part, n)) next.push_back(Join2(dir, n));
      }
    }
    current = std::move(next);
  }
  std::vector<std::string> out;
  for (auto& p : current) {
    if (!Excluded(p)) out.push_back(std::move(p));
  }
  if (out.empty()) return not_found(" (no file matches the pattern)");
  std::sort(out.begin(), out.end());
  return out;
}

Result<Digest> SourceTree::Hash(const std::string& rel,
                                const std::function<bool(const std::string&)>& excluded) const {
  // The named path is resolved (links followed inside the tree), as COPY does; below it,
  // nothing is followed.
  ANYARCH_TRY(UniqueFd top, OpenInRoot(fd_.get(), rel, O_PATH));
  std::function<Result<Digest>(int, const std::string&, const std::string&, bool)> walk =
      [&](int dirfd, const std::string& name, const std::string& path,
          bool is_top) -> Result<Digest> {
    struct stat st {};
    int rc =
        is_top ? ::fstat(dirfd, &st) : ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return Unexpected(ErrnoError(errno, description_ + ": /" + path));
    Sha256 h;
    if (S_ISDIR(st.st_mode)) {
      HashHeader(h, "dir", st);
      UniqueFd d(
          is_top ? ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                 : ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (d.get() < 0) return Unexpected(ErrnoError(errno, description_ + ": /" + path));
      ANYARCH_TRY(auto names, ListDir(d.get()));
      for (const auto& n : names) {
        std::string child = Join2(path, n);
        if (Excluded(child) && !HasExceptions()) continue;
        if (excluded && excluded(child)) continue;
        ANYARCH_TRY(Digest c, walk(d.get(), n, child, false));
        h.Update(n + " " + c.ToString() + "\n");
      }
    } else if (S_ISLNK(st.st_mode)) {
      HashHeader(h, "link", st);
      std::string target(4096, '\0');
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
      if (n < 0) return Unexpected(ErrnoError(errno, description_ + ": /" + path));
      h.Update(target.data(), static_cast<std::size_t>(n));
    } else if (S_ISREG(st.st_mode)) {
      if (Excluded(path)) return Sha256Of("excluded");
      if (stat_cache_) {
        if (auto known = stat_cache_->Find(st)) return *known;
      }
      const std::int64_t read_at = static_cast<std::int64_t>(::time(nullptr));
      HashHeader(h, "file", st);
      UniqueFd f(is_top ? ::openat(dirfd, ".", O_RDONLY | O_CLOEXEC)
                        : ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (is_top) {
        // An O_PATH fd of a regular file cannot be read: reopen it through /proc.
        f = UniqueFd(
            ::open(("/proc/self/fd/" + std::to_string(dirfd)).c_str(), O_RDONLY | O_CLOEXEC));
      }
      if (f.get() < 0) return Unexpected(ErrnoError(errno, description_ + ": /" + path));
      char buf[65536];  // on the stack: once per hashed file
      for (;;) {
        ssize_t n = ::read(f.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Unexpected(ErrnoError(errno, description_ + ": /" + path));
        if (n == 0) break;
        h.Update(buf, static_cast<std::size_t>(n));
      }
      Digest d = h.Finish();
      if (stat_cache_) stat_cache_->Remember(st, d, read_at);
      return d;
    } else {
      HashHeader(h, "special", st);
      h.Update(std::to_string(st.st_rdev));
    }
    return h.Finish();
  };
  return walk(top.get(), "", rel, true);
}

}  // namespace anyarch::build

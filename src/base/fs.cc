#include "base/fs.h"

#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <vector>

namespace anyarch {

namespace fs = std::filesystem;

Error ErrnoError(int err, std::string what) {
  ErrorCode code = ErrorCode::kIo;
  if (err == ENOENT) code = ErrorCode::kNotFound;
  if (err == EACCES || err == EPERM) code = ErrorCode::kDenied;
  return Error(code, std::move(what) + ": " + std::strerror(err));
}

Result<std::string> ReadFile(const fs::path& path, std::size_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrnoError(errno, path.string()));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Unexpected(ErrnoError(err, path.string()));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size) {
      ::close(fd);
      return MakeError(ErrorCode::kInvalid, path.string() + ": larger than the limit of " +
                                                std::to_string(max_size) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Status MakePrivateDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorCode::kIo, dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0)
    return Unexpected(ErrnoError(errno, "chmod " + dir.string()));
  return Ok();
}

Status SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrnoError(errno, dir.string()));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some filesystems (tmpfs on old kernels) refuse fsync on directories; that is not data loss.
  if (rc != 0 && err != EINVAL && err != EROFS) return Unexpected(ErrnoError(err, dir.string()));
  return Ok();
}

AtomicFile::~AtomicFile() { Abort(); }

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : fd_(other.fd_),
      target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      written_(other.written_) {
  other.fd_ = -1;
  other.temp_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Abort();
    fd_ = other.fd_;
    target_ = std::move(other.target_);
    temp_ = std::move(other.temp_);
    written_ = other.written_;
    other.fd_ = -1;
    other.temp_.clear();
  }
  return *this;
}

Result<AtomicFile> AtomicFile::Create(const fs::path& target, unsigned mode) {
  std::error_code ec;
  fs::path dir = target.parent_path();
  if (!dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) return MakeError(ErrorCode::kIo, dir.string() + ": " + ec.message());
  }
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrnoError(errno, "creating a temporary file in " + dir.string()));
  ::fchmod(fd, mode);
  AtomicFile f;
  f.fd_ = fd;
  f.target_ = target;
  f.temp_ = fs::path(buf.data());
  return f;
}

Status AtomicFile::Write(const void* data, std::size_t size) {
  if (fd_ < 0) return MakeError(ErrorCode::kInternal, "write to a closed AtomicFile");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unexpected(ErrnoError(errno, temp_.string()));
    }
    p += n;
    size -= static_cast<std::size_t>(n);
    written_ += static_cast<std::uint64_t>(n);
  }
  return Ok();
}

Status AtomicFile::Commit() {
  if (fd_ < 0) return MakeError(ErrorCode::kInternal, "commit of a closed AtomicFile");
  if (::fsync(fd_) != 0) return Unexpected(ErrnoError(errno, temp_.string()));
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_.c_str());
    temp_.clear();
    return Unexpected(ErrnoError(err, "renaming into " + target_.string()));
  }
  temp_.clear();
  return SyncDirectory(target_.parent_path());
}

void AtomicFile::Abort() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
}

Status WriteFileAtomic(const fs::path& path, std::string_view data, unsigned mode) {
  ANYARCH_TRY(AtomicFile f, AtomicFile::Create(path, mode));
  ANYARCH_CHECK(f.Write(data));
  return f.Commit();
}

Result<TempDir> TempDir::Create(std::string_view prefix, const fs::path& parent) {
  fs::path base = parent;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = (t && *t) ? fs::path(t) : fs::path("/tmp");
  }
  std::string tmpl = (base / (std::string(prefix) + ".XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return Unexpected(ErrnoError(errno, "creating a temporary directory in " + base.string()));
  }
  TempDir d;
  d.path_ = fs::path(buf.data());
  return d;
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

fs::path TempDir::Release() {
  fs::path p = std::move(path_);
  path_.clear();
  return p;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Status UniqueFd::Close(const std::string& what) {
  int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) return Unexpected(ErrnoError(errno, what));
  return Ok();
}

Status CopyFdData(int from, int to, const std::string& what) {
  char buf[65536];  // on the stack: called once per copied file
  for (;;) {
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return MakeError(ErrorCode::kIo, what + ": read: " + std::strerror(errno));
    if (n == 0) return Ok();
    std::size_t off = 0;
    while (off < static_cast<std::size_t>(n)) {
      ssize_t w = ::write(to, buf + off, static_cast<std::size_t>(n) - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return MakeError(ErrorCode::kIo, what + ": write: " + std::strerror(errno));
      off += static_cast<std::size_t>(w);
    }
  }
}

Status CopyFileToFd(const std::filesystem::path& file, int to) {
  UniqueFd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return MakeError(ErrorCode::kIo, file.string() + ": " + std::strerror(errno));
  return CopyFdData(in.get(), to, file.string());
}

Status CopyFdToFile(int from, const std::filesystem::path& file) {
  UniqueFd out(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return MakeError(ErrorCode::kIo, file.string() + ": " + std::strerror(errno));
  ANYARCH_CHECK(CopyFdData(from, out.get(), file.string()));
  return out.Close(file.string());
}

}  // namespace anyarch

namespace anyarch {

TreeUsage DirectoryUsage(const std::filesystem::path& dir) {
  TreeUsage u;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator
           it(dir, std::filesystem::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    u.newest_mtime = std::max<std::int64_t>(u.newest_mtime, st.st_mtim.tv_sec);
    if (S_ISREG(st.st_mode) && seen.insert({st.st_dev, st.st_ino}).second)
      u.bytes += static_cast<std::uint64_t>(st.st_size);
  }
  return u;
}

}  // namespace anyarch

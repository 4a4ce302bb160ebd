#include "base/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"

namespace anyarch {

Result<std::size_t> StringReader::Read(void* buf, std::size_t size) {
  std::size_t n = std::min(size, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Result<std::unique_ptr<FileReader>> FileReader::Open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrnoError(errno, path.string()));
  return std::unique_ptr<FileReader>(new FileReader(fd, path));
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> FileReader::Read(void* buf, std::size_t size) {
  for (;;) {
    ssize_t n = ::read(fd_, buf, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return Unexpected(ErrnoError(errno, path_.string()));
  }
}

VerifyingReader::VerifyingReader(std::unique_ptr<Reader> inner, Digest expected,
                                 std::int64_t expected_size, std::string what)
    : inner_(std::move(inner)),
      expected_(std::move(expected)),
      expected_size_(expected_size),
      what_(std::move(what)) {}

Result<std::size_t> VerifyingReader::Read(void* buf, std::size_t size) {
  if (error_) return Unexpected(*error_);
  if (finished_) return std::size_t{0};
  auto fail = [&](ErrorCode code, std::string message) -> Result<std::size_t> {
    error_ = Error(code, std::move(message));
    return Unexpected(*error_);
  };
  ANYARCH_TRY(std::size_t n, inner_->Read(buf, size));
  if (n > 0) {
    hash_.Update(buf, n);
    count_ += n;
    if (expected_size_ >= 0 && count_ > static_cast<std::uint64_t>(expected_size_)) {
      return fail(ErrorCode::kDigestMismatch,
                  what_ + ": more than the expected " + std::to_string(expected_size_) + " bytes");
    }
    return n;
  }
  finished_ = true;
  if (expected_size_ >= 0 && count_ != static_cast<std::uint64_t>(expected_size_)) {
    return fail(ErrorCode::kDigestMismatch, what_ + ": got " + std::to_string(count_) +
                                                " bytes, expected " +
                                                std::to_string(expected_size_));
  }
  if (expected_.algorithm() != "sha256") {
    return fail(ErrorCode::kUnsupported,
                what_ + ": cannot verify digest algorithm " + expected_.algorithm());
  }
  Digest got = hash_.Finish();
  if (got != expected_) {
    return fail(ErrorCode::kDigestMismatch, what_ + ": content has digest " + got.ToString() +
                                                ", expected " + expected_.ToString());
  }
  return std::size_t{0};
}

Result<std::string> ReadAll(Reader& reader, std::size_t max_size) {
  std::string out;
  char buf[65536];
  for (;;) {
    ANYARCH_TRY(std::size_t n, reader.Read(buf, sizeof buf));
    if (n == 0) return out;
    if (out.size() + n > max_size) {
      return MakeError(ErrorCode::kInvalid,
                       "content exceeds the limit of " + std::to_string(max_size) + " bytes");
    }
    out.append(buf, n);
  }
}

Status Drain(Reader& reader) {
  char buf[65536];
  for (;;) {
    ANYARCH_TRY(std::size_t n, reader.Read(buf, sizeof buf));
    if (n == 0) return Ok();
  }
}

}  // namespace anyarch

// Streaming readers. Every blob that crosses a transport is read through a VerifyingReader,
// which counts bytes and hashes them, and fails with kDigestMismatch at the end (or as soon as
// more bytes than declared arrive) when they do not match the descriptor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/digest.h"
#include "base/error.h"

namespace anyarch {

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to `size` bytes; returns 0 only at the end of the stream.
  virtual Result<std::size_t> Read(void* buf, std::size_t size) = 0;
};

// Reads from an in-memory string (owned).
class StringReader final : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  Result<std::size_t> Read(void* buf, std::size_t size) override;

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

// Reads a file. Open() gives kNotFound/kIo with the path.
class FileReader final : public Reader {
 public:
  static Result<std::unique_ptr<FileReader>> Open(const std::filesystem::path& path);
  ~FileReader() override;
  Result<std::size_t> Read(void* buf, std::size_t size) override;

 private:
  FileReader(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::filesystem::path path_;
};

// Wraps a reader and checks what comes out against an expected size and digest. A size of -1
// means unknown (only the digest is checked). `what` names the blob in errors. A mismatch is
// kDigestMismatch, returned as soon as more bytes than expected arrive or at the end, and again
// by every later Read: a caller that reads past an error (a decoder's look-ahead) cannot turn it
// into a clean end of stream.
class VerifyingReader final : public Reader {
 public:
  VerifyingReader(std::unique_ptr<Reader> inner, Digest expected, std::int64_t expected_size,
                  std::string what);
  Result<std::size_t> Read(void* buf, std::size_t size) override;
  std::uint64_t bytes_read() const { return count_; }

 private:
  std::unique_ptr<Reader> inner_;
  Digest expected_;
  std::int64_t expected_size_;
  std::string what_;
  Sha256 hash_;
  std::uint64_t count_ = 0;
  bool finished_ = false;
  std::optional<Error> error_;
};

// Passes a stream through unchanged, hashing it (sha256 of every byte read).
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

// Reads a whole stream into memory, refusing more than max_size bytes (kInvalid).
Result<std::string> ReadAll(Reader& reader, std::size_t max_size = static_cast<std::size_t>(-1));

// Reads a stream to its end and drops the bytes: a VerifyingReader underneath then checks the
// whole blob. Errors of `reader` come back as they are.
Status Drain(Reader& reader);

}  // namespace anyarch

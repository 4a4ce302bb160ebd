// Content digests ("sha256:<64 hex>") and streaming SHA-256 through OpenSSL's EVP interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace anyarch {

class Digest {
 public:
  Digest() = default;

  // Parses "algorithm:hex". Only sha256 (64 lowercase hex) and sha512 (128) are accepted; any
  // other form is kInvalid with a message that names the bad part.
  static Result<Digest> Parse(std::string_view text);
  // Builds a sha256 digest from 64 lowercase hex characters; kInvalid otherwise.
  static Result<Digest> FromSha256Hex(std::string_view hex);

  const std::string& algorithm() const { return algorithm_; }
  const std::string& hex() const { return hex_; }
  bool empty() const { return hex_.empty(); }
  std::string ToString() const { return empty() ? std::string() : algorithm_ + ":" + hex_; }
  // "sha256:0123456789ab" : the first 12 hex characters, for human output.
  std::string Short() const { return hex_.substr(0, 12); }

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  Digest(std::string algorithm, std::string hex)
      : algorithm_(std::move(algorithm)), hex_(std::move(hex)) {}
  std::string algorithm_;
  std::string hex_;
};

// Incremental SHA-256. Not copyable; Finish() may be called once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, std::size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Digest Sha256Of(std::string_view data);
// Digest of a file's bytes; kIo/kNotFound if it cannot be read.
Result<Digest> Sha256OfFile(const std::filesystem::path& path);

}  // namespace anyarch

template <>
struct std::hash<anyarch::Digest> {
  std::size_t operator()(const anyarch::Digest& d) const noexcept {
    return std::hash<std::string>()(d.hex());
  }
};

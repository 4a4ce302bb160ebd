#include "base/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace anyarch {
namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return MakeError(ErrorCode::kInvalid, "digest \"" + std::string(text) +
                                              "\" has no algorithm prefix (expected sha256:<hex>)");
  }
  std::string_view alg = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  std::size_t want = 0;
  if (alg == "sha256") {
    want = 64;
  } else if (alg == "sha512") {
    want = 128;
  } else {
    return MakeError(ErrorCode::kInvalid, "digest \"" + std::string(text) +
                                              "\" uses unsupported algorithm \"" +
                                              std::string(alg) + "\"");
  }
  if (hex.size() != want || !IsLowerHex(hex)) {
    return MakeError(ErrorCode::kInvalid, "digest \"" + std::string(text) + "\" must have " +
                                              std::to_string(want) + " lowercase hex characters");
  }
  return Digest(std::string(alg), std::string(hex));
}

Result<Digest> Digest::FromSha256Hex(std::string_view hex) {
  return Parse("sha256:" + std::string(hex));
}

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_->md); }

void Sha256::Update(const void* data, std::size_t size) {
  if (size > 0) EVP_DigestUpdate(ctx_->md, data, size);
}

Digest Sha256::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 0xf]);
  }
  return *Digest::FromSha256Hex(hex);
}

Digest Sha256Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

Result<Digest> Sha256OfFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return MakeError(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                     path.string() + ": " + std::strerror(err));
  }
  Sha256 h;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return MakeError(ErrorCode::kIo, path.string() + ": " + std::strerror(err));
    }
    if (n == 0) break;
    h.Update(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return h.Finish();
}

}  // namespace anyarch

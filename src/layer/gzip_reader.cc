#include "layer/gzip_reader.h"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

namespace anyarch::layer {

bool IsGzipMagic(const std::string& head) {
  return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
         static_cast<unsigned char>(head[1]) == 0x8b;
}

namespace {

std::string InflateError(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "an invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "an invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "a back reference before the start of the data";
    case ISAL_INVALID_WRAPPER:
      return "an invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "a compression method that is not deflate";
    case ISAL_INCORRECT_CHECKSUM:
      return "a CRC-32 that does not match the data";
    default:
      return "igzip error " + std::to_string(rc);
  }
}

class GzipReader final : public Reader {
 public:
  GzipReader(Reader& in, std::string head)
      : in_(in), buf_(kBuffer), state_(std::make_unique<inflate_state>()) {
    std::memcpy(buf_.data(), head.data(), std::min(head.size(), buf_.size()));
    StartMember();
    state_->next_in = buf_.data();
    state_->avail_in = static_cast<std::uint32_t>(head.size());
  }

  Result<std::size_t> Read(void* out, std::size_t size) override {
    if (failed_) return Unexpected(*failed_);
    if (done_ || size == 0) return std::size_t{0};
    size = std::min<std::size_t>(size, 1u << 30);
    for (;;) {
      if (member_start_) {
        // igzip 2.30 checks an FHCRC header checksum wrongly when the header reaches it in
        // pieces (the unit test shows it), so a member starts with as much input as the buffer
        // holds: only a header over 256 KiB (FEXTRA and names that long) could still be split.
        while (!eof_ && state_->avail_in < buf_.size()) ANYARCH_CHECK(Refill());
        member_start_ = false;
      }
      if (state_->block_state == ISAL_BLOCK_FINISH) {
        // A member ended: another may follow, or whatever else is left of the blob.
        if (state_->avail_in < 2 && !eof_) {
          ANYARCH_CHECK(Refill());
          continue;
        }
        std::string next(reinterpret_cast<const char*>(state_->next_in),
                         std::min<std::uint32_t>(state_->avail_in, 2));
        if (!IsGzipMagic(next)) {
          done_ = true;
          ANYARCH_CHECK(Drain(in_));
          return std::size_t{0};
        }
        std::uint8_t* next_in = state_->next_in;
        std::uint32_t avail_in = state_->avail_in;
        StartMember();
        state_->next_in = next_in;
        state_->avail_in = avail_in;
        continue;
      }
      if (state_->avail_in == 0 && !eof_) ANYARCH_CHECK(Refill());
      const std::uint32_t in_before = state_->avail_in;
      state_->next_out = static_cast<std::uint8_t*>(out);
      state_->avail_out = static_cast<std::uint32_t>(size);
      int rc = isal_inflate(state_.get());
      if (rc != ISAL_DECOMP_OK)
        return Unexpected(Fail("decompressing the layer: " + InflateError(rc)));
      std::size_t produced = size - state_->avail_out;
      if (produced > 0) return produced;
      if (state_->block_state == ISAL_BLOCK_FINISH) continue;
      if (state_->avail_in == 0 && eof_)
        return Unexpected(
            Fail("decompressing the layer: the gzip stream ends in the middle of a member"));
      if (state_->avail_in == in_before && in_before > 0)
        return Unexpected(Fail("decompressing the layer: the gzip stream makes no progress"));
    }
  }

 private:
  static constexpr std::size_t kBuffer = 256 * 1024;

  void StartMember() {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;  // parse the header, check the trailer's CRC-32
    member_start_ = true;
  }

  // Moves what is left of the input to the front of the buffer and reads more behind it.
  Status Refill() {
    std::size_t left = state_->avail_in;
    if (left > 0 && state_->next_in != buf_.data())
      std::memmove(buf_.data(), state_->next_in, left);
    ANYARCH_TRY(std::size_t n, in_.Read(buf_.data() + left, buf_.size() - left));
    if (n == 0) eof_ = true;
    state_->next_in = buf_.data();
    state_->avail_in = static_cast<std::uint32_t>(left + n);
    return Ok();
  }

  // Every later Read fails the same way.
  Error Fail(const std::string& what) {
    auto drained = Drain(in_);
    failed_ = drained ? Error(ErrorCode::kInvalid, what) : drained.error();
    return *failed_;
  }

  Reader& in_;
  std::vector<std::uint8_t> buf_;
  std::unique_ptr<inflate_state> state_;
  bool eof_ = false;
  bool done_ = false;
  bool member_start_ = true;
  std::optional<Error> failed_;
};

}  // namespace

std::unique_ptr<Reader> NewGzipReader(Reader& in, std::string head) {
  return std::make_unique<GzipReader>(in, std::move(head));
}

}  // namespace anyarch::layer

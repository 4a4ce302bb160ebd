#include "base/progress_reader.h"

namespace anyarch {

namespace {
constexpr std::uint64_t kProgressStep = 1 << 20;
}  // namespace

Result<std::size_t> ProgressReader::Read(void* buf, std::size_t n) {
  ANYARCH_TRY(std::size_t got, inner_.Read(buf, n));
  done_ += got;
  if (done_ - reported_ >= kProgressStep || (got == 0 && done_ != reported_)) {
    reported_ = done_;
    rep_.Progress({.id = id_, .action = action_, .current = done_, .total = total_});
  }
  return got;
}

}  // namespace anyarch

// A Reader that reports the bytes passing through it as progress events, so a display can draw
// a bar per blob: an event every MiB and one at the end of the stream, never a `done` one (the
// caller sends that once the blob is really finished, verified and stored).
#pragma once

#include <cstdint>
#include <string>

#include "base/io.h"
#include "base/reporter.h"

namespace anyarch {

class ProgressReader final : public Reader {
 public:
  // `inner` and `rep` must outlive the reader. Events carry `id`, `action` and `total`.
  ProgressReader(Reader& inner, Reporter& rep, std::string id, std::string action,
                 std::uint64_t total)
      : inner_(inner), rep_(rep), id_(std::move(id)), action_(std::move(action)), total_(total) {}
  Result<std::size_t> Read(void* buf, std::size_t n) override;

 private:
  Reader& inner_;
  Reporter& rep_;
  std::string id_, action_;
  std::uint64_t total_;
  std::uint64_t done_ = 0, reported_ = 0;
};

}  // namespace anyarch

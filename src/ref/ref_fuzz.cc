// libFuzzer target: reference parsing must never crash, and what it accepts must round-trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ref/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto r = anyarch::ref::Parse(input);
  if (r) {
    auto again = anyarch::ref::Parse(r->ToString());
    if (!again || !(*again == *r)) std::abort();
  }
  return 0;
}

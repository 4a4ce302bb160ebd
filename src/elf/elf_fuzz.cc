// libFuzzer target: the ELF reader reads untrusted files from images; no input may crash it,
// hang it or make it read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "elf/elf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)anyarch::elf::InspectBuffer(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

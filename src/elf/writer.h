// Writing ELF integer fields: for code that builds small ELF images (binfmt probes, tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace anyarch::elf {

// Stores `value` as a `width`-byte integer at `offset` in the given byte order, growing `bytes`
// as needed.
inline void PutInt(std::string& bytes, std::size_t offset, std::uint64_t value, int width,
                   bool little_endian) {
  if (bytes.size() < offset + static_cast<std::size_t>(width))
    bytes.resize(offset + static_cast<std::size_t>(width));
  for (int i = 0; i < width; ++i) {
    int shift = 8 * (little_endian ? i : width - 1 - i);
    bytes[offset + static_cast<std::size_t>(i)] = static_cast<char>((value >> shift) & 0xff);
  }
}

}  // namespace anyarch::elf

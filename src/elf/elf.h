// ELF files to OCI platforms. Reads the identification bytes, the header, the program headers
// (PT_INTERP, PT_DYNAMIC) and, for 32-bit ARM, the .ARM.attributes section, following the
// System V gABI, the ARM ELF ABI (ARM IHI 0044) and its build attributes (ARM IHI 0045), and the
// MIPS and RISC-V psABI e_flags.
//
// Traps handled: every offset and size comes from an untrusted file (images are untrusted), so
// every read is bounds-checked and a truncated or malformed file gives an error, never a crash;
// armhf and armel share EM_ARM and are told apart by Tag_CPU_arch (v7 vs v5), with the float ABI
// flag as a fallback; ppc64 and s390 depend on class and byte order; static-pie binaries have a
// PT_DYNAMIC but no interpreter and count as static.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "platform/platform.h"

namespace anyarch::elf {

// Random access to a file's bytes: reads up to `size` bytes at `offset` into `buf`; returns how
// many were read (short at the end of the data).
using ReadAt =
    std::function<Result<std::size_t>(std::uint64_t offset, void* buf, std::size_t size)>;

struct ElfInfo {
  int elf_class = 0;  // 32 or 64
  bool little_endian = true;
  std::uint16_t type = 0;  // ET_EXEC = 2, ET_DYN = 3, ...
  std::uint16_t machine = 0;
  std::uint32_t flags = 0;
  std::uint8_t osabi = 0;
  bool is_static = true;            // no PT_INTERP
  bool has_dynamic = false;         // PT_DYNAMIC present (static-pie and shared libraries have one)
  std::string interpreter;          // PT_INTERP, e.g. /lib/ld-linux-aarch64.so.1
  std::optional<int> arm_cpu_arch;  // Tag_CPU_arch
  bool arm_hard_float = false;      // EF_ARM_ABI_FLOAT_HARD
  int arm_eabi = 0;                 // EABI version from e_flags
  bool variant_guessed = false;     // ARM variant from the float ABI, no attributes found
  std::string abi;                  // "lp64d", "n64", "o32", "eabi5 hard-float" ...
  platform::Platform platform;      // linux/<arch>[/variant]; os is linux for every ELF
  std::string machine_name;         // "AArch64", "ARM", "x86-64", ...
};

// True when the bytes start with the ELF magic.
bool IsElf(std::string_view prefix);

// Inspects an ELF file through `read`. `size` is the file size. kInvalid for a malformed or
// truncated file (the message says which part), kUnsupported for an e_machine with no OCI
// architecture (the message names the machine).
Result<ElfInfo> Inspect(const ReadAt& read, std::uint64_t size);
// The same over bytes held in memory (a whole file, or a prefix: parts past it are "missing").
Result<ElfInfo> InspectBuffer(std::string_view data);
// The same for a file on disk.
Result<ElfInfo> InspectFile(const std::filesystem::path& path);

// The name of an e_machine value ("AArch64"), or "machine <n>".
std::string MachineName(std::uint16_t machine);

}  // namespace anyarch::elf

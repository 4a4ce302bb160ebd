// What anyarch knows about each architecture it can emulate: the qemu CPU name, the OCI
// platforms it runs, the binfmt_misc magic and mask (QEMU's scripts/qemu-binfmt-conf.sh table:
// e_ident, e_type and e_machine, with EI_OSABI masked out and e_type's low bit masked so both
// ET_EXEC and ET_DYN (PIE) match), and the probe program used by `anyarch binfmt test`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace anyarch::emulation {

struct ArchSpec {
  std::string_view cpu;                   // qemu's name: "aarch64", "arm", "i386", ...
  std::string_view platform;              // the OCI platform this entry serves best: "linux/arm64"
  std::vector<std::string_view> aliases;  // names users type: "arm64", "armhf", "386" ...
  std::string magic;                      // raw bytes
  std::string mask;                       // raw bytes, same length
  std::string_view family;  // host families that run it natively ("x86" for x86_64 and i386)
  // Probe: machine code (see src/emulation/probes/<cpu>.S) and its ELF header fields.
  std::string probe_code;
  int elf_class = 64;
  bool little_endian = true;
  std::uint16_t machine = 0;
  std::uint32_t flags = 0;
  std::string_view probe_output;  // what the probe prints
};

// Every architecture, in a stable order.
const std::vector<ArchSpec>& Arches();

// Finds an architecture by qemu name, alias or platform ("aarch64", "arm64", "linux/arm64",
// "arm/v7", "armhf", "386", "i386", "ppc64el" ...). nullptr when unknown.
const ArchSpec* FindArch(std::string_view name);

// The family of this machine ("x86", "arm", ...): architectures of the same family run natively
// and are never registered.
std::string_view HostFamily();

}  // namespace anyarch::emulation

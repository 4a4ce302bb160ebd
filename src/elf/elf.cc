#include "elf/elf.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/fs.h"

namespace anyarch::elf {
namespace {

constexpr std::uint16_t kEmSparc = 2, kEm386 = 3, kEmMips = 8, kEmPpc = 20, kEmPpc64 = 21,
                        kEmS390 = 22, kEmArm = 40, kEmSparcV9 = 43, kEmX8664 = 62, kEmAarch64 = 183,
                        kEmRiscv = 243, kEmLoongarch = 258;
constexpr std::uint32_t kPtDynamic = 2, kPtInterp = 3;
constexpr std::uint32_t kEfArmAbiFloatHard = 0x400, kEfArmAbiFloatSoft = 0x200;
constexpr std::uint64_t kMaxHeaders = 4096;        // program/section headers we are willing to read
constexpr std::uint64_t kMaxAttributes = 1 << 16;  // size of .ARM.attributes we read

class Reader {
 public:
  Reader(const ReadAt& read, std::uint64_t size, bool le) : read_(read), size_(size), le_(le) {}

  Status Bytes(std::uint64_t off, std::size_t n, void* out, const char* what) const {
    if (off > size_ || n > size_ - off) {
      return MakeError(ErrorCode::kInvalid,
                       std::string(what) + " lies past the end of the file (offset " +
                           std::to_string(off) + ", " + std::to_string(n) + " bytes)");
    }
    ANYARCH_TRY(std::size_t got, read_(off, out, n));
    if (got != n) {
      return MakeError(ErrorCode::kInvalid, std::string(what) + " is truncated");
    }
    return Ok();
  }
  std::uint64_t U(const unsigned char* p, int width) const {
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      int idx = le_ ? width - 1 - i : i;
      v = (v << 8) | p[idx];
    }
    return v;
  }
  std::uint64_t size() const { return size_; }

 private:
  const ReadAt& read_;
  std::uint64_t size_;
  bool le_;
};

std::uint64_t Uleb(const std::vector<unsigned char>& b, std::size_t& i, bool& ok) {
  std::uint64_t v = 0;
  int shift = 0;
  while (i < b.size()) {
    unsigned char c = b[i++];
    if (shift < 64) v |= static_cast<std::uint64_t>(c & 0x7f) << shift;
    shift += 7;
    if (!(c & 0x80)) return v;
  }
  ok = false;
  return v;
}

// Reads Tag_CPU_arch (6) from the "aeabi" subsection of .ARM.attributes.
std::optional<int> ArmCpuArch(const std::vector<unsigned char>& b, bool le) {
  if (b.empty() || b[0] != 'A') return std::nullopt;
  std::size_t i = 1;
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      int idx = le ? 3 - k : k;
      v = (v << 8) | b[at + static_cast<std::size_t>(idx)];
    }
    return v;
  };
  while (i + 4 <= b.size()) {
    std::uint32_t len = u32(i);
    if (len < 4 || len > b.size() - i) return std::nullopt;
    std::size_t end = i + len;
    std::size_t j = i + 4;
    std::string vendor;
    while (j < end && b[j] != 0) vendor.push_back(static_cast<char>(b[j++]));
    ++j;
    if (vendor == "aeabi") {
      while (j + 5 <= end) {
        unsigned char tag = b[j];
        std::uint32_t sublen = u32(j + 1);
        if (sublen < 5 || sublen > end - j) return std::nullopt;
        std::size_t subend = j + sublen;
        if (tag == 1) {  // Tag_File: attributes for the whole file
          std::size_t k = j + 5;
          std::vector<unsigned char> sub(b.begin() + static_cast<long>(k),
                                         b.begin() + static_cast<long>(subend));
          std::size_t p = 0;
          bool ok = true;
          while (p < sub.size() && ok) {
            std::uint64_t t = Uleb(sub, p, ok);
            if (!ok) break;
            bool is_string = t == 4 || t == 5 || t == 67 || (t > 32 && (t & 1));
            if (t == 32) {  // Tag_compatibility: uleb then string
              Uleb(sub, p, ok);
              is_string = true;
            }
            if (is_string) {
              while (p < sub.size() && sub[p] != 0) ++p;
              ++p;
            } else {
              std::uint64_t v = Uleb(sub, p, ok);
              if (ok && t == 6) return static_cast<int>(v);
            }
          }
        }
        j = subend;
      }
    }
    i = end;
  }
  return std::nullopt;
}

std::string ArmVariant(int cpu_arch) {
  // Tag_CPU_arch values: 0 pre-v4 .. 5 v5TEJ; 6 v6, 7 v6KZ, 8 v6T2, 9 v6K, 11 v6-M, 12 v6S-M;
  // 10 v7, 13 v7E-M; 14 and up v8 (v8-A, v8-R, v8-M, v8.1-M, v9-A).
  if (cpu_arch <= 5) return "v5";
  if (cpu_arch == 10 || cpu_arch == 13) return "v7";
  if (cpu_arch <= 12) return "v6";
  return "v8";
}

}  // namespace

std::string MachineName(std::uint16_t m) {
  switch (m) {
    case kEmSparc:
      return "SPARC";
    case kEm386:
      return "Intel 80386";
    case kEmMips:
      return "MIPS";
    case kEmPpc:
      return "PowerPC";
    case kEmPpc64:
      return "PowerPC64";
    case kEmS390:
      return "IBM S/390";
    case kEmArm:
      return "ARM";
    case kEmSparcV9:
      return "SPARC V9";
    case kEmX8664:
      return "x86-64";
    case kEmAarch64:
      return "AArch64";
    case kEmRiscv:
      return "RISC-V";
    case kEmLoongarch:
      return "LoongArch";
  }
  return "machine " + std::to_string(m);
}

bool IsElf(std::string_view p) {
  return p.size() >= 4 && p.substr(0, 4) == std::string_view(
                                                "\x7f"
                                                "ELF",
                                                4);
}

Result<ElfInfo> Inspect(const ReadAt& read, std::uint64_t size) {
  unsigned char ident[16];
  {
    if (size < 16) return MakeError(ErrorCode::kInvalid, "too short to be an ELF file");
    ANYARCH_TRY(std::size_t n, read(0, ident, 16));
    if (n != 16) return MakeError(ErrorCode::kInvalid, "too short to be an ELF file");
  }
  if (!IsElf(std::string_view(reinterpret_cast<char*>(ident), 4))) {
    return MakeError(ErrorCode::kInvalid, "not an ELF file");
  }
  ElfInfo info;
  if (ident[4] == 1)
    info.elf_class = 32;
  else if (ident[4] == 2)
    info.elf_class = 64;
  else
    return MakeError(ErrorCode::kInvalid, "invalid ELF class " + std::to_string(ident[4]));
  if (ident[5] == 1)
    info.little_endian = true;
  else if (ident[5] == 2)
    info.little_endian = false;
  else
    return MakeError(ErrorCode::kInvalid, "invalid ELF byte order " + std::to_string(ident[5]));
  info.osabi = ident[7];
  const bool is64 = info.elf_class == 64;
  Reader r(read, size, info.little_endian);

  unsigned char eh[64];
  std::size_t ehsize = is64 ? 64 : 52;
  ANYARCH_CHECK(r.Bytes(0, ehsize, eh, "the ELF header"));
  info.type = static_cast<std::uint16_t>(r.U(eh + 16, 2));
  info.machine = static_cast<std::uint16_t>(r.U(eh + 18, 2));
  std::uint64_t phoff = is64 ? r.U(eh + 32, 8) : r.U(eh + 28, 4);
  std::uint64_t shoff = is64 ? r.U(eh + 40, 8) : r.U(eh + 32, 4);
  info.flags = static_cast<std::uint32_t>(r.U(eh + (is64 ? 48 : 36), 4));
  std::uint64_t phentsize = r.U(eh + (is64 ? 54 : 42), 2);
  std::uint64_t phnum = r.U(eh + (is64 ? 56 : 44), 2);
  std::uint64_t shentsize = r.U(eh + (is64 ? 58 : 46), 2);
  std::uint64_t shnum = r.U(eh + (is64 ? 60 : 48), 2);
  std::uint64_t shstrndx = r.U(eh + (is64 ? 62 : 50), 2);
  info.machine_name = MachineName(info.machine);

  // Program headers: interpreter and dynamic section.
  std::size_t want_ph = is64 ? 56 : 32;
  if (phnum > 0) {
    if (phentsize < want_ph)
      return MakeError(ErrorCode::kInvalid, "program header entries are too small");
    if (phnum > kMaxHeaders) return MakeError(ErrorCode::kInvalid, "too many program headers");
    for (std::uint64_t i = 0; i < phnum; ++i) {
      unsigned char ph[56];
      ANYARCH_CHECK(r.Bytes(phoff + i * phentsize, want_ph, ph, "a program header"));
      std::uint32_t type = static_cast<std::uint32_t>(r.U(ph, 4));
      if (type == kPtDynamic) info.has_dynamic = true;
      if (type != kPtInterp) continue;
      std::uint64_t off = is64 ? r.U(ph + 8, 8) : r.U(ph + 4, 4);
      std::uint64_t filesz = is64 ? r.U(ph + 32, 8) : r.U(ph + 16, 4);
      if (filesz == 0 || filesz > 4096)
        return MakeError(ErrorCode::kInvalid, "PT_INTERP has a bad size");
      std::string interp(filesz, '\0');
      ANYARCH_CHECK(r.Bytes(off, filesz, interp.data(), "the interpreter path"));
      interp.resize(std::strlen(interp.c_str()));
      info.interpreter = interp;
      info.is_static = false;
    }
  }

  std::string arch;
  std::string variant;
  switch (info.machine) {
    case kEmX8664:
      arch = is64 ? "amd64" : "amd64p32";
      break;
    case kEm386:
      arch = "386";
      break;
    case kEmAarch64:
      arch = "arm64";
      if (!is64)
        return MakeError(ErrorCode::kUnsupported, "32-bit AArch64 (ILP32) has no OCI platform");
      break;
    case kEmArm: {
      arch = "arm";
      info.arm_eabi = static_cast<int>(info.flags >> 24);
      info.arm_hard_float = (info.flags & kEfArmAbiFloatHard) != 0;
      info.abi = "eabi" + std::to_string(info.arm_eabi) +
                 (info.arm_hard_float                 ? " hard-float"
                  : (info.flags & kEfArmAbiFloatSoft) ? " soft-float"
                                                      : "");
      // Section headers: find .ARM.attributes.
      if (shnum > 0 && shnum <= kMaxHeaders && shstrndx < shnum && shentsize >= 40) {
        auto sh = [&](std::uint64_t idx, unsigned char* out) {
          return r.Bytes(shoff + idx * shentsize, 40, out, "a section header");
        };
        unsigned char strhdr[40];
        if (sh(shstrndx, strhdr)) {
          std::uint64_t stroff = r.U(strhdr + 16, 4);
          std::uint64_t strsize = r.U(strhdr + 20, 4);
          for (std::uint64_t i = 0; i < shnum && !info.arm_cpu_arch; ++i) {
            unsigned char s[40];
            if (!sh(i, s)) break;
            std::uint64_t name = r.U(s, 4);
            if (name >= strsize) continue;
            char nm[17] = {0};
            std::size_t nlen =
                static_cast<std::size_t>(std::min<std::uint64_t>(16, strsize - name));
            if (!r.Bytes(stroff + name, nlen, nm, "a section name")) continue;
            if (std::string_view(nm, strnlen(nm, nlen)) != ".ARM.attributes") continue;
            std::uint64_t off = r.U(s + 16, 4);
            std::uint64_t sz = r.U(s + 20, 4);
            if (sz == 0 || sz > kMaxAttributes) break;
            std::vector<unsigned char> buf(sz);
            if (!r.Bytes(off, sz, buf.data(), ".ARM.attributes")) break;
            info.arm_cpu_arch = ArmCpuArch(buf, info.little_endian);
          }
        }
      }
      if (info.arm_cpu_arch) {
        variant = ArmVariant(*info.arm_cpu_arch);
      } else {
        // Without attributes, hard-float EABI binaries are armhf (v7), the rest armel (v5).
        variant = info.arm_hard_float ? "v7" : "v5";
        info.variant_guessed = true;
      }
      if (!info.little_endian) arch = "armbe";
      break;
    }
    case kEmPpc64:
      arch = info.little_endian ? "ppc64le" : "ppc64";
      info.abi = (info.flags & 3) == 2 ? "ELFv2" : ((info.flags & 3) == 1 ? "ELFv1" : "");
      break;
    case kEmPpc:
      arch = "ppc";
      break;
    case kEmS390:
      arch = is64 ? "s390x" : "s390";
      break;
    case kEmMips: {
      bool n32 = !is64 && (info.flags & 0x20);
      if (is64)
        arch = info.little_endian ? "mips64le" : "mips64";
      else if (n32)
        arch = info.little_endian ? "mips64p32le" : "mips64p32";
      else
        arch = info.little_endian ? "mipsle" : "mips";
      info.abi = is64 ? "n64" : (n32 ? "n32" : "o32");
      break;
    }
    case kEmRiscv: {
      arch = is64 ? "riscv64" : "riscv32";
      static const char* const kFloat[] = {"soft", "single", "double", "quad"};
      std::string base = is64 ? "lp64" : "ilp32";
      std::uint32_t fabi = (info.flags >> 1) & 3;
      info.abi =
          base + (fabi == 0 ? "" : std::string(1, "sfdq"[fabi])) + " (" + kFloat[fabi] + "-float)";
      break;
    }
    case kEmLoongarch:
      arch = is64 ? "loong64" : "loong32";
      break;
    case kEmSparcV9:
      arch = "sparc64";
      break;
    default: {
      // "ELF e_machine 4 has no OCI architecture", with the name when there is one.
      std::string number = std::to_string(info.machine);
      std::string named =
          info.machine_name == "machine " + number ? "" : " (" + info.machine_name + ")";
      return MakeError(ErrorCode::kUnsupported,
                       "ELF e_machine " + number + named + " has no OCI architecture");
    }
  }
  info.platform.os = "linux";
  info.platform.architecture = arch;
  info.platform.variant = variant;
  return info;
}

Result<ElfInfo> InspectBuffer(std::string_view data) {
  ReadAt read = [data](std::uint64_t off, void* buf, std::size_t n) -> Result<std::size_t> {
    if (off >= data.size()) return std::size_t{0};
    std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, data.size() - off));
    std::memcpy(buf, data.data() + off, k);
    return k;
  };
  return Inspect(read, data.size());
}

Result<ElfInfo> InspectFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrnoError(errno, path.string()));
  off_t end = ::lseek(fd, 0, SEEK_END);
  ReadAt read = [fd, &path](std::uint64_t off, void* buf, std::size_t n) -> Result<std::size_t> {
    std::size_t done = 0;
    while (done < n) {
      ssize_t k =
          ::pread(fd, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(off + done));
      if (k < 0) {
        if (errno == EINTR) continue;
        return Unexpected(ErrnoError(errno, path.string()));
      }
      if (k == 0) break;
      done += static_cast<std::size_t>(k);
    }
    return done;
  };
  auto r = Inspect(read, end < 0 ? 0 : static_cast<std::uint64_t>(end));
  ::close(fd);
  if (!r) return Unexpected(std::move(r.error()).With(path.string()));
  return r;
}

}  // namespace anyarch::elf

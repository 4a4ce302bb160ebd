#include "elf/elf.h"

#include <gtest/gtest.h>

#include <cstring>

#include "elf/writer.h"

namespace anyarch::elf {
namespace {

// Builds a minimal ELF image: header, optional PT_INTERP, optional .ARM.attributes section.
struct Spec {
  int elf_class = 64;
  bool le = true;
  std::uint16_t machine = 62;
  std::uint32_t flags = 0;
  std::string interp;
  std::string arm_attributes;  // raw section bytes
};

std::string Build(const Spec& s) {
  bool is64 = s.elf_class == 64;
  std::string b(is64 ? 64 : 52, '\0');
  b[0] = 0x7f;
  b[1] = 'E';
  b[2] = 'L';
  b[3] = 'F';
  b[4] = is64 ? 2 : 1;
  b[5] = s.le ? 1 : 2;
  b[6] = 1;
  PutInt(b, 16, 2, 2, s.le);  // ET_EXEC
  PutInt(b, 18, s.machine, 2, s.le);
  PutInt(b, is64 ? 48 : 36, s.flags, 4, s.le);
  std::size_t phent = is64 ? 56 : 32;
  if (!s.interp.empty()) {
    std::size_t phoff = b.size();
    std::size_t data = phoff + phent;
    PutInt(b, is64 ? 32 : 28, phoff, is64 ? 8 : 4, s.le);
    PutInt(b, is64 ? 54 : 42, phent, 2, s.le);
    PutInt(b, is64 ? 56 : 44, 1, 2, s.le);
    b.resize(data);
    PutInt(b, phoff, 3, 4, s.le);  // PT_INTERP
    PutInt(b, phoff + (is64 ? 8 : 4), data, is64 ? 8 : 4, s.le);
    PutInt(b, phoff + (is64 ? 32 : 16), s.interp.size() + 1, is64 ? 8 : 4, s.le);
    b += s.interp;
    b.push_back('\0');
  }
  if (!s.arm_attributes.empty()) {
    // Sections: [0] null, [1] .shstrtab, [2] .ARM.attributes (32-bit headers, 40 bytes each).
    std::string names = std::string("\0.shstrtab\0.ARM.attributes\0", 27);
    std::size_t names_off = b.size();
    b += names;
    std::size_t attr_off = b.size();
    b += s.arm_attributes;
    std::size_t shoff = b.size();
    b.resize(shoff + 3 * 40);
    PutInt(b, 32, shoff, 4, s.le);
    PutInt(b, 46, 40, 2, s.le);
    PutInt(b, 48, 3, 2, s.le);
    PutInt(b, 50, 1, 2, s.le);
    PutInt(b, shoff + 40 + 0, 1, 4, s.le);
    PutInt(b, shoff + 40 + 16, names_off, 4, s.le);
    PutInt(b, shoff + 40 + 20, names.size(), 4, s.le);
    PutInt(b, shoff + 80 + 0, 11, 4, s.le);
    PutInt(b, shoff + 80 + 16, attr_off, 4, s.le);
    PutInt(b, shoff + 80 + 20, s.arm_attributes.size(), 4, s.le);
  }
  return b;
}

// .ARM.attributes with one aeabi File subsection holding Tag_CPU_name "7-A" and Tag_CPU_arch.
std::string ArmAttributes(int cpu_arch) {
  std::string file_attrs;
  file_attrs += static_cast<char>(5);  // Tag_CPU_name (string)
  file_attrs += std::string("7-A\0", 4);
  file_attrs += static_cast<char>(6);  // Tag_CPU_arch
  file_attrs += static_cast<char>(cpu_arch);
  file_attrs += static_cast<char>(10);  // Tag_FP_arch
  file_attrs += static_cast<char>(3);
  std::string sub;
  sub += static_cast<char>(1);  // Tag_File
  std::string len(4, '\0');
  PutInt(len, 0, 5 + file_attrs.size(), 4, true);
  sub += len + file_attrs;
  std::string vendor = std::string("aeabi\0", 6);
  std::string section = "A";
  std::string total(4, '\0');
  PutInt(total, 0, 4 + vendor.size() + sub.size(), 4, true);
  section += total + vendor + sub;
  return section;
}

struct Case {
  Spec spec;
  std::string platform;
};

TEST(Elf, MachinesToPlatforms) {
  const Case cases[] = {
      {{.elf_class = 64, .machine = 62}, "linux/amd64"},
      {{.elf_class = 32, .machine = 3}, "linux/386"},
      {{.elf_class = 64, .machine = 183}, "linux/arm64"},
      {{.elf_class = 64, .machine = 21, .flags = 2}, "linux/ppc64le"},
      {{.elf_class = 64, .le = false, .machine = 21}, "linux/ppc64"},
      {{.elf_class = 64, .le = false, .machine = 22}, "linux/s390x"},
      {{.elf_class = 64, .machine = 8}, "linux/mips64le"},
      {{.elf_class = 64, .le = false, .machine = 8}, "linux/mips64"},
      {{.elf_class = 32, .machine = 8}, "linux/mipsle"},
      {{.elf_class = 64, .machine = 243, .flags = 5}, "linux/riscv64"},
      {{.elf_class = 64, .machine = 258}, "linux/loong64"},
      {{.elf_class = 32, .machine = 40, .flags = 0x05000400},
       "linux/arm/v7"},  // hard float, no attributes
      {{.elf_class = 32, .machine = 40, .flags = 0x05000200}, "linux/arm/v5"},  // soft float
      {{.elf_class = 32, .machine = 40, .flags = 0x05000400, .arm_attributes = ArmAttributes(10)},
       "linux/arm/v7"},
      {{.elf_class = 32, .machine = 40, .flags = 0x05000200, .arm_attributes = ArmAttributes(4)},
       "linux/arm/v5"},
      {{.elf_class = 32, .machine = 40, .flags = 0x05000400, .arm_attributes = ArmAttributes(6)},
       "linux/arm/v6"},
      {{.elf_class = 32, .machine = 40, .flags = 0x05000400, .arm_attributes = ArmAttributes(14)},
       "linux/arm/v8"},
      // Attributes win over the float ABI: a soft-float v7 binary is still v7.
      {{.elf_class = 32, .machine = 40, .flags = 0x05000200, .arm_attributes = ArmAttributes(10)},
       "linux/arm/v7"},
  };
  for (const auto& c : cases) {
    auto info = InspectBuffer(Build(c.spec));
    ASSERT_TRUE(info) << c.platform << ": " << info.error().ToString();
    EXPECT_EQ(info->platform.ToString(), c.platform) << "machine " << c.spec.machine;
    EXPECT_TRUE(info->is_static);
  }
}

TEST(Elf, MipsAndRiscvAbis) {
  struct AbiCase {
    Spec spec;
    std::string platform, abi;
  } cases[] = {
      {{.elf_class = 64, .machine = 8}, "linux/mips64le", "n64"},
      {{.elf_class = 64, .le = false, .machine = 8}, "linux/mips64", "n64"},
      {{.elf_class = 32, .machine = 8}, "linux/mipsle", "o32"},
      {{.elf_class = 32, .le = false, .machine = 8}, "linux/mips", "o32"},
      // EF_MIPS_ABI2 (0x20) marks n32: 32-bit ELF, 64-bit registers.
      {{.elf_class = 32, .machine = 8, .flags = 0x20}, "linux/mips64p32le", "n32"},
      {{.elf_class = 32, .le = false, .machine = 8, .flags = 0x20}, "linux/mips64p32", "n32"},
      // EF_RISCV_FLOAT_ABI in bits 1-2.
      {{.elf_class = 64, .machine = 243, .flags = 0x5}, "linux/riscv64", "lp64d (double-float)"},
      {{.elf_class = 64, .machine = 243, .flags = 0x0}, "linux/riscv64", "lp64 (soft-float)"},
      {{.elf_class = 64, .machine = 243, .flags = 0x2}, "linux/riscv64", "lp64f (single-float)"},
      {{.elf_class = 32, .machine = 243, .flags = 0x4}, "linux/riscv32", "ilp32d (double-float)"},
  };
  for (const auto& c : cases) {
    auto info = InspectBuffer(Build(c.spec));
    ASSERT_TRUE(info) << c.platform << ": " << info.error().ToString();
    EXPECT_EQ(info->platform.ToString(), c.platform) << c.abi;
    EXPECT_EQ(info->abi, c.abi) << c.platform;
  }
}

TEST(Elf, ArmVariantSource) {
  auto guessed = InspectBuffer(Build({.elf_class = 32, .machine = 40, .flags = 0x05000400}));
  ASSERT_TRUE(guessed);
  EXPECT_TRUE(guessed->variant_guessed);
  EXPECT_FALSE(guessed->arm_cpu_arch);
  auto attr = InspectBuffer(Build(
      {.elf_class = 32, .machine = 40, .flags = 0x05000400, .arm_attributes = ArmAttributes(10)}));
  ASSERT_TRUE(attr);
  EXPECT_FALSE(attr->variant_guessed);
  EXPECT_EQ(attr->arm_cpu_arch, 10);
  EXPECT_TRUE(attr->arm_hard_float);
  EXPECT_EQ(attr->abi, "eabi5 hard-float");
}

TEST(Elf, Interpreter) {
  auto d = InspectBuffer(
      Build({.elf_class = 64, .machine = 183, .interp = "/lib/ld-linux-aarch64.so.1"}));
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_FALSE(d->is_static);
  EXPECT_EQ(d->interpreter, "/lib/ld-linux-aarch64.so.1");
  auto be =
      InspectBuffer(Build({.elf_class = 32, .le = false, .machine = 8, .interp = "/lib/ld.so.1"}));
  ASSERT_TRUE(be);
  EXPECT_EQ(be->interpreter, "/lib/ld.so.1");
  EXPECT_EQ(be->platform.ToString(), "linux/mips");
}

TEST(Elf, MalformedInputIsAnErrorNotACrash) {
  std::string good = Build({.elf_class = 64, .machine = 183, .interp = "/lib/ld.so"});
  // Every truncation of a valid file fails cleanly (or succeeds when enough is there).
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = InspectBuffer(std::string_view(good).substr(0, n));
    EXPECT_FALSE(r) << n;
  }
  EXPECT_EQ(InspectBuffer("not an elf at all").error().message(), "not an ELF file");
  std::string bad_class = good;
  bad_class[4] = 7;
  EXPECT_FALSE(InspectBuffer(bad_class));
  std::string bad_order = good;
  bad_order[5] = 0;
  EXPECT_FALSE(InspectBuffer(bad_order));
  // Program headers pointing far past the end.
  std::string far = good;
  PutInt(far, 32, 0xffffffffffull, 8, true);
  auto r = InspectBuffer(far);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("past the end"), std::string::npos) << r.error().message();
  // Unknown machine.
  auto unk = InspectBuffer(Build({.elf_class = 64, .machine = 0x1234}));
  ASSERT_FALSE(unk);
  EXPECT_EQ(unk.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(unk.error().message(), "ELF e_machine 4660 has no OCI architecture");
  auto sparc32 = InspectBuffer(Build({.elf_class = 32, .le = false, .machine = 2}));
  ASSERT_FALSE(sparc32);
  EXPECT_EQ(sparc32.error().message(), "ELF e_machine 2 (SPARC) has no OCI architecture");
  // Broken attributes do not crash and fall back to the float ABI.
  std::string attrs = ArmAttributes(10);
  attrs[1] = static_cast<char>(0xff);
  auto broken = InspectBuffer(
      Build({.elf_class = 32, .machine = 40, .flags = 0x05000400, .arm_attributes = attrs}));
  ASSERT_TRUE(broken);
  EXPECT_TRUE(broken->variant_guessed);
}

}  // namespace
}  // namespace anyarch::elf

#include "emulation/binfmt.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "base/fs.h"
#include "elf/elf.h"

namespace anyarch::emulation {
namespace {

TEST(ArchTable, MagicAndMaskAreConsistent) {
  for (const auto& a : Arches()) {
    SCOPED_TRACE(std::string(a.cpu));
    ASSERT_EQ(a.magic.size(), a.mask.size());
    ASSERT_GE(a.magic.size(), 20u);
    EXPECT_EQ(a.magic.substr(0, 4), std::string("\x7f"
                                                "ELF",
                                                4));
    EXPECT_EQ(a.magic[4], a.elf_class == 64 ? 2 : 1);
    EXPECT_EQ(a.magic[5], a.little_endian ? 1 : 2);
    // e_machine sits at bytes 18-19 in the file's byte order.
    unsigned m = a.little_endian ? (static_cast<unsigned char>(a.magic[18]) |
                                    static_cast<unsigned char>(a.magic[19]) << 8)
                                 : (static_cast<unsigned char>(a.magic[18]) << 8 |
                                    static_cast<unsigned char>(a.magic[19]));
    EXPECT_EQ(m, a.machine);
    // EI_OSABI 0 (SYSV) and 3 (GNU) both match, and e_type's low bit is masked so PIE
    // (ET_DYN) matches too.
    EXPECT_EQ(static_cast<unsigned char>(a.mask[7]) & 0x03, 0);
    int type_low = a.little_endian ? 16 : 17;
    EXPECT_EQ(static_cast<unsigned char>(a.mask[type_low]), 0xfe);
  }
}

TEST(ArchTable, ProbesAreValidElfForTheirPlatform) {
  int probes = 0;
  for (const auto& a : Arches()) {
    if (a.probe_code.empty()) continue;
    ++probes;
    SCOPED_TRACE(std::string(a.cpu));
    std::string elf = BuildProbeElf(a);
    auto info = elf::InspectBuffer(elf);
    ASSERT_TRUE(info) << info.error().ToString();
    EXPECT_TRUE(info->is_static);
    std::string want(a.platform);
    if (a.cpu == "arm") want = "linux/arm/v5";  // no attributes, soft float: the lowest variant
    EXPECT_EQ(info->platform.ToString(), want);
    // The binfmt entry for the architecture matches its own probe.
    for (std::size_t i = 0; i < a.magic.size(); ++i) {
      EXPECT_EQ(elf[i] & a.mask[i], a.magic[i] & a.mask[i]) << "byte " << i;
    }
  }
  EXPECT_GE(probes, 7);
}

TEST(ArchTable, FindArchAcceptsOciAndQemuNames) {
  EXPECT_EQ(FindArch("arm64")->cpu, "aarch64");
  EXPECT_EQ(FindArch("aarch64")->cpu, "aarch64");
  EXPECT_EQ(FindArch("linux/arm64")->cpu, "aarch64");
  EXPECT_EQ(FindArch("linux/arm/v7")->cpu, "arm");
  EXPECT_EQ(FindArch("armhf")->cpu, "arm");
  EXPECT_EQ(FindArch("386")->cpu, "i386");
  EXPECT_EQ(FindArch("ppc64el")->cpu, "ppc64le");
  EXPECT_EQ(FindArch("mips64le")->cpu, "mips64el");
  EXPECT_EQ(FindArch("nonsense"), nullptr);
}

TEST(Binfmt, RegisterLineFormat) {
  const ArchSpec* a = FindArch("arm64");
  std::string line = RegisterLine(*a, "/usr/bin/qemu-aarch64-static", "CF");
  EXPECT_EQ(line.rfind(":qemu-aarch64:M:0:\\x7f\\x45\\x4c\\x46\\x02\\x01", 0), 0u) << line;
  EXPECT_NE(line.find(":/usr/bin/qemu-aarch64-static:CF"), std::string::npos);
  // No raw NUL or delimiter bytes: everything is escaped.
  EXPECT_EQ(line.find('\0'), std::string::npos);
  EXPECT_LT(line.size(), 1920u);
}

TEST(Binfmt, DifferencesIgnoreMaskedMagicBits) {
  const ArchSpec* a = FindArch("arm64");
  Entry want = ExpectedEntry(*a, "/usr/bin/qemu-aarch64-static", "PCF");
  EXPECT_EQ(want.flags, "POCF");  // C implies O, in the kernel's order
  Entry have = want;
  EXPECT_TRUE(Differences(have, want).empty());
  // The kernel shows magic & mask; a masked-out byte differing is no difference.
  have.magic_hex[14] = '0';
  have.magic_hex[15] = '3';  // EI_OSABI = 3
  EXPECT_TRUE(Differences(have, want).empty());
  have = want;
  have.flags = "F";
  have.interpreter = "/usr/local/bin/qemu-aarch64";
  auto d = Differences(have, want);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], "interpreter: /usr/local/bin/qemu-aarch64 -> /usr/bin/qemu-aarch64-static");
  EXPECT_EQ(d[1], "flags: F -> POCF");
}

TEST(Binfmt, RemoveRefusesSpecialNames) {
  EXPECT_EQ(Remove("status", "/nonexistent").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(Remove("register", "/nonexistent").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(Remove("../x", "/nonexistent").error().code(), ErrorCode::kInvalid);
}

// src/emulation/probes/README.md says each probe's bytes come from <cpu>.S: the source exists and
// prints exactly what the table expects, and the embedded code holds that message.
TEST(ArchTable, ProbeSourcesMatchTheEmbeddedCode) {
  const char* src = std::getenv("ANYARCH_SOURCE_DIR");
  if (!src) GTEST_SKIP() << "ANYARCH_SOURCE_DIR is not set";
  for (const auto& a : Arches()) {
    if (a.probe_code.empty()) continue;
    SCOPED_TRACE(std::string(a.cpu));
    auto text =
        ReadFile(std::filesystem::path(src) / "src/emulation/probes" / (std::string(a.cpu) + ".S"));
    ASSERT_TRUE(text) << text.error().ToString();
    std::string msg(a.probe_output);
    ASSERT_FALSE(msg.empty());
    EXPECT_EQ(msg.back(), '\n');
    std::string ascii = ".ascii \"" + msg.substr(0, msg.size() - 1) + "\\n\"";
    EXPECT_NE(text->find(ascii), std::string::npos) << ascii;
    // The message follows the code (objcopy may pad the section after it).
    EXPECT_NE(a.probe_code.find(msg), std::string::npos);
  }
}

TEST(Binfmt, RegisterLineForRebuildsAnEntry) {
  Entry e;
  e.name = "qemu-aarch64";
  e.enabled = true;
  e.interpreter = "/usr/bin/qemu-aarch64-static";
  e.flags = "OCF";
  e.offset = 0;
  e.magic_hex = "7f454c46";
  e.mask_hex = "ffffffff";
  EXPECT_EQ(*RegisterLineFor(e),
            ":qemu-aarch64:M:0:\\x7f\\x45\\x4c\\x46:\\xff\\xff\\xff\\xff:"
            "/usr/bin/qemu-aarch64-static:OCF");
  e.magic_hex = "";
  EXPECT_FALSE(RegisterLineFor(e));
}

// --force removes the old entry first; when the kernel then refuses the new line, the old entry
// must come back.
TEST(Binfmt, ReplaceRestoresTheOldEntryWhenRegisteringFails) {
  auto dir = TempDir::Create("binfmt-test");
  ASSERT_TRUE(dir);
  std::string mount = dir->path().string();
  ASSERT_TRUE(WriteFileAtomic(dir->path() / "qemu-aarch64", "enabled\n"));
  const ArchSpec* a = FindArch("arm64");
  Entry old = ExpectedEntry(*a, "/usr/bin/qemu-aarch64", "F");
  std::string new_line = RegisterLine(*a, "/usr/bin/qemu-aarch64-static", "PCF");
  std::vector<std::string> written;
  auto refuse_new = [&](const std::string& line) -> Status {
    written.push_back(line);
    if (line == new_line) return MakeError(ErrorCode::kInvalid, "the kernel refused the entry");
    return Ok();
  };
  auto r = Replace(old, new_line, mount, refuse_new);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("the old entry was restored"), std::string::npos)
      << r.error().ToString();
  EXPECT_EQ(ReadFile(dir->path() / "qemu-aarch64")->substr(0, 2), "-1");  // removed first
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0], new_line);
  EXPECT_EQ(written[1], RegisterLine(*a, "/usr/bin/qemu-aarch64", "F"));  // the old one, back
  // When it works, only the new line is written.
  written.clear();
  ASSERT_TRUE(WriteFileAtomic(dir->path() / "qemu-aarch64", "enabled\n"));
  ASSERT_TRUE(Replace(old, new_line, mount, [&](const std::string& line) -> Status {
    written.push_back(line);
    return Ok();
  }));
  EXPECT_EQ(written, std::vector<std::string>{new_line});
}

// A probe that closes its stdout and then spins must still end as a hang within the timeout,
// not block in waitpid.
TEST(Binfmt, ProbeThatClosesStdoutAndHangsIsBounded) {
  if (::geteuid() != 0) GTEST_SKIP() << "the probe chroots: needs root";
  if (HostFamily() != "x86") GTEST_SKIP() << "the test probe is x86-64 code";
  ArchSpec spec = *FindArch("amd64");
  // mov $3,%eax; mov $1,%edi; syscall (close(1)); jmp .
  spec.probe_code = std::string("\xb8\x03\x00\x00\x00\xbf\x01\x00\x00\x00\x0f\x05\xeb\xfe", 14);
  spec.probe_output = "never\n";
  auto start = std::chrono::steady_clock::now();
  auto fut = std::async(std::launch::async, [&] { return Probe(spec, 2); });
  if (fut.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    std::fprintf(stderr, "Probe did not return within 30 s (blocked in waitpid)\n");
    std::_Exit(1);
  }
  ProbeResult r = fut.get();
  EXPECT_EQ(r.outcome, ProbeOutcome::kHang) << r.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Binfmt, KernelVersionParsed) {
  KernelInfo k = DetectKernel();
  EXPECT_GT(k.major, 2);
  EXPECT_FALSE(k.release.empty());
}

TEST(Binfmt, FlagsFollowTheKernelAndTheInterpreter) {
  struct Case {
    int major, minor;
    bool fix_binary, argv0_visible;
    bool is_static;
    std::string qemu_version;
    bool credentials;
    std::string flags;
    std::size_t notes;
    bool refused;
  } cases[] = {
      {6, 1, true, true, true, "7.2.22", true, "PCF", 0, false},
      {6, 1, true, true, true, "6.2.0", true, "CF", 0, false},     // qemu too old for P
      {5, 10, true, false, true, "7.2.22", true, "CF", 1, false},  // kernel too old for P
      {4, 19, true, false, true, "7.2.22", false, "F", 1, false},  // --no-credentials
      {4, 4, false, false, true, "7.2.22", true, "C", 2, false},   // no F before 4.8
      {6, 1, true, true, false, "7.2.22", true, "PCF", 0, true},   // dynamic qemu with F
      {4, 4, false, false, false, "7.2.22", true, "C", 2, false},  // dynamic is fine without F
  };
  for (const auto& c : cases) {
    KernelInfo k{.major = c.major,
                 .minor = c.minor,
                 .release = std::to_string(c.major) + "." + std::to_string(c.minor),
                 .fix_binary = c.fix_binary,
                 .argv0_visible = c.argv0_visible};
    Interpreter q{
        .path = "/usr/bin/qemu-aarch64", .is_static = c.is_static, .version = c.qemu_version};
    FlagPlan p = PlanFlags(k, q, c.credentials);
    std::string what =
        k.release + " qemu " + c.qemu_version + (c.is_static ? " static" : " dynamic");
    EXPECT_EQ(p.flags, c.flags) << what;
    EXPECT_EQ(p.notes.size(), c.notes) << what;
    EXPECT_EQ(!p.refusal.empty(), c.refused) << what;
    if (c.refused) {
      EXPECT_NE(p.refusal.find("dynamically linked"), std::string::npos);
      EXPECT_NE(p.refusal.find("qemu-user-static"), std::string::npos);
    }
    if (!c.fix_binary) {
      EXPECT_NE(p.notes.front().find("older than 4.8"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace anyarch::emulation

#include "inspect/virtual_fs.h"

#include <gtest/gtest.h>

#include <set>

namespace anyarch::inspect {
namespace {

using layer::EntryType;

layer::Entry E(std::string path, EntryType type = EntryType::kFile, std::string link = "") {
  layer::Entry e;
  e.path = e.raw_path = std::move(path);
  e.type = type;
  e.link = std::move(link);
  return e;
}

layer::Entry Whiteout(std::string path) {
  layer::Entry e = E(std::move(path));
  e.whiteout = true;
  return e;
}

layer::Entry Opaque(std::string path) {
  layer::Entry e = E(std::move(path), EntryType::kDirectory);
  e.opaque = true;
  return e;
}

std::set<std::string> Paths(const VirtualFs& fs) {
  std::set<std::string> out;
  fs.ForEach([&](const std::string& p, const Node&) { out.insert(p); });
  return out;
}

Node Typed(EntryType t, std::string link = "") {
  Node n;
  n.type = t;
  n.link = std::move(link);
  return n;
}

TEST(VirtualFs, HardLinkToAMissingFileIsRefused) {
  VirtualFs fs;
  auto st = fs.Apply(E("bin/sh", EntryType::kHardlink, "bin/busybox"), {}, 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(st.error().message(),
            "hard link /bin/sh points at /bin/busybox, which is not in the image");
}

TEST(VirtualFs, HardLinkToAFileLaterInTheLayerIsRefused) {
  VirtualFs fs;
  EXPECT_FALSE(fs.Apply(E("a", EntryType::kHardlink, "b"), {}, 1));
  ASSERT_TRUE(fs.Apply(E("b"), Typed(EntryType::kFile), 1));
  ASSERT_TRUE(fs.Apply(E("a", EntryType::kHardlink, "b"), {}, 1));
  EXPECT_EQ(Paths(fs), (std::set<std::string>{"a", "b"}));
}

TEST(VirtualFs, HardLinkToADirectoryIsRefused) {
  VirtualFs fs;
  ASSERT_TRUE(fs.Apply(E("d", EntryType::kDirectory), Typed(EntryType::kDirectory), 1));
  ASSERT_TRUE(fs.Apply(E("e/f"), Typed(EntryType::kFile), 1));
  auto st = fs.Apply(E("x", EntryType::kHardlink, "d"), {}, 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "hard link /x points at a directory");
  // A directory only its children's entries imply is one too.
  EXPECT_FALSE(fs.Apply(E("y", EntryType::kHardlink, "e"), {}, 1));
}

TEST(VirtualFs, HardLinkTakesTheTargetsContent) {
  VirtualFs fs;
  Node elf = Typed(EntryType::kFile);
  elf.elf_truncated = true;
  ASSERT_TRUE(fs.Apply(E("usr/bin/tool"), elf, 1));
  // The target's parent is resolved through a symlink, as openat2 does.
  ASSERT_TRUE(
      fs.Apply(E("bin", EntryType::kSymlink, "usr/bin"), Typed(EntryType::kSymlink, "usr/bin"), 1));
  ASSERT_TRUE(fs.Apply(E("opt/tool", EntryType::kHardlink, "bin/tool"), {}, 2));
  bool seen = false;
  fs.ForEach([&](const std::string& p, const Node& n) {
    if (p == "opt/tool") {
      seen = true;
      EXPECT_TRUE(n.elf_truncated);
      EXPECT_EQ(n.layer, 2);
    }
  });
  EXPECT_TRUE(seen);
}

TEST(VirtualFs, ParentsResolveThroughSymlinksAsTheUnpackerWrites) {
  VirtualFs fs;
  ASSERT_TRUE(
      fs.Apply(E("lib", EntryType::kSymlink, "usr/lib"), Typed(EntryType::kSymlink, "usr/lib"), 1));
  ASSERT_TRUE(fs.Apply(E("lib/ld.so"), Typed(EntryType::kFile), 2));
  // Absolute and climbing targets stay inside the image.
  ASSERT_TRUE(fs.Apply(E("x/up", EntryType::kSymlink, "../../../../etc"),
                       Typed(EntryType::kSymlink, "../../../../etc"), 2));
  ASSERT_TRUE(fs.Apply(E("x/up/passwd"), Typed(EntryType::kFile), 2));
  EXPECT_EQ(Paths(fs), (std::set<std::string>{"lib", "usr/lib/ld.so", "x/up", "etc/passwd"}));
  EXPECT_EQ(fs.Resolve("/lib/ld.so"), "usr/lib/ld.so");
  EXPECT_EQ(fs.Resolve("/lib/nothing"), std::nullopt);
}

TEST(VirtualFs, AParentThatIsAFileIsRefused) {
  VirtualFs fs;
  ASSERT_TRUE(fs.Apply(E("a"), Typed(EntryType::kFile), 1));
  auto st = fs.Apply(E("a/b"), Typed(EntryType::kFile), 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "/a exists and is not a directory");
}

TEST(VirtualFs, SymlinkLoopsAreRefused) {
  VirtualFs fs;
  ASSERT_TRUE(fs.Apply(E("a", EntryType::kSymlink, "b"), Typed(EntryType::kSymlink, "b"), 1));
  ASSERT_TRUE(fs.Apply(E("b", EntryType::kSymlink, "a"), Typed(EntryType::kSymlink, "a"), 1));
  auto st = fs.Apply(E("a/x"), Typed(EntryType::kFile), 1);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("too many levels of symbolic links"), std::string::npos);
}

TEST(VirtualFs, WhiteoutsAndOpaqueDirectories) {
  VirtualFs fs;
  ASSERT_TRUE(fs.Apply(E("d/old"), Typed(EntryType::kFile), 1));
  ASSERT_TRUE(fs.Apply(E("d/sub/deep"), Typed(EntryType::kFile), 1));
  ASSERT_TRUE(fs.Apply(E("e/f"), Typed(EntryType::kFile), 1));
  ASSERT_TRUE(fs.Apply(Opaque("d"), {}, 2));
  ASSERT_TRUE(fs.Apply(E("d/new"), Typed(EntryType::kFile), 2));
  ASSERT_TRUE(fs.Apply(Whiteout("e"), {}, 2));
  EXPECT_EQ(Paths(fs), (std::set<std::string>{"d/new"}));
}

TEST(VirtualFs, AFileReplacesADirectoryAndWhatItHeld) {
  VirtualFs fs;
  ASSERT_TRUE(fs.Apply(E("d", EntryType::kDirectory), Typed(EntryType::kDirectory), 1));
  ASSERT_TRUE(fs.Apply(E("d/x"), Typed(EntryType::kFile), 1));
  ASSERT_TRUE(fs.Apply(E("d"), Typed(EntryType::kFile), 2));
  EXPECT_EQ(Paths(fs), (std::set<std::string>{"d"}));
}

}  // namespace
}  // namespace anyarch::inspect

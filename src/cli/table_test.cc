// Tables: columns sized to their widest cell, no run-on cells, short rows padded.
#include "cli/table.h"

#include <gtest/gtest.h>

namespace anyarch::cli {
namespace {

TEST(TableTest, ColumnsFitTheirWidestCell) {
  Table t({"NAME", "SIZE", "PLATFORMS"});
  t.Add({"a-very-long-registry.example/with/a/deep/repository:tag", "1.8 MiB", "linux/amd64"});
  t.Add({"b", "12 KiB"});
  EXPECT_EQ(t.Render(),
            "NAME                                                      SIZE      PLATFORMS\n"
            "a-very-long-registry.example/with/a/deep/repository:tag   1.8 MiB   linux/amd64\n"
            "b                                                         12 KiB\n");
}

TEST(TableTest, MultibyteCellsTakeOneColumnPerCharacter) {
  Table t({"A", "B"});
  t.Add({"\xc3\xa9t\xc3\xa9", "x"});
  EXPECT_EQ(t.Render(), "A     B\n\xc3\xa9t\xc3\xa9   x\n");
}

TEST(TableTest, BoldHeaderOnlyWhenStyled) {
  Table t({"A", "B"});
  t.Add({"xy", "z"});
  EXPECT_EQ(t.Render(Style(true)), "\033[1mA    B\033[0m\nxy   z\n");
  EXPECT_EQ(t.Render(Style(false)), "A    B\nxy   z\n");
}

TEST(TableTest, ColouredCellsKeepTheColumnsAligned) {
  Table t({"A", "B"});
  t.Add({Style(true).Green("ok"), "x"});
  t.Add({"fail", "y"});
  EXPECT_EQ(t.Render(), "A      B\n\033[32mok\033[0m     x\nfail   y\n");
}

TEST(TableTest, ShortIdKeepsTwelveHexDigitsUnlessNoTrunc) {
  const std::string d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  EXPECT_EQ(ShortId(d), "0123456789ab");
  EXPECT_EQ(ShortId(d, true), d);
  EXPECT_EQ(ShortId("abc"), "abc");
  EXPECT_EQ(ShortId("0123456789abcdef"), "0123456789ab");
}

}  // namespace
}  // namespace anyarch::cli

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

}  // namespace
}  // namespace anyarch::cli

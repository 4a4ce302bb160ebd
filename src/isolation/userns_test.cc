#include "isolation/userns.h"

#include <gtest/gtest.h>

namespace anyarch::isolation {
namespace {

TEST(SubordinateRanges, ByNameOrIdInFileOrder) {
  std::string text =
      "# comment\n"
      "alice:100000:65536\n"
      "bob:165536:65536\n"
      "1000:300000:10\n"
      "alice:400000:5\n"
      "alice:bad:5\n"
      "alice:500000:0\n"
      "alice:4294967290:100\n";
  auto r = SubordinateRanges(text, "alice", 1000);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].outside, 100000u);
  EXPECT_EQ(r[0].count, 65536u);
  EXPECT_EQ(r[1].outside, 300000u);
  EXPECT_EQ(r[2].outside, 400000u);
  EXPECT_TRUE(SubordinateRanges(text, "carol", 1002).empty());
}

TEST(PlanIdMap, CallerToRootThenRangesNumberedFromOne) {
  auto p = PlanIdMap(1000, 1001, "alice", "alice:100000:65536\nalice:300000:10\n",
                     "alice:200000:65536\n", "/usr/bin/newuidmap", "/usr/bin/newgidmap");
  ASSERT_TRUE(p.subordinate);
  EXPECT_EQ(MapText(p.uids), "0 1000 1\n1 100000 65536\n65537 300000 10\n");
  EXPECT_EQ(MapText(p.gids), "0 1001 1\n1 200000 65536\n");
  EXPECT_EQ(MappedIds(p.uids), 65547u);
}

TEST(PlanIdMap, RangeHoldingTheCallersOwnIdIsLeftOut) {
  auto p = PlanIdMap(1000, 1000, "alice", "alice:900:200\nalice:5000:10\n", "alice:5000:10\n",
                     "/x/newuidmap", "/x/newgidmap");
  ASSERT_TRUE(p.subordinate);
  EXPECT_EQ(MapText(p.uids), "0 1000 1\n1 5000 10\n");
}

TEST(PlanIdMap, SingleIdWithoutRangesOrHelpers) {
  auto none = PlanIdMap(1000, 1000, "alice", "", "alice:1:2\n", "/h", "/h");
  EXPECT_FALSE(none.subordinate);
  EXPECT_EQ(MapText(none.uids), "0 1000 1\n");
  EXPECT_NE(none.single_reason.find("/etc/subuid"), std::string::npos);
  auto no_helper = PlanIdMap(1000, 1000, "alice", "alice:1:2\n", "alice:1:2\n", "", "");
  EXPECT_FALSE(no_helper.subordinate);
  EXPECT_NE(no_helper.single_reason.find("uidmap"), std::string::npos);
}

}  // namespace
}  // namespace anyarch::isolation

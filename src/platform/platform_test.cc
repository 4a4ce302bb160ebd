#include "platform/platform.h"

#include <gtest/gtest.h>

namespace anyarch::platform {
namespace {

struct ParseCase {
  const char* input;
  const char* want;  // nullptr: must fail
};

TEST(PlatformParse, Table) {
  const ParseCase cases[] = {
      {"linux/amd64", "linux/amd64"},
      {"linux/x86_64", "linux/amd64"},
      {"linux/x86-64", "linux/amd64"},
      {"linux/amd64/v1", "linux/amd64"},
      {"linux/amd64/v3", "linux/amd64/v3"},
      {"linux/aarch64", "linux/arm64"},
      {"linux/arm64/v8", "linux/arm64"},
      {"linux/arm64/8", "linux/arm64"},
      {"linux/arm64/v9.0", "linux/arm64/v9"},
      {"linux/armhf", "linux/arm/v7"},
      {"linux/armel", "linux/arm/v5"},
      {"linux/arm", "linux/arm/v7"},
      {"linux/arm/7", "linux/arm/v7"},
      {"linux/arm/6", "linux/arm/v6"},
      {"linux/arm/v5", "linux/arm/v5"},
      {"linux/i386", "linux/386"},
      {"linux/ppc64el", "linux/ppc64le"},
      {"linux/mips64el", "linux/mips64le"},
      {"Linux/AMD64", "linux/amd64"},
      {"arm64", "linux/arm64"},
      {"aarch64", "linux/arm64"},
      {"macos/arm64", "darwin/arm64"},
      {"", nullptr},
      {"linux", nullptr},
      {"linux/", nullptr},
      {"linux//v7", nullptr},
      {"linux/amd46", nullptr},
      {"a/b/c/d", nullptr},
      {"linux/arm 64", nullptr},
  };
  for (const auto& c : cases) {
    auto p = Parse(c.input);
    if (c.want == nullptr) {
      EXPECT_FALSE(p.has_value()) << c.input;
      if (!p) {
        EXPECT_EQ(p.error().code(), ErrorCode::kInvalid);
      }
    } else {
      ASSERT_TRUE(p.has_value()) << c.input << ": " << p.error().ToString();
      EXPECT_EQ(p->ToString(), c.want) << c.input;
    }
  }
}

TEST(PlatformParse, ErrorNamesInput) {
  auto p = Parse("linux/amd46");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("amd46"), std::string::npos);
}

TEST(PlatformParse, ListDeduplicates) {
  auto l = ParseList("linux/amd64,linux/x86_64,linux/arm64");
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[1].ToString(), "linux/arm64");
}

TEST(PlatformMatch, ArmFallsBackToLowerVariants) {
  auto v7 = *Parse("linux/arm/v7");
  EXPECT_TRUE(Matches(v7, *Parse("linux/arm/v6")));
  EXPECT_TRUE(Matches(v7, *Parse("linux/arm/v5")));
  EXPECT_FALSE(Matches(v7, *Parse("linux/arm/v8")));
  EXPECT_FALSE(Matches(*Parse("linux/arm/v5"), v7));
  EXPECT_EQ(*Rank(v7, v7), 0);
  EXPECT_LT(*Rank(v7, *Parse("linux/arm/v6")), *Rank(v7, *Parse("linux/arm/v5")));
}

TEST(PlatformMatch, Amd64RunsI386) {
  auto amd = *Parse("linux/amd64");
  EXPECT_TRUE(Matches(amd, *Parse("linux/386")));
  EXPECT_FALSE(Matches(*Parse("linux/386"), amd));
  EXPECT_FALSE(Matches(amd, *Parse("linux/arm64")));
  EXPECT_FALSE(Matches(amd, *Parse("windows/amd64")));
}

TEST(PlatformMatch, Arm64FallsBackToArm) {
  auto a64 = *Parse("linux/arm64");
  EXPECT_TRUE(Matches(a64, *Parse("linux/arm/v7")));
  EXPECT_LT(*Rank(a64, a64), *Rank(a64, *Parse("linux/arm/v7")));
}

TEST(PlatformMatch, BestPrefersExact) {
  std::vector<Platform> cands = {*Parse("linux/386"), *Parse("linux/arm64"), *Parse("linux/amd64")};
  EXPECT_EQ(*Best(*Parse("linux/amd64"), cands), 2u);
  std::vector<Platform> only386 = {*Parse("linux/arm64"), *Parse("linux/386")};
  EXPECT_EQ(*Best(*Parse("linux/amd64"), only386), 1u);
  EXPECT_FALSE(Best(*Parse("linux/s390x"), cands).has_value());
}

TEST(PlatformMatch, OsFeaturesMustBeSubset) {
  Platform want = *Parse("linux/amd64");
  want.os_features = {"sse4"};
  Platform have = *Parse("linux/amd64");
  EXPECT_FALSE(Matches(want, have));
  have.os_features = {"avx", "sse4"};
  EXPECT_TRUE(Matches(want, have));
}

// What pull, copy, run and merge pick when a platform is asked for by name.
struct ChooseCase {
  const char* want;
  std::vector<const char*> have;
  int index;  // -1: nothing may be chosen
  bool exact;
};

TEST(PlatformChoose, NeverAnotherArchitecture) {
  const ChooseCase cases[] = {
      {"linux/arm64", {"linux/amd64", "linux/arm/v7"}, -1, false},
      {"linux/amd64", {"linux/386", "linux/arm64"}, -1, false},
      {"linux/arm/v7", {"linux/arm64"}, -1, false},
      {"linux/arm/v7", {"linux/amd64", "linux/arm/v6"}, 1, false},
      {"linux/arm/v7", {"linux/arm/v5", "linux/arm/v6"}, 1, false},
      {"linux/arm/v7", {"linux/arm/v6", "linux/arm/v7"}, 1, true},
      {"linux/arm/v6", {"linux/arm/v7"}, -1, false},
      {"linux/arm64", {"linux/arm64/v8", "linux/arm/v7"}, 0, true},
      {"linux/arm64/v9", {"linux/arm64"}, 0, false},
      {"linux/amd64/v3", {"linux/amd64"}, 0, false},
      {"linux/amd64", {"windows/amd64"}, -1, false},
      {"aarch64", {"linux/amd64", "linux/arm64"}, 1, true},
  };
  for (const auto& c : cases) {
    std::vector<Platform> have;
    for (const char* h : c.have) have.push_back(*Parse(h));
    auto got = Choose(*Parse(c.want), have);
    if (c.index < 0) {
      EXPECT_FALSE(got.has_value()) << c.want << " chose " << got->chosen.ToString();
      continue;
    }
    ASSERT_TRUE(got.has_value()) << c.want;
    EXPECT_EQ(got->index, static_cast<std::size_t>(c.index)) << c.want;
    EXPECT_EQ(got->exact, c.exact) << c.want;
    EXPECT_EQ(got->chosen, Normalize(have[got->index])) << c.want;
  }
}

TEST(PlatformChoose, DescribesTheSubstitute) {
  EXPECT_EQ(DescribeSubstitute(*Parse("linux/arm/v7"), *Parse("linux/arm/v6")),
            "using linux/arm/v6 for linux/arm/v7 (there is no linux/arm/v7 image)");
}

TEST(PlatformHost, IsNormalised) {
  Platform h = Host();
  EXPECT_EQ(h.os, "linux");
  EXPECT_EQ(Normalize(h), h);
  EXPECT_TRUE(IsKnownArchitecture(h.architecture)) << h.architecture;
}

}  // namespace
}  // namespace anyarch::platform

#include "dockerfile/expand.h"

#include <gtest/gtest.h>

#include <map>

namespace anyarch::dockerfile {
namespace {

Lookup Env(std::map<std::string, std::string> m) {
  return [m](const std::string& n) -> std::optional<std::string> {
    auto it = m.find(n);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

struct Case {
  std::string in;
  std::string want;
};

TEST(Expand, Rules) {
  auto env = Env({{"A", "alpha"}, {"EMPTY", ""}, {"P", "/usr"}, {"S", "a b"}});
  const Case cases[] = {
      {"$A", "alpha"},
      {"${A}", "alpha"},
      {"${A}_x", "alpha_x"},
      {"$A_x", ""},  // the name is A_x, which is unset
      {"pre-$A-post", "pre-alpha-post"},
      {"$UNSET", ""},
      {"${UNSET:-def}", "def"},
      {"${EMPTY:-def}", "def"},
      {"${A:-def}", "alpha"},
      {"${UNSET-def}", "def"},
      {"${EMPTY-def}", ""},
      {"${A:+set}", "set"},
      {"${EMPTY:+set}", ""},
      {"${UNSET:+set}", ""},
      {"${A+set}", "set"},
      {"${EMPTY+set}", "set"},
      {"${UNSET+set}", ""},
      {"${UNSET:-$P/bin}", "/usr/bin"},
      {"${UNSET:-${A:+nested}}", "nested"},
      {"\\$A", "$A"},
      {"\\${A}", "${A}"},
      {"'$A'", "$A"},
      {"\"$A\"", "alpha"},
      {"\"\\$A\"", "$A"},
      {"\"a\\nb\"", "a\\nb"},  // inside double quotes \ only escapes " $ and itself
      {"a\\ b", "a b"},
      {"$", "$"},
      {"a$", "a$"},
      {"$-x", "$-x"},
      {"100%", "100%"},
      {"\"${S}\"", "a b"},
  };
  for (const auto& c : cases) {
    auto r = ExpandWord(c.in, env);
    ASSERT_TRUE(r) << c.in << ": " << r.error().ToString();
    EXPECT_EQ(r->value, c.want) << c.in;
  }
}

TEST(Expand, BacktickEscape) {
  auto env = Env({{"A", "x"}});
  auto r = ExpandWord("`$A and C:\\path", env, {.escape = '`'});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, "$A and C:\\path");
}

TEST(Expand, NoExpansionMode) {
  auto r = ExpandWord("$A '$B'", Env({{"A", "x"}}), {.expand = false});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, "$A $B");
}

TEST(Expand, Errors) {
  auto env = Env({{"EMPTY", ""}});
  const char* bad[] = {"'open",      "\"open",   "${",
                       "${A",        "${A:-x",   "${}",
                       "${A%x}",     "${A:=x}",  "${UNSET:?must be set}",
                       "${EMPTY:?}", "${UNSET?}"};
  for (const char* b : bad) {
    auto r = ExpandWord(b, env);
    EXPECT_FALSE(r) << b;
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
    }
  }
  auto r = ExpandWord("${UNSET:?must be set}", env);
  EXPECT_NE(r.error().message().find("must be set"), std::string::npos);
  EXPECT_TRUE(ExpandWord("${EMPTY?}", env));  // set (even if empty) is enough without ':'
}

TEST(Expand, WordsSplitUnquotedExpansions) {
  auto env = Env({{"S", "a b"}, {"D", "/dst"}});
  auto r = ExpandWords("$S \"$S\" x${S}y $D", env);
  ASSERT_TRUE(r);
  std::vector<std::string> want = {"a", "b", "a b", "xa", "by", "/dst"};
  EXPECT_EQ(*r, want);
  auto q = ExpandWords("'a b' c\\ d \"\"", env);
  ASSERT_TRUE(q);
  std::vector<std::string> want2 = {"a b", "c d", ""};
  EXPECT_EQ(*q, want2);
}

TEST(Expand, Referenced) {
  auto refs = ReferencedVariables("$A ${B:-$C} '$D' \\$E ${F+x}");
  std::set<std::string> want = {"A", "B", "C", "F"};
  EXPECT_EQ(refs, want);
}

TEST(Expand, RawWords) {
  auto w = SplitRawWords("  a \"b c\" 'd e'  f\\ g ");
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[1].text, "\"b c\"");
  EXPECT_EQ(w[1].offset, 4u);
  EXPECT_EQ(w[3].text, "f\\ g");
}

}  // namespace
}  // namespace anyarch::dockerfile

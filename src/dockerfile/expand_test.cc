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

// Every error names the problem and gives the offset of the quote or "$" at fault, which
// evaluation turns into a line and column (see Evaluate.Errors).
TEST(Expand, Errors) {
  auto env = Env({{"EMPTY", ""}, {"A", "a"}});
  struct Bad {
    std::string text;
    std::string mentions;
    std::size_t offset;
  };
  const Bad cases[] = {
      {"'open", "unterminated single quote", 0},
      {"ab \"open", "unterminated double quote", 3},
      {"x \"$A\" 'y", "unterminated single quote", 7},
      {"${", "missing '}'", 0},
      {"x${A", "missing '}'", 1},
      {"pre ${A:-x", "missing '}'", 4},
      {"${}", "bad substitution", 0},
      {"a/${A%x}", "unsupported modifier '%'", 2},
      {"${A:=x}", "unsupported modifier ':='", 0},
      {"pre ${UNSET:?must be set}", "UNSET: must be set", 4},
      {"${EMPTY:?}", "EMPTY: is not set", 0},
      {"$A${UNSET?}", "UNSET: is not set", 2},
      {"${A:+${UNSET:?inner}}", "UNSET: inner", 5},
      {"\"a $A ${UNSET:?q}\"", "UNSET: q", 6},
  };
  for (const auto& c : cases) {
    std::size_t off = 12345;
    auto r = ExpandWord(c.text, env, {}, &off);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
    EXPECT_NE(r.error().message().find(c.mentions), std::string::npos)
        << c.text << ": " << r.error().message();
    EXPECT_EQ(r.error().message().find("offset"), std::string::npos) << r.error().message();
    EXPECT_EQ(off, c.offset) << c.text;
    // Word splitting reports the same offset.
    std::size_t words_off = 12345;
    EXPECT_FALSE(ExpandWords(c.text, env, nullptr, {}, &words_off)) << c.text;
    EXPECT_EQ(words_off, c.offset) << c.text;
  }
  EXPECT_TRUE(ExpandWord("${EMPTY?}", env));  // set (even if empty) is enough without ':'
}

// Heredoc bodies of COPY/ADD: quotes are ordinary characters, "$" expands, "\" escapes.
TEST(Expand, RawModeLeavesQuotes) {
  auto env = Env({{"A", "alpha"}});
  ExpandOptions raw{.escape = '\\', .process_quotes = false};
  const Case cases[] = {
      {"'$A'", "'alpha'"},
      {"\"$A\"", "\"alpha\""},
      {"\\$A", "$A"},
      {"echo \"it's $A\"\n", "echo \"it's alpha\"\n"},
      {"${A:-'x'}", "alpha"},
      {"${B:-'x y'}", "'x y'"},
      {"unterminated 'quote", "unterminated 'quote"},
  };
  for (const auto& c : cases) {
    auto r = ExpandWord(c.in, env, raw);
    ASSERT_TRUE(r) << c.in << ": " << r.error().ToString();
    EXPECT_EQ(r->value, c.want) << c.in;
  }
  EXPECT_EQ(ReferencedVariables("'$A' \"$B\"", raw), (std::set<std::string>{"A", "B"}));
  EXPECT_EQ(ReferencedVariables("'$A' \"$B\"", '\\'), (std::set<std::string>{"B"}));
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
  struct Refs {
    std::string text;
    std::set<std::string> want;
  };
  const Refs cases[] = {
      {"$A ${B:-$C} '$D' \\$E ${F+x}", {"A", "B", "C", "F"}},
      // Shell modifiers (RUN commands use them) are skipped, not the end of the scan.
      {"GOARM=${TARGETVARIANT#v} ${V%%.*} ${P/x/$R} ${Q:=d} $AFTER",
       {"TARGETVARIANT", "V", "P", "R", "Q", "AFTER"}},
      {"${A#x} ${", {"A"}},
      {"'open $A", {}},
  };
  for (const auto& c : cases) EXPECT_EQ(ReferencedVariables(c.text), c.want) << c.text;
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

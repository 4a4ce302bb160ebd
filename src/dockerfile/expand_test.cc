#include "dockerfile/expand.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

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
      {"$-x", "x"},  // $- is a special parameter, never set
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
      {"a/${A:%x}", "unsupported modifier ':%'", 2},
      {"${A:=x}", "unsupported modifier ':='", 0},
      {"pre ${UNSET:?must be set}", "UNSET: must be set", 4},
      {"${EMPTY:?}", "EMPTY: is not allowed to be empty", 0},
      {"$A${UNSET?}", "UNSET: is not allowed to be unset", 2},
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

// BuildKit's shell lexer on the points where it is not a POSIX shell (frontend/dockerfile/shell):
// trailing escapes, positional and special parameters. Each case: input, expected word.
TEST(Expand, ParametersAndTrailingEscapesLikeBuildKit) {
  auto env = Env({{"A", "alpha"}, {"EMPTY", ""}});
  const Case cases[] = {
      // A trailing unquoted escape character escapes nothing and is dropped.
      {"hello\\", "hello"},
      {"$A\\", "alpha"},
      {"a\\ b\\", "a b"},
      // Positional parameters are digits only and never set.
      {"$1x", "x"},
      {"$999aaa", "aaa"},
      {"${1}", ""},
      {"${12}y", "y"},
      {"$0zero", "zero"},
      {"${1:-one}", "one"},
      // Special parameters: one character each, never set, modifiers apply.
      {"$@", ""},
      {"a$*b", "ab"},
      {"$#", ""},
      {"$?", ""},
      {"$-", ""},
      {"$$", ""},
      {"$!", ""},
      {"${@}", ""},
      {"${*}", ""},
      {"${#:-x}", "x"},
      {"${$:+x}", ""},
      {"${?-d}", "d"},
      {"${!+set}", ""},
      {"\"$@ $A\"", " alpha"},
      // Modifier words keep their own quoting.
      {"${EMPTY:-'a b'}", "a b"},
  };
  for (const auto& c : cases) {
    auto r = ExpandWord(c.in, env);
    ASSERT_TRUE(r) << c.in << ": " << r.error().ToString();
    EXPECT_EQ(r->value, c.want) << c.in;
  }
  // Special and positional parameters are nobody's ARG: lint must not ask to declare them.
  auto refs = ReferencedVariables("$1 $@ ${#:-x} $A");
  EXPECT_EQ(refs, (std::set<std::string>{"A"}));
}

// ${VAR#p} ${VAR##p} ${VAR%p} ${VAR%%p} ${VAR/p/r} ${VAR//p/r}, with BuildKit's patterns:
// * and ? (not across a newline), escapes \* \? \\ \} \/, "[" literal.
TEST(Expand, PatternModifiersLikeBuildKit) {
  auto env = Env({{"TARGETPLATFORM", "linux/arm64"},
                  {"TARGETARCH", "armv7"},
                  {"P", "/usr/local/bin/app.tar.gz"},
                  {"V", "v1.2.3"},
                  {"X", "aXbXc"},
                  {"S", "a*b?c"},
                  {"B", "x[ab]y"},
                  {"NL", "a\nb"},
                  {"U", "päd"},
                  {"PAT", "*/"},
                  {"EMPTY", ""}});
  const Case cases[] = {
      {"${TARGETPLATFORM#linux/}", "arm64"},
      {"${TARGETARCH%v*}", "arm"},
      {"${V#v}", "1.2.3"},
      {"${P#*/}", "usr/local/bin/app.tar.gz"},
      {"${P##*/}", "app.tar.gz"},
      {"${P#*.}", "tar.gz"},
      {"${P##*.}", "gz"},
      {"${P%.*}", "/usr/local/bin/app.tar"},
      {"${P%%.*}", "/usr/local/bin/app"},
      {"${P%%/*}", ""},
      {"${P%/*}", "/usr/local/bin"},
      {"${P#/usr}", "/local/bin/app.tar.gz"},
      {"${P#nomatch}", "/usr/local/bin/app.tar.gz"},
      {"${P#}", "/usr/local/bin/app.tar.gz"},
      {"${P%?}", "/usr/local/bin/app.tar.g"},
      {"${P#$PAT}", "usr/local/bin/app.tar.gz"},  // a pattern from a variable is a pattern
      {"${UNSET#x}", ""},
      {"${EMPTY%%*}", ""},
      {"${U#p?}", "d"},      // ? is one character, not one byte
      {"${NL#*b}", "a\nb"},  // * does not cross a newline
      {"${S#a\\*}", "b?c"},  // \* is a literal star
      {"${S%\\?c}", "a*b"},  // \? is a literal question mark
      {"${B#x[}", "ab]y"},   // no bracket expressions: [ is literal
      {"${X/X/-}", "a-bXc"},
      {"${X//X/-}", "a-b-c"},
      {"${X//X/}", "abc"},
      {"${X/b*/Z}", "aXZ"},  // / and // are greedy
      {"${X//?/.}", "....."},
      {"${X//*/-}", "-"},      // no second replacement of the empty match at the end
      {"${X/#a/Z}", "aXbXc"},  // no anchors: "#a" is literal
      {"${P/\\/usr/}", "/local/bin/app.tar.gz"},  // \/ is a / in the pattern
      {"${X/X/a\\}b}", "aa\\}bbXc"},  // the replacement keeps its escapes, as in BuildKit
      {"${X//X/$$}", "abc"},          // $$ is a special parameter, empty
      {"${UNSET/a/b}", ""},
      {"pre-${TARGETPLATFORM#*/}-post", "pre-arm64-post"},
      {"\"${P##*/}\"", "app.tar.gz"},
  };
  for (const auto& c : cases) {
    auto r = ExpandWord(c.in, env);
    ASSERT_TRUE(r) << c.in << ": " << r.error().ToString();
    EXPECT_EQ(r->value, c.want) << c.in;
  }
  auto refs = ReferencedVariables("${TARGETPLATFORM#linux/} ${P//a/$V}");
  EXPECT_EQ(refs, (std::set<std::string>{"P", "TARGETPLATFORM", "V"}));
}

// What BuildKit's lexer refuses, and where the error points.
TEST(Expand, ModifierErrorsLikeBuildKit) {
  auto env = Env({{"A", "alpha"}, {"EMPTY", ""}});
  const struct {
    std::string text;
    std::string mentions;
    std::size_t offset;
  } cases[] = {
      {"${A:?}", "A: is not allowed to be empty", 99},  // A is set: no error (checked below)
      {"${EMPTY:?}", "EMPTY: is not allowed to be empty", 0},
      {"x${UNSET?}", "UNSET: is not allowed to be unset", 1},
      {"${UNSET:?give UNSET}", "UNSET: give UNSET", 0},
      {"${UNSET?${A}!}", "UNSET: alpha!", 0},
      {"${A/\\a/b}", "invalid escape '\\a'", 0},
      {"${A#x\\}", "missing '}'", 0},
      {"${A:#x}", "unsupported modifier ':#'", 0},
      {"${A:%x}", "unsupported modifier ':%'", 0},
      {"${A/x}", "missing '/'", 0},
      {"${A//x}", "missing '/'", 0},
      {"${#A}", "unsupported modifier 'A'", 0},
      {"${A.b}", "unsupported modifier '.'", 0},
      {"${}", "bad substitution", 0},
      {"${:-x}", "bad substitution", 0},
      {"${{A}}", "bad substitution", 0},
      {"${A", "missing '}'", 0},
  };
  for (const auto& c : cases) {
    std::size_t off = 12345;
    auto r = ExpandWord(c.text, env, {}, &off);
    if (c.offset == 99) {
      ASSERT_TRUE(r) << c.text;
      EXPECT_EQ(r->value, "alpha");
      continue;
    }
    ASSERT_FALSE(r) << c.text << " gave " << r->value;
    EXPECT_NE(r.error().message().find(c.mentions), std::string::npos)
        << c.text << ": " << r.error().message();
    EXPECT_EQ(off, c.offset) << c.text;
  }
}

TEST(Expand, WordsSplitUnquotedExpansions) {
  auto env = Env({{"S", "a b"}, {"D", "/dst"}});
  auto r = ExpandWords("$S \"$S\" x${S}y $D", env);
  ASSERT_TRUE(r);
  std::vector<std::string> want = {"a", "b", "a b", "xa", "by", "/dst"};
  EXPECT_EQ(*r, want);
  auto q = ExpandWords("'a b' c\\ d \"\"", env);
  ASSERT_TRUE(q);
  std::vector<std::string> want2 = {"a b", "c d"};  // "" is no word, as in BuildKit
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

// The shell patterns of ${VAR#pattern}, ${VAR##pattern}, ${VAR%pattern}, ${VAR%%pattern},
// ${VAR/pattern/replacement} and ${VAR//pattern/replacement}, with the rules BuildKit's lexer
// applies (it turns the pattern into a Go regular expression, and these functions give the
// same results without one):
//   *  any run of characters, ?  one character (neither crosses a newline, as Go's "." does
//   not); everything else is literal, including "[" (BuildKit has no bracket expressions);
//   \* \? \\ are the literal characters; \} and \/ are } and / (the escape only kept them from
//   ending the ${...}); any other escape is an error.
// Matching picks what a backtracking matcher finds first: the leftmost start, then the
// shortest (#, %) or longest (##, %%, /, //) run for each * from left to right. % and %% match
// from the end by reversing the pattern and the value. // replaces every non-overlapping
// match, skipping an empty match right after the previous one, and reads "$$", "$0" (the
// match) and "$name"/"${name}" (empty) in the replacement as Go's Regexp.ReplaceAllString does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace anyarch::dockerfile {

struct ShellPattern {
  enum class Kind { kLiteral, kAny, kStar };
  struct Token {
    Kind kind = Kind::kLiteral;
    char c = 0;  // kLiteral
  };
  std::vector<Token> tokens;
};

// Parses a pattern with its escapes still in it. kInvalid "invalid escape '\x'" for an escape
// other than \* \? \\ \} \/ (also a lone "\" at the end).
Result<ShellPattern> ParseShellPattern(std::string_view raw);

// ${VAR#p} (greedy: ${VAR##p}): `value` without the matching prefix.
std::string TrimPatternPrefix(const std::string& value, const ShellPattern& pattern, bool greedy);
// ${VAR%p} (greedy: ${VAR%%p}): `value` without the matching suffix.
std::string TrimPatternSuffix(const std::string& value, const ShellPattern& pattern, bool greedy);
// ${VAR/p/r} (all: ${VAR//p/r}).
std::string ReplacePattern(const std::string& value, const ShellPattern& pattern,
                           const std::string& replacement, bool all);

}  // namespace anyarch::dockerfile

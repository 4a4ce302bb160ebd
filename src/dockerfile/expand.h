// Variable expansion and word splitting with the rules BuildKit's shell lexer applies to
// Dockerfile arguments (not a full POSIX shell):
//   $NAME and ${NAME}; ${NAME:-word} (unset or empty -> word), ${NAME-word} (unset -> word),
//   ${NAME:+word} (set and non-empty -> word), ${NAME+word} (set -> word), ${NAME:?msg} and
//   ${NAME?msg} (an error with msg, or "is not allowed to be unset/empty", when unset[/empty]);
//   ${NAME#p} ${NAME##p} ${NAME%p} ${NAME%%p} ${NAME/p/r} ${NAME//p/r} with the patterns of
//   pattern.h; words may nest further expansions.
//   Single quotes are literal; double quotes expand; the escape character (\ or `) makes the
//   next character literal, and inside double quotes only before ", $ or itself; an escape
//   character at the end of the text is dropped. Quotes are removed from the result. An unset
//   variable expands to the empty string.
//   The bodies of unquoted COPY/ADD heredocs are expanded in the "raw" mode BuildKit uses for
//   them: quotes are ordinary characters, only $ and the escape character are special.
// Traps BuildKit's lexer has and this one shares: "$" not followed by a name stays a literal
// "$"; positional parameters are digits only ("$1x" is $1 then "x"); the special parameters
// $@ $* $# $? $- $$ $! $0 (also ${#:-x}, ${$:+x}) are never set, so they expand to nothing with
// their modifiers applied; "${" followed by "{", "}" or ":" is a bad substitution; other
// modifiers (${A:=w}, ${#A}, ${A:#p}) are errors; pattern and replacement words keep their
// escapes for the pattern parser. An unterminated quote or brace is an error. Errors give the
// byte offset of the offending quote or "$" through `error_offset`, so callers can point at the
// line and column. Splitting never yields an empty word (COPY "" /dst has one argument).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace anyarch::dockerfile {

// Returns the value of a variable, or nullopt when it is not set.
using Lookup = std::function<std::optional<std::string>(const std::string& name)>;

struct ExpandOptions {
  char escape = '\\';
  bool expand = true;          // false: only quote and escape processing
  bool process_quotes = true;  // false: quotes are literal (heredoc bodies of COPY and ADD)
};

struct ExpandResult {
  std::string value;
  std::set<std::string> referenced;  // every variable name the text referred to
};

// Expands one word (quotes removed, no splitting). kInvalid on malformed input or a failed
// ${NAME?msg}; then *error_offset (when given) is the byte offset of the quote or "$" at fault.
Result<ExpandResult> ExpandWord(std::string_view text, const Lookup& lookup,
                                const ExpandOptions& options = {},
                                std::size_t* error_offset = nullptr);

// Splits on unquoted whitespace and expands each word; unquoted expansion results are split on
// whitespace too, as Docker does for ADD/COPY/EXPOSE/VOLUME arguments.
// Errors as for ExpandWord.
Result<std::vector<std::string>> ExpandWords(std::string_view text, const Lookup& lookup,
                                             std::set<std::string>* referenced = nullptr,
                                             const ExpandOptions& options = {},
                                             std::size_t* error_offset = nullptr);

// The variable names `text` refers to, without evaluating (for lint). The shell's own modifiers
// (${A#p}, ${A%p}, ${A/p/r}, ${A:=w}) count as references; malformed text gives the names found
// before the problem.
std::set<std::string> ReferencedVariables(std::string_view text, char escape = '\\');
std::set<std::string> ReferencedVariables(std::string_view text, const ExpandOptions& options);

// Splits on unquoted whitespace, keeping quotes and escapes in the words (for flags and
// key=value lists that are expanded later). Each word comes with its byte offset in `text`.
struct RawWord {
  std::string text;
  std::size_t offset = 0;
};
std::vector<RawWord> SplitRawWords(std::string_view text, char escape = '\\');

}  // namespace anyarch::dockerfile

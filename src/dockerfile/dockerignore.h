// .dockerignore patterns with Docker's semantics (moby/patternmatcher):
// - one pattern per line; lines starting with '#' are comments; surrounding space is trimmed;
// - a leading '!' makes an exception (re-includes what earlier patterns excluded);
// - patterns are cleaned like Go's filepath.Clean, and a leading '/' is dropped (the context
//   root is the root); a pattern that climbs out of the context ("../foo") matches nothing;
// - '*' and '?' match within a path component, '[...]' is a character class and '\' quotes
//   the next character; "**" matches any number of characters including '/': "**/" and a "**"
//   inside the pattern match zero or more whole directories ("a/**/b" matches "a/b" and
//   "a/x/y/b"), a trailing "**" matches everything below, and a pattern that starts with "**"
//   followed by plain text matches every path ending in that text ("**.go" matches
//   "cmd/main.go"), as moby/patternmatcher does;
// - a pattern that matches a directory also excludes everything below it;
// - the last pattern that matches decides.
// Also: Dockerfile.dockerignore (<name>.dockerignore next to the Dockerfile) takes precedence
// over the context's .dockerignore.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace anyarch::dockerfile {

class IgnoreMatcher {
 public:
  // One element of a compiled pattern (internal).
  struct Token {
    enum class Kind { kChar, kStar, kQuestion, kAnyDirs, kAnyAll, kClass } kind = Kind::kChar;
    char c = 0;
    bool negate = false;                        // kClass: [^...]
    std::vector<std::pair<char, char>> ranges;  // kClass
  };

  struct Pattern {
    std::string text;  // cleaned
    std::vector<std::string> parts;
    bool exception = false;
    int line = 0;
    // How it matches (internal): the text exactly, as a prefix, as a suffix, or the tokens.
    enum class Type { kExact, kPrefix, kSuffix, kGlob } type = Type::kExact;
    std::vector<Token> tokens;
    bool valid = true;
  };

  // kInvalid (with the line) for a malformed pattern, e.g. an unterminated '[' or a lone '!'.
  static Result<IgnoreMatcher> Parse(std::string_view text,
                                     std::string_view filename = ".dockerignore");

  // Loads <dockerfile>.dockerignore if it exists, else <context>/.dockerignore, else an empty
  // matcher. `source` says which file was used (empty for none).
  static Result<IgnoreMatcher> ForBuild(const std::string& context_dir,
                                        const std::string& dockerfile_path);

  // True when `path` (relative to the context, '/'-separated) is excluded from the context.
  bool Excluded(std::string_view path) const;

  const std::vector<Pattern>& patterns() const { return patterns_; }
  const std::string& source() const { return source_; }

 private:
  std::vector<Pattern> patterns_;
  std::string source_;
};

// filepath.Clean for '/'-separated relative paths: collapses "//", removes "." and resolves
// ".." lexically (never above the start), drops a leading "/". Empty -> ".".
std::string CleanPath(std::string_view path);

// Go's path.Clean: a relative path keeps the ".." that climb above its start ("../foo" stays
// "../foo"); a rooted one drops them ("/.." is "/"). Empty -> ".".
std::string GoClean(std::string_view path);

}  // namespace anyarch::dockerfile

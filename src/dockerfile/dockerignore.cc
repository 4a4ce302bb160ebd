#include "dockerfile/dockerignore.h"

#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"

namespace anyarch::dockerfile {

std::string CleanPath(std::string_view path) {
  std::vector<std::string> out;
  for (const auto& part : Split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      }
      // ".." above the root of a relative path is dropped: the context root is the top.
      continue;
    }
    out.push_back(part);
  }
  if (out.empty()) return ".";
  return Join(out, "/");
}

std::string GoClean(std::string_view path) {
  bool rooted = !path.empty() && path.front() == '/';
  std::vector<std::string> out;
  for (const auto& part : Split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(part);
      }
      continue;
    }
    out.push_back(part);
  }
  std::string joined = Join(out, "/");
  if (rooted) return "/" + joined;
  return joined.empty() ? "." : joined;
}

namespace {

using Token = IgnoreMatcher::Token;
using Pattern = IgnoreMatcher::Pattern;

// Checks that a component is a valid filepath.Match pattern (balanced brackets, no trailing
// backslash).
bool ValidComponent(const std::string& c) {
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c[i] == '\\') {
      if (i + 1 >= c.size()) return false;
      ++i;
    } else if (c[i] == '[') {
      std::size_t j = i + 1;
      if (j < c.size() && (c[j] == '^' || c[j] == '!')) ++j;
      if (j < c.size() && c[j] == ']') ++j;
      while (j < c.size() && c[j] != ']') ++j;
      if (j >= c.size()) return false;
      i = j;
    }
  }
  return true;
}

// Reads a character class at p[pos] == '['; returns false when it is not closed. As in Go's
// regexp (which moby/patternmatcher hands the class to): "^" negates, "a-z" is a range, '\'
// quotes, a ']' right after the opening is a member.
bool ReadClass(const std::string& p, std::size_t& pos, Token& t) {
  t.kind = Token::Kind::kClass;
  ++pos;
  if (pos < p.size() && p[pos] == '^') {
    t.negate = true;
    ++pos;
  }
  bool first = true;
  while (pos < p.size() && (p[pos] != ']' || first)) {
    first = false;
    char lo = p[pos++];
    if (lo == '\\' && pos < p.size()) lo = p[pos++];
    char hi = lo;
    if (pos + 1 < p.size() && p[pos] == '-' && p[pos + 1] != ']') {
      hi = p[pos + 1];
      pos += 2;
      if (hi == '\\' && pos < p.size()) hi = p[pos++];
    }
    t.ranges.emplace_back(lo, hi);
  }
  if (pos >= p.size()) return false;
  ++pos;  // ']'
  return true;
}

// Compiles a cleaned pattern the way moby/patternmatcher does.
void Compile(Pattern& pat) {
  const std::string& p = pat.text;
  pat.type = Pattern::Type::kExact;
  pat.tokens.clear();
  auto glob = [&] { pat.type = Pattern::Type::kGlob; };
  std::size_t pos = 0;
  bool at_start = true;
  while (pos < p.size()) {
    char ch = p[pos++];
    bool first = at_start;
    at_start = false;
    Token t;
    if (ch == '*') {
      if (pos < p.size() && p[pos] == '*') {
        ++pos;
        if (pos < p.size() && p[pos] == '/') ++pos;
        if (pos >= p.size()) {
          // A trailing "**": everything below. Plain text before it is a prefix.
          if (pat.type == Pattern::Type::kExact) {
            pat.type = Pattern::Type::kPrefix;
          } else {
            glob();
          }
          t.kind = Token::Kind::kAnyAll;
        } else {
          glob();
          t.kind = Token::Kind::kAnyDirs;
        }
        if (first) pat.type = Pattern::Type::kSuffix;
      } else {
        glob();
        t.kind = Token::Kind::kStar;
      }
    } else if (ch == '?') {
      glob();
      t.kind = Token::Kind::kQuestion;
    } else if (ch == '\\') {
      t.c = '\\';
      if (pos < p.size()) {
        t.c = p[pos++];
        glob();
      }
    } else if (ch == '[') {
      glob();
      --pos;
      if (!ReadClass(p, pos, t)) {
        pat.valid = false;
        return;
      }
    } else {
      if (ch == ']') glob();
      t.c = ch;
    }
    pat.tokens.push_back(std::move(t));
  }
}

bool ClassMatches(const Token& t, char c) {
  bool in = false;
  for (const auto& [lo, hi] : t.ranges) {
    if (static_cast<unsigned char>(c) >= static_cast<unsigned char>(lo) &&
        static_cast<unsigned char>(c) <= static_cast<unsigned char>(hi)) {
      in = true;
    }
  }
  return in != t.negate;
}

// Whether the tokens match all of `s`. Dynamic programming over (token, position), so no
// pattern can make it take more than tokens x length steps.
bool GlobMatch(const std::vector<Token>& tokens, std::string_view s) {
  const std::size_t n = tokens.size(), m = s.size();
  std::vector<char> dp((n + 1) * (m + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> char& { return dp[i * (m + 1) + j]; };
  at(n, m) = 1;
  for (std::size_t i = n; i-- > 0;) {
    const Token& t = tokens[i];
    bool slash_then_rest = false;  // some k >= j with s[k] == '/' and the rest matching s[k+1..]
    for (std::size_t j = m + 1; j-- > 0;) {
      bool ok = false;
      bool more = j < m;
      switch (t.kind) {
        case Token::Kind::kChar:
          ok = more && s[j] == t.c && at(i + 1, j + 1);
          break;
        case Token::Kind::kQuestion:
          ok = more && s[j] != '/' && at(i + 1, j + 1);
          break;
        case Token::Kind::kClass:
          ok = more && ClassMatches(t, s[j]) && at(i + 1, j + 1);
          break;
        case Token::Kind::kStar:
          ok = at(i + 1, j) || (more && s[j] != '/' && at(i, j + 1));
          break;
        case Token::Kind::kAnyAll:
          ok = at(i + 1, j) || (more && at(i, j + 1));
          break;
        case Token::Kind::kAnyDirs:
          if (more && s[j] == '/' && at(i + 1, j + 1)) slash_then_rest = true;
          ok = at(i + 1, j) || slash_then_rest;
          break;
      }
      at(i, j) = ok;
    }
  }
  return at(0, 0);
}

bool PatternMatches(const Pattern& p, std::string_view path) {
  if (!p.valid) return false;
  switch (p.type) {
    case Pattern::Type::kExact:
      return path == p.text;
    case Pattern::Type::kPrefix:
      return path.substr(0, p.text.size() - 2) ==
             std::string_view(p.text).substr(0, p.text.size() - 2);
    case Pattern::Type::kSuffix: {
      std::string_view suffix = std::string_view(p.text).substr(2);
      if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix)
        return true;
      // "**/foo" matches "foo".
      return !suffix.empty() && suffix.front() == '/' && path == suffix.substr(1);
    }
    case Pattern::Type::kGlob:
      return GlobMatch(p.tokens, path);
  }
  return false;
}

}  // namespace

Result<IgnoreMatcher> IgnoreMatcher::Parse(std::string_view text, std::string_view filename) {
  IgnoreMatcher m;
  int lineno = 0;
  for (auto& raw : Split(text, '\n')) {
    ++lineno;
    std::string line(TrimSpace(raw));
    if (line.empty() || line[0] == '#') continue;
    Pattern p;
    p.line = lineno;
    if (line[0] == '!') {
      p.exception = true;
      line = std::string(TrimSpace(line.substr(1)));
      if (line.empty()) {
        return MakeError(ErrorCode::kInvalid, std::string(filename) + ":" + std::to_string(lineno) +
                                                  ": \"!\" must be followed by a pattern");
      }
    }
    p.text = GoClean(line);
    if (p.text.size() > 1 && p.text.front() == '/') p.text.erase(0, 1);
    p.parts = Split(p.text, '/');
    for (const auto& part : p.parts) {
      if (!ValidComponent(part)) {
        return MakeError(ErrorCode::kInvalid, std::string(filename) + ":" + std::to_string(lineno) +
                                                  ": malformed pattern \"" + line +
                                                  "\" (unterminated '[' or trailing '\\')");
      }
    }
    Compile(p);
    m.patterns_.push_back(std::move(p));
  }
  return m;
}

Result<IgnoreMatcher> IgnoreMatcher::ForBuild(const std::string& context_dir,
                                              const std::string& dockerfile_path) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (!dockerfile_path.empty()) candidates.push_back(fs::path(dockerfile_path + ".dockerignore"));
  candidates.push_back(fs::path(context_dir) / ".dockerignore");
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!fs::is_regular_file(c, ec)) continue;
    ANYARCH_TRY(std::string text, ReadFile(c, 1 << 20));
    ANYARCH_TRY(IgnoreMatcher m, Parse(text, c.string()));
    m.source_ = c.string();
    return m;
  }
  return IgnoreMatcher();
}

bool IgnoreMatcher::Excluded(std::string_view path) const {
  std::string clean = CleanPath(path);
  if (clean == ".") return false;
  bool excluded = false;
  for (const auto& p : patterns_) {
    // The pattern matches the path itself or one of its parent directories.
    bool match = PatternMatches(p, clean);
    for (std::size_t k = 0; !match && (k = clean.find('/', k)) != std::string::npos; ++k) {
      match = PatternMatches(p, std::string_view(clean).substr(0, k));
    }
    if (match) excluded = !p.exception;
  }
  return excluded;
}

}  // namespace anyarch::dockerfile

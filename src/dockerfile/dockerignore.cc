#include "dockerfile/dockerignore.h"

#include <fnmatch.h>

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

namespace {

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

bool MatchParts(const std::vector<std::string>& pat, std::size_t pi,
                const std::vector<std::string>& path, std::size_t si) {
  if (pi == pat.size()) return si == path.size();
  if (pat[pi] == "**") {
    // Zero or more components.
    for (std::size_t k = si; k <= path.size(); ++k) {
      if (MatchParts(pat, pi + 1, path, k)) return true;
    }
    return false;
  }
  if (si == path.size()) return false;
  std::string p = pat[pi];
  // Go's '[^...]' negation is '[!...]' for fnmatch.
  for (std::size_t i = 0; i + 1 < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
    } else if (p[i] == '[' && p[i + 1] == '^') {
      p[i + 1] = '!';
    }
  }
  if (::fnmatch(p.c_str(), path[si].c_str(), 0) != 0) return false;
  return MatchParts(pat, pi + 1, path, si + 1);
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
    p.text = CleanPath(line);
    p.parts = Split(p.text, '/');
    for (const auto& part : p.parts) {
      if (!ValidComponent(part)) {
        return MakeError(ErrorCode::kInvalid, std::string(filename) + ":" + std::to_string(lineno) +
                                                  ": malformed pattern \"" + line +
                                                  "\" (unterminated '[' or trailing '\\')");
      }
    }
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
  auto parts = Split(clean, '/');
  bool excluded = false;
  for (const auto& p : patterns_) {
    bool match = false;
    // The pattern matches the path itself or one of its parent directories.
    for (std::size_t n = 1; n <= parts.size() && !match; ++n) {
      std::vector<std::string> prefix(parts.begin(), parts.begin() + static_cast<long>(n));
      match = MatchParts(p.parts, 0, prefix, 0);
    }
    if (match) excluded = !p.exception;
  }
  return excluded;
}

}  // namespace anyarch::dockerfile

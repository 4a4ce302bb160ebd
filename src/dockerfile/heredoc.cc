#include "dockerfile/heredoc.h"

#include <cctype>
#include <optional>

#include "dockerfile/expand.h"

namespace anyarch::dockerfile {
namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

struct Span {
  std::size_t offset = 0;
  std::size_t size = 0;
};

// BuildKit's raw-mode words: split at unquoted blanks, "\" escapes the next character outside
// single quotes, and an unquoted "<<" takes the blanks after it into its word. nullopt when a
// quote is not closed (BuildKit's lexer fails on the line and finds no heredocs in it).
std::optional<std::vector<Span>> RawWords(std::string_view s) {
  std::vector<Span> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    if (i >= s.size()) break;
    Span w{i, 0};
    while (i < s.size() && !IsBlank(s[i])) {
      char c = s[i];
      if (c == '\\') {
        i += 2;
      } else if (c == '\'' || c == '"') {
        std::size_t close = i + 1;
        while (close < s.size() && s[close] != c) {
          if (c == '"' && s[close] == '\\') ++close;
          ++close;
        }
        if (close >= s.size()) return std::nullopt;
        i = close + 1;
      } else if (c == '<' && i + 1 < s.size() && s[i + 1] == '<') {
        i += 2;
        while (i < s.size() && IsBlank(s[i])) ++i;
      } else {
        ++i;
      }
    }
    if (i > s.size()) i = s.size();
    w.size = i - w.offset;
    out.push_back(w);
  }
  return out;
}

// True when a quote character in `s` quotes something (not escaped), which is what BuildKit
// detects by counting quotes with and without quote removal.
bool UsesQuotes(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '\'' || s[i] == '"') {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::vector<HeredocMarker>> FindHeredocMarkers(std::string_view args) {
  std::vector<HeredocMarker> out;
  if (args.find("<<") == std::string_view::npos) return out;
  auto words = RawWords(args);
  if (!words) return out;
  for (const Span& w : *words) {
    std::string_view word = args.substr(w.offset, w.size);
    // [digits]<<[-][blanks]rest, rest without '<'.
    std::size_t k = 0;
    while (k < word.size() && std::isdigit(static_cast<unsigned char>(word[k]))) ++k;
    if (word.substr(k, 2) != "<<") continue;
    HeredocMarker m;
    std::string_view digits = word.substr(0, k);
    // BuildKit ignores a descriptor that does not fit (it keeps 0).
    if (!digits.empty() && digits.size() <= 9)
      m.fd = static_cast<unsigned>(std::stoul(std::string(digits)));
    k += 2;
    if (k < word.size() && word[k] == '-') {
      m.chomp = true;
      ++k;
    }
    while (k < word.size() && IsBlank(word[k])) ++k;
    std::string_view rest = word.substr(k);
    if (rest.empty() || rest.find('<') != std::string_view::npos) continue;
    // The name is what the shell makes of `rest`, variables left as written; it must be one
    // word ("<<'one two'" is, "<<one two" never gets here as one word).
    std::size_t bad = 0;
    auto names =
        ExpandWords(rest, nullptr, nullptr, ExpandOptions{.escape = '\\', .expand = false}, &bad);
    if (!names) {
      return Unexpected(Error(ErrorCode::kInvalid, "heredoc delimiter " + std::string(rest) + ": " +
                                                       names.error().message()));
    }
    if (names->size() != 1) continue;
    m.name = (*names)[0];
    m.expand = !UsesQuotes(rest);
    m.offset = w.offset;
    m.size = w.size;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace anyarch::dockerfile

#include "dockerfile/pattern.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace anyarch::dockerfile {
namespace {

using Kind = ShellPattern::Kind;

// The length of the UTF-8 sequence at s[i]; 1 for a byte that does not start a valid one (Go
// counts such a byte as one rune too).
std::size_t RuneLen(std::string_view s, std::size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80           ? 1
                  : (b >> 5) == 0x6  ? 2
                  : (b >> 4) == 0xE  ? 3
                  : (b >> 3) == 0x1E ? 4
                                     : 1;
  if (i + n > s.size()) return 1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

std::string ReverseRunes(std::string_view s) {
  std::vector<std::string_view> runes;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = RuneLen(s, i);
    runes.push_back(s.substr(i, n));
    i += n;
  }
  std::string out;
  out.reserve(s.size());
  for (auto it = runes.rbegin(); it != runes.rend(); ++it) out += *it;
  return out;
}

// A backtracking matcher anchored at `start`, trying each * shortest-first (lazy) or
// longest-first (greedy), which is the match Go's leftmost-first regexp engine reports. Results
// per (token, position) are memoised, so a value is scanned O(tokens * length^2) at worst.
class Matcher {
 public:
  Matcher(std::string_view value, const ShellPattern& p, bool greedy)
      : v_(value), t_(p.tokens), greedy_(greedy), memo_((t_.size() + 1) * (v_.size() + 1), -2) {}

  // The end of the match starting at `start`, or nullopt.
  std::optional<std::size_t> MatchAt(std::size_t start) {
    long r = Match(0, start);
    if (r < 0) return std::nullopt;
    return static_cast<std::size_t>(r);
  }

 private:
  long Match(std::size_t ti, std::size_t pos) {
    if (ti == t_.size()) return static_cast<long>(pos);
    long& m = memo_[ti * (v_.size() + 1) + pos];
    if (m != -2) return m;
    m = -1;
    const auto& tok = t_[ti];
    switch (tok.kind) {
      case Kind::kLiteral:
        if (pos < v_.size() && v_[pos] == tok.c) m = Match(ti + 1, pos + 1);
        break;
      case Kind::kAny:
        if (pos < v_.size() && v_[pos] != '\n') m = Match(ti + 1, pos + RuneLen(v_, pos));
        break;
      case Kind::kStar: {
        std::vector<std::size_t> ends = {pos};
        for (std::size_t p = pos; p < v_.size() && v_[p] != '\n';) {
          p += RuneLen(v_, p);
          ends.push_back(p);
        }
        if (greedy_) std::reverse(ends.begin(), ends.end());
        for (std::size_t e : ends) {
          long r = Match(ti + 1, e);
          if (r >= 0) {
            m = r;
            break;
          }
        }
        break;
      }
    }
    return m;
  }

  std::string_view v_;
  const std::vector<ShellPattern::Token>& t_;
  bool greedy_;
  std::vector<long> memo_;
};

// The leftmost match at or after `from`: [start, end).
// `m` is reused across calls: what matches at a position does not depend on where the search
// started.
std::optional<std::pair<std::size_t, std::size_t>> FindFrom(Matcher& m, std::string_view value,
                                                            std::size_t from) {
  for (std::size_t s = from; s <= value.size();) {
    if (auto e = m.MatchAt(s)) return std::make_pair(s, *e);
    if (s == value.size()) break;
    s += RuneLen(value, s);
  }
  return std::nullopt;
}

bool IsGoNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Go's Regexp.Expand for a regexp without groups: "$$" is "$", "$0"/"${0}" the match, any other
// "$name"/"${name}" nothing, a "$" that starts no name stays.
std::string ExpandTemplate(std::string_view tmpl, std::string_view match) {
  std::string out;
  while (!tmpl.empty()) {
    std::size_t i = tmpl.find('$');
    if (i == std::string_view::npos) {
      out += tmpl;
      break;
    }
    out += tmpl.substr(0, i);
    tmpl.remove_prefix(i);
    if (tmpl.size() > 1 && tmpl[1] == '$') {
      out += '$';
      tmpl.remove_prefix(2);
      continue;
    }
    bool brace = tmpl.size() > 1 && tmpl[1] == '{';
    std::size_t n = brace ? 2 : 1;
    std::size_t k = n;
    while (k < tmpl.size() && IsGoNameChar(tmpl[k])) ++k;
    bool ok = k > n && (!brace || (k < tmpl.size() && tmpl[k] == '}'));
    if (!ok) {
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view name = tmpl.substr(n, k - n);
    tmpl.remove_prefix(brace ? k + 1 : k);
    // Only group 0 exists; a number with leading zeros is still that number ("$00" is the
    // match).
    if (std::all_of(name.begin(), name.end(), [](char c) { return c == '0'; })) out += match;
  }
  return out;
}

}  // namespace

Result<ShellPattern> ParseShellPattern(std::string_view raw) {
  ShellPattern p;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '*') {
      p.tokens.push_back({Kind::kStar});
    } else if (c == '?') {
      p.tokens.push_back({Kind::kAny});
    } else if (c == '\\') {
      char n = i + 1 < raw.size() ? raw[i + 1] : 0;
      if (n == '}' || n == '/') continue;  // the next character is taken as a literal below
      if (n != '*' && n != '?' && n != '\\') {
        return MakeError(ErrorCode::kInvalid,
                         n ? "invalid escape '\\" + std::string(1, n) + "'"
                           : std::string("invalid escape '\\' at the end of the pattern"));
      }
      p.tokens.push_back({Kind::kLiteral, n});
      ++i;
    } else {
      p.tokens.push_back({Kind::kLiteral, c});
    }
  }
  return p;
}

std::string TrimPatternPrefix(const std::string& value, const ShellPattern& pattern, bool greedy) {
  Matcher m(value, pattern, greedy);
  if (auto e = m.MatchAt(0)) return value.substr(*e);
  return value;
}

std::string TrimPatternSuffix(const std::string& value, const ShellPattern& pattern, bool greedy) {
  ShellPattern reversed = pattern;
  std::reverse(reversed.tokens.begin(), reversed.tokens.end());
  return ReverseRunes(TrimPatternPrefix(ReverseRunes(value), reversed, greedy));
}

std::string ReplacePattern(const std::string& value, const ShellPattern& pattern,
                           const std::string& replacement, bool all) {
  Matcher matcher(value, pattern, /*greedy=*/true);
  if (!all) {
    auto m = FindFrom(matcher, value, 0);
    if (!m) return value;
    return value.substr(0, m->first) + replacement + value.substr(m->second);
  }
  // Go's replaceAll loop: never a second replacement for an empty match right after a match,
  // and always at least one character further.
  std::string out;
  std::size_t last_end = 0;
  std::size_t search = 0;
  while (search <= value.size()) {
    auto m = FindFrom(matcher, value, search);
    if (!m) break;
    out += value.substr(last_end, m->first - last_end);
    if (m->second > last_end || m->first == 0) {
      out += ExpandTemplate(replacement,
                            std::string_view(value).substr(m->first, m->second - m->first));
    }
    last_end = m->second;
    std::size_t width = search < value.size() ? RuneLen(value, search) : 0;
    if (search + width > m->second) {
      search += width;
    } else if (search + 1 > m->second) {
      ++search;
    } else {
      search = m->second;
    }
  }
  out += value.substr(last_end);
  return out;
}

}  // namespace anyarch::dockerfile

#include "dockerfile/expand.h"

#include <cctype>

#include "dockerfile/pattern.h"

namespace anyarch::dockerfile {
namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// One piece of output: text, and whether it came from an unquoted expansion (and may be split).
struct Piece {
  std::string text;
  bool splittable = false;
};

class Lexer {
 public:
  // `tolerant`: only collect names; modifiers BuildKit does not have (${A:=w}, ${#A} ...) and
  // bad patterns are skipped instead of being errors, so the names after them are found too.
  Lexer(std::string_view text, const Lookup& lookup, const ExpandOptions& options,
        std::set<std::string>& referenced, bool tolerant = false)
      : s_(text), lookup_(lookup), opt_(options), referenced_(referenced), tolerant_(tolerant) {}

  // Processes the whole input as one word sequence. When `split` is set, unquoted whitespace
  // ends a word.
  Result<std::vector<std::vector<Piece>>> Run(bool split) {
    std::vector<std::vector<Piece>> words;
    std::vector<Piece> cur;
    bool in_word = false;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (split && IsSpace(c)) {
        if (in_word) words.push_back(std::move(cur));
        cur.clear();
        in_word = false;
        ++pos_;
        continue;
      }
      in_word = true;
      if (c == opt_.escape) {
        // An escape character at the very end escapes nothing and is dropped.
        ++pos_;
        if (pos_ < s_.size()) Add(cur, std::string(1, s_[pos_++]));
      } else if (c == '\'' && opt_.process_quotes) {
        ANYARCH_TRY(std::string t, SingleQuoted());
        Add(cur, t);
      } else if (c == '"' && opt_.process_quotes) {
        ANYARCH_TRY(std::string t, DoubleQuoted());
        Add(cur, t);
      } else if (c == '$' && opt_.expand) {
        ANYARCH_TRY(std::string t, Dollar());
        cur.push_back({t, true});
      } else {
        Add(cur, std::string(1, c));
        ++pos_;
      }
    }
    if (in_word) words.push_back(std::move(cur));
    return words;
  }

  // The offset of the quote or "$" the last error is about.
  std::size_t error_offset() const { return error_offset_; }

 private:
  static void Add(std::vector<Piece>& cur, std::string t) {
    if (!cur.empty() && !cur.back().splittable) {
      cur.back().text += t;
    } else {
      cur.push_back({std::move(t), false});
    }
  }

  Error Bad(std::size_t at, const std::string& why) {
    error_offset_ = at;
    return Error(ErrorCode::kInvalid, why);
  }

  // Reads the word of a ${...} modifier up to `stop` (consumed), with expansions and quotes
  // inside. `raw_escapes` keeps escape characters in the result (patterns and replacements:
  // the pattern parser gives them their meaning). kInvalid naming `stop` when it never comes.
  Result<std::string> StopOn(char stop, bool raw_escapes, std::size_t start) {
    bool saved = raw_escapes_;
    raw_escapes_ = raw_escapes;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != stop) {
      char c = s_[pos_];
      if (c == opt_.escape) {
        if (raw_escapes_) out.push_back(c);
        ++pos_;
        if (pos_ < s_.size()) out.push_back(s_[pos_++]);
      } else if (c == '\'' && opt_.process_quotes) {
        ANYARCH_TRY(std::string t, SingleQuoted());
        out += t;
      } else if (c == '"' && opt_.process_quotes) {
        ANYARCH_TRY(std::string t, DoubleQuoted());
        out += t;
      } else if (c == '$' && opt_.expand) {
        ANYARCH_TRY(std::string t, Dollar());
        out += t;
      } else {
        out.push_back(c);
        ++pos_;
      }
    }
    raw_escapes_ = saved;
    if (pos_ >= s_.size()) {
      return Unexpected(Bad(start, std::string("missing '") + stop + "' in ${...}"));
    }
    ++pos_;  // stop
    return out;
  }

  Result<std::string> SingleQuoted() {
    std::size_t start = pos_++;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '\'') out.push_back(s_[pos_++]);
    if (pos_ >= s_.size()) return Unexpected(Bad(start, "unterminated single quote"));
    ++pos_;
    return out;
  }

  Result<std::string> DoubleQuoted() {
    std::size_t start = pos_++;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_];
      if (c == opt_.escape) {
        if (raw_escapes_) out.push_back(c);
        if (pos_ + 1 < s_.size()) {
          char n = s_[pos_ + 1];
          if (n == '"' || n == '$' || n == opt_.escape) {
            out.push_back(n);
            pos_ += 2;
            continue;
          }
        }
        // Any other escape stays (in raw mode BuildKit writes it twice, and so does this).
        out.push_back(c);
        ++pos_;
      } else if (c == '$' && opt_.expand) {
        ANYARCH_TRY(std::string t, Dollar());
        out += t;
      } else {
        out.push_back(c);
        ++pos_;
      }
    }
    if (pos_ >= s_.size()) return Unexpected(Bad(start, "unterminated double quote"));
    ++pos_;
    return out;
  }

  // A variable's value. Positional ($1) and special ($@ $* $# $? $- $$ $! $0) parameters are
  // never set in a Dockerfile and are not variables anyone declares.
  std::optional<std::string> Get(const std::string& name) {
    if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
      return std::nullopt;
    }
    referenced_.insert(name);
    return lookup_ ? lookup_(name) : std::nullopt;
  }

  // After "$" or "${": a name, as BuildKit reads one: a run of digits (positional parameters
  // are digits only, so "$1x" is $1 then "x"), one special parameter character, or letters,
  // digits and '_'. Empty when none of those follows.
  std::string Name() {
    std::size_t begin = pos_;
    if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    } else if (pos_ < s_.size() &&
               std::string_view("@*#?-$!").find(s_[pos_]) != std::string_view::npos) {
      ++pos_;
    } else {
      while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    }
    return std::string(s_.substr(begin, pos_ - begin));
  }

  Result<std::string> Unsupported(std::size_t start, const std::string& name,
                                  const std::string& op) {
    return Unexpected(Bad(start, "bad substitution: unsupported modifier '" + op + "' in ${" +
                                     name + "...} (supported: :- - :+ + :? ? # ## % %% / //)"));
  }

  // Skips a modifier anyarch cannot evaluate up to its '}' (tolerant mode only).
  Result<std::string> Skip(std::size_t start) {
    ANYARCH_TRY(std::string ignored, StopOn('}', true, start));
    return std::string();
  }

  // At a '$'.
  Result<std::string> Dollar() {
    std::size_t start = pos_++;
    if (pos_ >= s_.size()) return std::string("$");
    if (s_[pos_] != '{') {
      std::string name = Name();
      if (name.empty()) return std::string("$");
      return Get(name).value_or("");
    }
    ++pos_;
    if (pos_ >= s_.size()) return Unexpected(Bad(start, "missing '}' in ${...}"));
    char first = s_[pos_];
    if (first == '{' || first == '}' || first == ':') {
      return Unexpected(Bad(start, "bad substitution: ${ must be followed by a variable name"));
    }
    std::string name = Name();
    if (pos_ >= s_.size()) return Unexpected(Bad(start, "missing '}' in ${...}"));
    char op = s_[pos_++];
    if (op == '}') return Get(name).value_or("");
    if (op == '/') {
      bool all = pos_ < s_.size() && s_[pos_] == '/';
      if (all) ++pos_;
      ANYARCH_TRY(std::string pattern, StopOn('/', true, start));
      ANYARCH_TRY(std::string replacement, StopOn('}', true, start));
      auto v = Get(name);
      auto p = ParseShellPattern(pattern);
      if (!p) {
        if (tolerant_) return std::string();
        return Unexpected(Bad(start, "invalid pattern (" + pattern + ") in ${" + name +
                                         "/...}: " + p.error().message()));
      }
      return ReplacePattern(v.value_or(""), *p, replacement, all);
    }
    bool colon = op == ':';
    std::string ops(1, op);
    if (colon) {
      if (pos_ >= s_.size()) return Unexpected(Bad(start, "missing '}' in ${...}"));
      op = s_[pos_++];
      ops += op;
    }
    bool pattern_op = op == '#' || op == '%';
    if (!colon && op != '-' && op != '+' && op != '?' && !pattern_op) {
      if (tolerant_) {
        Get(name);
        return Skip(start);
      }
      return Unsupported(start, name, ops);
    }
    if (colon && pattern_op) {
      if (tolerant_) {
        Get(name);
        return Skip(start);
      }
      return Unsupported(start, name, ops);
    }
    ANYARCH_TRY(std::string word, StopOn('}', pattern_op, start));
    auto v = Get(name);
    bool set = v.has_value();
    bool use = colon ? set && !v->empty() : set;
    switch (op) {
      case '-':
        return use ? *v : word;
      case '+':
        return use ? word : std::string();
      case '?':
        if (use) return *v;
        return Unexpected(Bad(start, name + ": " +
                                         (!word.empty() ? word
                                          : set         ? "is not allowed to be empty"
                                                        : "is not allowed to be unset")));
      case '#':
      case '%': {
        // One more '#' or '%' makes the match the longest instead of the shortest.
        bool greedy = !word.empty() && word[0] == op;
        if (greedy) word.erase(0, 1);
        auto p = ParseShellPattern(word);
        if (!p) {
          if (tolerant_) return std::string();
          return Unexpected(Bad(start, "invalid pattern (" + word + ") in ${" + name + ops +
                                           "...}: " + p.error().message()));
        }
        return op == '#' ? TrimPatternPrefix(v.value_or(""), *p, greedy)
                         : TrimPatternSuffix(v.value_or(""), *p, greedy);
      }
      default:
        if (tolerant_) return std::string();
        return Unsupported(start, name, ops);
    }
  }

  std::string_view s_;
  const Lookup& lookup_;
  ExpandOptions opt_;
  std::set<std::string>& referenced_;
  std::size_t pos_ = 0;
  std::size_t error_offset_ = 0;
  bool tolerant_ = false;
  bool raw_escapes_ = false;
};

}  // namespace

Result<ExpandResult> ExpandWord(std::string_view text, const Lookup& lookup,
                                const ExpandOptions& options, std::size_t* error_offset) {
  ExpandResult r;
  Lexer lx(text, lookup, options, r.referenced);
  auto run = lx.Run(/*split=*/false);
  if (!run) {
    if (error_offset) *error_offset = lx.error_offset();
    return Unexpected(std::move(run).error());
  }
  auto words = std::move(*run);
  for (auto& w : words) {
    for (auto& p : w) r.value += p.text;
  }
  return r;
}

Result<std::vector<std::string>> ExpandWords(std::string_view text, const Lookup& lookup,
                                             std::set<std::string>* referenced,
                                             const ExpandOptions& options,
                                             std::size_t* error_offset) {
  std::set<std::string> refs;
  Lexer lx(text, lookup, options, refs);
  auto run = lx.Run(/*split=*/true);
  if (!run) {
    if (error_offset) *error_offset = lx.error_offset();
    return Unexpected(std::move(run).error());
  }
  auto words = std::move(*run);
  if (referenced) referenced->insert(refs.begin(), refs.end());
  std::vector<std::string> out;
  for (auto& w : words) {
    // Splittable pieces break the word at whitespace; the rest glue to their neighbours.
    std::string cur;
    bool have = false;
    for (auto& p : w) {
      if (!p.splittable) {
        cur += p.text;
        have = true;
        continue;
      }
      for (char c : p.text) {
        if (IsSpace(c)) {
          if (have && !cur.empty()) out.push_back(cur);
          cur.clear();
          have = false;
        } else {
          cur.push_back(c);
          have = true;
        }
      }
    }
    // BuildKit's splitter never yields an empty word: COPY "" /dst has one argument.
    if (have && !cur.empty()) out.push_back(cur);
  }
  return out;
}

std::set<std::string> ReferencedVariables(std::string_view text, char escape) {
  return ReferencedVariables(text, ExpandOptions{.escape = escape});
}

std::set<std::string> ReferencedVariables(std::string_view text, const ExpandOptions& options) {
  std::set<std::string> refs;
  ExpandOptions opt = options;
  opt.expand = true;
  Lookup none = [](const std::string&) -> std::optional<std::string> { return std::string("x"); };
  Lexer lx(text, none, opt, refs, /*tolerant=*/true);
  (void)lx.Run(false);
  return refs;
}

std::vector<RawWord> SplitRawWords(std::string_view text, char escape) {
  std::vector<RawWord> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) break;
    RawWord w;
    w.offset = i;
    char quote = 0;
    while (i < text.size()) {
      char c = text[i];
      if (quote == 0 && IsSpace(c)) break;
      if (c == escape && quote != '\'' && i + 1 < text.size()) {
        w.text.push_back(c);
        w.text.push_back(text[i + 1]);
        i += 2;
        continue;
      }
      if (quote == 0 && (c == '"' || c == '\'')) {
        quote = c;
      } else if (quote == c) {
        quote = 0;
      }
      w.text.push_back(c);
      ++i;
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace anyarch::dockerfile

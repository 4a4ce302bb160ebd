#include "dockerfile/expand.h"

#include <cctype>

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
  // `tolerant`: only collect names; the shell's own modifiers (${A#p}, ${A%p}, ${A/p/r},
  // ${A:=w} ...) are skipped instead of being errors, so the names after them are found too.
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
        ++pos_;
        if (pos_ < s_.size()) {
          Add(cur, std::string(1, s_[pos_++]));
        } else {
          Add(cur, std::string(1, c));
        }
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

  // Reads a ${...} word up to the matching '}' (not consumed), with expansions inside.
  Result<std::string> BraceWord() {
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '}') {
      char c = s_[pos_];
      if (c == opt_.escape) {
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
    return out;
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
        if (pos_ + 1 < s_.size()) {
          char n = s_[pos_ + 1];
          if (n == '"' || n == '$' || n == opt_.escape) {
            out.push_back(n);
            pos_ += 2;
            continue;
          }
        }
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

  std::optional<std::string> Get(const std::string& name) {
    referenced_.insert(name);
    return lookup_ ? lookup_(name) : std::nullopt;
  }

  // At a '$'.
  Result<std::string> Dollar() {
    std::size_t start = pos_++;
    if (pos_ >= s_.size()) return std::string("$");
    char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      std::size_t name_start = pos_;
      while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
      std::string name(s_.substr(name_start, pos_ - name_start));
      if (name.empty() || pos_ >= s_.size()) {
        return Unexpected(Bad(
            start, pos_ >= s_.size() ? "missing '}' in ${...}"
                                     : "bad substitution: ${ must be followed by a variable name"));
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return Get(name).value_or("");
      }
      bool colon = false;
      if (s_[pos_] == ':') {
        colon = true;
        ++pos_;
      }
      if (pos_ >= s_.size()) return Unexpected(Bad(start, "missing '}' in ${...}"));
      char op = s_[pos_];
      if (op != '-' && op != '+' && op != '?' && tolerant_) {
        Get(name);
        ANYARCH_TRY(std::string ignored, BraceWord());
        if (pos_ >= s_.size()) return Unexpected(Bad(start, "missing '}' in ${...}"));
        ++pos_;  // '}'
        return std::string();
      }
      if (op != '-' && op != '+' && op != '?') {
        return Unexpected(Bad(start, "bad substitution: unsupported modifier '" +
                                         std::string(colon ? ":" : "") + std::string(1, op) +
                                         "' in ${" + name + "...} (supported: :- - :+ + :? ?)"));
      }
      ++pos_;
      ANYARCH_TRY(std::string word, BraceWord());
      if (pos_ >= s_.size()) return Unexpected(Bad(start, "missing '}' in ${...}"));
      ++pos_;  // '}'
      auto v = Get(name);
      bool set = v.has_value();
      bool nonempty = set && !v->empty();
      bool use = colon ? nonempty : set;
      switch (op) {
        case '-':
          return use ? *v : word;
        case '+':
          return use ? word : std::string();
        default:  // '?'
          if (use) return *v;
          return Unexpected(Bad(start, name + ": " + (word.empty() ? "is not set" : word)));
      }
    }
    if (IsNameChar(c)) {
      std::size_t name_start = pos_;
      while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
      return Get(std::string(s_.substr(name_start, pos_ - name_start))).value_or("");
    }
    return std::string("$");
  }

  std::string_view s_;
  const Lookup& lookup_;
  ExpandOptions opt_;
  std::set<std::string>& referenced_;
  std::size_t pos_ = 0;
  std::size_t error_offset_ = 0;
  bool tolerant_ = false;
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
          if (have) out.push_back(cur);
          cur.clear();
          have = false;
        } else {
          cur.push_back(c);
          have = true;
        }
      }
    }
    if (have) out.push_back(cur);
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

#include "dockerfile/parser.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "base/fs.h"
#include "base/json.h"
#include "base/strings.h"
#include "dockerfile/expand.h"
#include "dockerfile/heredoc.h"
#include "dockerfile/mounts.h"
#include "dockerfile/syntax_error.h"

namespace anyarch::dockerfile {

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kFrom:
      return "FROM";
    case Kind::kRun:
      return "RUN";
    case Kind::kCmd:
      return "CMD";
    case Kind::kEntrypoint:
      return "ENTRYPOINT";
    case Kind::kShell:
      return "SHELL";
    case Kind::kLabel:
      return "LABEL";
    case Kind::kEnv:
      return "ENV";
    case Kind::kArg:
      return "ARG";
    case Kind::kExpose:
      return "EXPOSE";
    case Kind::kVolume:
      return "VOLUME";
    case Kind::kUser:
      return "USER";
    case Kind::kWorkdir:
      return "WORKDIR";
    case Kind::kStopsignal:
      return "STOPSIGNAL";
    case Kind::kHealthcheck:
      return "HEALTHCHECK";
    case Kind::kAdd:
      return "ADD";
    case Kind::kCopy:
      return "COPY";
    case Kind::kOnbuild:
      return "ONBUILD";
    case Kind::kMaintainer:
      return "MAINTAINER";
  }
  return "?";
}

Instruction::Instruction(const Instruction& o)
    : kind(o.kind),
      keyword(o.keyword),
      pos(o.pos),
      end_line(o.end_line),
      flags(o.flags),
      args(o.args),
      args_pos(o.args_pos),
      args_where(o.args_where),
      json_form(o.json_form),
      json_args(o.json_args),
      heredocs(o.heredocs),
      original(o.original),
      onbuild(o.onbuild ? std::make_unique<Instruction>(*o.onbuild) : nullptr) {}

Instruction& Instruction::operator=(const Instruction& o) {
  if (this != &o) {
    Instruction tmp(o);
    *this = std::move(tmp);
  }
  return *this;
}

Position PositionIn(const std::vector<Position>& where, std::size_t offset, Position fallback) {
  if (where.empty()) return fallback;
  if (offset < where.size()) return where[offset];
  Position p = where.back();
  p.column += static_cast<int>(offset - where.size() + 1);
  return p;
}

Position Heredoc::BodyPos(std::size_t offset) const {
  Position p{body_line, 1};
  std::size_t line_start = 0;
  std::size_t index = 0;  // body line
  for (std::size_t i = 0; i < offset && i < body.size(); ++i) {
    if (body[i] == '\n') {
      ++p.line;
      ++index;
      line_start = i + 1;
    }
  }
  int tabs = index < tabs_stripped.size() ? tabs_stripped[index] : 0;
  p.column = static_cast<int>(offset - line_start) + 1 + tabs;
  return p;
}

std::vector<const Flag*> Instruction::FlagsNamed(const std::string& name) const {
  std::vector<const Flag*> out;
  for (const auto& f : flags) {
    if (f.name == name) out.push_back(&f);
  }
  return out;
}

const Flag* Instruction::FindFlag(const std::string& name) const {
  for (const auto& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

namespace {

struct FlagSpec {
  const char* name;
  bool boolean = false;  // --link, --link=true, --link=false
  bool repeatable = false;
};

struct KindSpec {
  const char* name;
  Kind kind;
  std::vector<FlagSpec> flags;
  bool exec_form = false;  // may take a JSON array
  bool heredoc = false;
};

const std::vector<KindSpec>& Specs() {
  static const std::vector<KindSpec> specs = {
      {"FROM", Kind::kFrom, {{"platform"}}},
      {"RUN", Kind::kRun, {{"mount", false, true}, {"network"}, {"security"}}, true, true},
      {"CMD", Kind::kCmd, {}, true},
      {"ENTRYPOINT", Kind::kEntrypoint, {}, true},
      {"SHELL", Kind::kShell, {}, true},
      {"LABEL", Kind::kLabel, {}},
      {"ENV", Kind::kEnv, {}},
      {"ARG", Kind::kArg, {}},
      {"EXPOSE", Kind::kExpose, {}},
      {"VOLUME", Kind::kVolume, {}, true},
      {"USER", Kind::kUser, {}},
      {"WORKDIR", Kind::kWorkdir, {}},
      {"STOPSIGNAL", Kind::kStopsignal, {}},
      {"HEALTHCHECK",
       Kind::kHealthcheck,
       {{"interval"}, {"timeout"}, {"start-period"}, {"start-interval"}, {"retries"}}},
      {"ADD",
       Kind::kAdd,
       {{"chown"},
        {"chmod"},
        {"checksum"},
        {"keep-git-dir", true},
        {"link", true},
        {"exclude", false, true}},
       true,
       true},
      {"COPY",
       Kind::kCopy,
       {{"from"},
        {"chown"},
        {"chmod"},
        {"link", true},
        {"parents", true},
        {"exclude", false, true}},
       true,
       true},
      {"ONBUILD", Kind::kOnbuild, {}},
      {"MAINTAINER", Kind::kMaintainer, {}},
  };
  return specs;
}

int EditDistance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A logical line: instruction text with continuation lines joined, and where each byte came
// from, so errors can point at the physical line and column.
struct Logical {
  std::string text;
  std::vector<Position> where;  // one per byte of text
  int first_line = 0;
  int last_line = 0;
  Position At(std::size_t offset) const { return PositionIn(where, offset, {first_line, 1}); }
  // The positions of text[offset, offset + size).
  std::vector<Position> Span(std::size_t offset, std::size_t size) const {
    std::vector<Position> out;
    out.reserve(size);
    for (std::size_t i = 0; i < size; ++i) out.push_back(At(offset + i));
    return out;
  }
};

bool IsBlank(std::string_view line) { return TrimSpace(line).empty(); }
bool IsComment(std::string_view line) {
  auto t = TrimSpace(line);
  return !t.empty() && t.front() == '#';
}

// Returns the line without a trailing escape character (and whitespace after it), and whether
// one was there. As in BuildKit, the escape character continues the line only when the
// character before it is not the escape character too (or it is alone on the line): a line
// ending in two escape characters ends there. BuildKit's rule cannot tell three (an escaped
// escape, then a continuation) from that either, and neither does this.
bool StripContinuation(std::string_view& line, char escape) {
  std::string_view t = line;
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  if (t.empty() || t.back() != escape) return false;
  if (t.size() >= 2 && t[t.size() - 2] == escape) return false;
  t.remove_suffix(1);
  line = t;
  return true;
}

bool IsSpaceChar(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// One "--name[=value]" word as BuildKit's flag extractor reads it: quotes are removed and "\"
// makes the next character literal (also inside quotes), so --chown="a b" is the value a b.
struct FlagWord {
  std::string text;
  std::vector<std::size_t> from;  // offset in the line of each byte of text
  std::size_t end = 0;            // offset after the word
};

FlagWord ReadFlagWord(std::string_view s, std::size_t p) {
  FlagWord w;
  char quote = 0;
  while (p < s.size()) {
    char c = s[p];
    if (!quote && IsSpaceChar(c)) break;
    if (!quote && (c == '\'' || c == '"')) {
      quote = c;
      ++p;
      continue;
    }
    if (quote && c == quote) {
      quote = 0;
      ++p;
      continue;
    }
    if (c == '\\') {
      if (p + 1 == s.size()) {
        ++p;  // a "\" at the end is dropped
        continue;
      }
      ++p;
      c = s[p];
    }
    w.text.push_back(c);
    w.from.push_back(p);
    ++p;
  }
  w.end = p;
  return w;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : opt_(options) {
    df_.filename = options.filename;
    // A UTF-8 byte order mark is not part of the first instruction (editors on Windows add it).
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    df_.source = std::string(text);
    std::size_t start = 0;
    while (start <= df_.source.size()) {
      std::size_t nl = df_.source.find('\n', start);
      std::string_view line =
          std::string_view(df_.source)
              .substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines_.push_back(line);
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    // A final newline does not make an extra line.
    if (!lines_.empty() && lines_.back().empty() && !df_.source.empty() &&
        df_.source.back() == '\n') {
      lines_.pop_back();
    }
  }

  Result<Dockerfile> Run() {
    ANYARCH_CHECK(Directives());
    while (i_ < lines_.size()) {
      std::string_view line = lines_[i_];
      if (IsBlank(line) || IsComment(line)) {
        ++i_;
        continue;
      }
      ANYARCH_TRY(Logical logical, Join());
      ANYARCH_TRY(Instruction inst, ParseInstruction(logical, 0, /*inside_onbuild=*/false));
      df_.instructions.push_back(std::move(inst));
    }
    return std::move(df_);
  }

 private:
  Error Err(Position pos, const std::string& message) {
    return SyntaxError(df_.filename, df_.source, pos, message);
  }

  Status Directives() {
    std::map<std::string, bool> seen;
    while (i_ < lines_.size()) {
      std::string_view line = TrimSpace(lines_[i_]);
      if (line.empty() || line.front() != '#') return Ok();
      std::string_view body = TrimSpace(line.substr(1));
      std::size_t eq = body.find('=');
      if (eq == std::string_view::npos) return Ok();
      std::string name = ToLower(TrimSpace(body.substr(0, eq)));
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
          })) {
        return Ok();
      }
      if (name != "syntax" && name != "escape" && name != "check") return Ok();
      std::string value(TrimSpace(body.substr(eq + 1)));
      Position pos{static_cast<int>(i_ + 1), static_cast<int>(lines_[i_].find('#') + 1)};
      if (seen[name]) return Unexpected(Err(pos, "parser directive \"" + name + "\" given twice"));
      seen[name] = true;
      if (name == "escape") {
        if (value != "\\" && value != "`") {
          return Unexpected(Err(pos, "invalid escape directive \"" + value +
                                         "\": the escape character must be \\ or `"));
        }
        df_.escape = value[0];
      }
      df_.directives.push_back({name, value, pos});
      ++i_;
    }
    return Ok();
  }

  // Joins an instruction's continuation lines, skipping comment lines and empty lines between
  // them.
  Result<Logical> Join() {
    Logical l;
    l.first_line = static_cast<int>(i_ + 1);
    bool first = true;
    while (i_ < lines_.size()) {
      std::string_view line = lines_[i_];
      int lineno = static_cast<int>(i_ + 1);
      ++i_;
      if (!first) {
        if (IsComment(line)) continue;
        if (IsBlank(line)) {
          df_.empty_continuations.push_back({lineno, 1});
          continue;
        }
      }
      first = false;
      bool more = StripContinuation(line, df_.escape);
      for (std::size_t c = 0; c < line.size(); ++c) {
        l.text.push_back(line[c]);
        l.where.push_back({lineno, static_cast<int>(c + 1)});
      }
      l.last_line = lineno;
      if (!more) break;
      // The newline of a continuation becomes nothing (BuildKit joins the lines directly).
    }
    return l;
  }

  // Parses one instruction from `l.text` starting at `offset` (non-zero inside ONBUILD).
  Result<Instruction> ParseInstruction(const Logical& l, std::size_t offset, bool inside_onbuild) {
    std::string_view text = l.text;
    std::size_t p = offset;
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    std::size_t kw_start = p;
    while (p < text.size() && !std::isspace(static_cast<unsigned char>(text[p]))) ++p;
    std::string keyword(text.substr(kw_start, p - kw_start));
    Position kw_pos = l.At(kw_start);
    std::string upper = Upper(keyword);
    const KindSpec* spec = nullptr;
    for (const auto& s : Specs()) {
      if (upper == s.name) spec = &s;
    }
    if (!spec) {
      std::string hint;
      int best = 3;
      for (const auto& s : Specs()) {
        int d = EditDistance(upper, s.name);
        if (d < best) {
          best = d;
          hint = std::string(" (did you mean ") + s.name + "?)";
        }
      }
      return Unexpected(Err(kw_pos, "unknown instruction \"" + keyword + "\"" + hint));
    }
    Instruction inst;
    inst.kind = spec->kind;
    inst.keyword = keyword;
    inst.pos = kw_pos;
    inst.end_line = l.last_line;
    {
      std::string orig;
      for (int ln = l.first_line; ln <= l.last_line && ln >= 1; ++ln) {
        if (!orig.empty()) orig += "\n";
        orig += std::string(lines_[static_cast<std::size_t>(ln - 1)]);
      }
      inst.original = orig;
    }

    // Flags.
    while (true) {
      while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p]))) ++p;
      if (p + 1 >= text.size() || text[p] != '-' || text[p + 1] != '-') break;
      if (inst.kind == Kind::kOnbuild) break;
      FlagWord w = ReadFlagWord(text, p);
      if (w.text == "--") {
        // "--" ends the flags (COPY -- --odd-name /dst), as in BuildKit.
        p = w.end;
        break;
      }
      Position fpos = l.At(p);
      std::string body = w.text.substr(2);
      Flag f;
      f.pos = fpos;
      std::size_t eq = body.find('=');
      // Flag names are case-sensitive in BuildKit (--FROM is an unknown flag).
      f.name = body.substr(0, eq);
      if (eq != std::string::npos) {
        f.value = body.substr(eq + 1);
        f.has_value = true;
        for (std::size_t k = 2 + eq + 1; k < w.from.size(); ++k)
          f.value_where.push_back(l.At(w.from[k]));
      }
      if (f.name.empty()) {
        return Unexpected(Err(fpos, "a flag needs a name after \"--\""));
      }
      const FlagSpec* fs = nullptr;
      for (const auto& s : spec->flags) {
        if (f.name == s.name) fs = &s;
      }
      if (!fs) {
        std::string expected;
        for (const auto& s : spec->flags) {
          expected += (expected.empty() ? "" : ", ") + std::string("--") + s.name;
        }
        return Unexpected(
            Err(fpos, "unknown flag --" + f.name + " for " + spec->name +
                          (expected.empty() ? " (it takes no flags)"
                                            : " (expected one of: " + expected + ")")));
      }
      if (fs->boolean) {
        std::string v = ToLower(f.value);
        if (f.has_value && v != "true" && v != "false") {
          return Unexpected(
              Err(fpos, "flag --" + f.name + " takes true or false, not \"" + f.value + "\""));
        }
      } else if (!f.has_value || f.value.empty()) {
        return Unexpected(Err(fpos, "flag --" + f.name + " needs a value (--" + f.name + "=...)"));
      }
      if (!fs->repeatable && inst.FindFlag(f.name)) {
        return Unexpected(Err(fpos, "flag --" + f.name + " given twice"));
      }
      inst.flags.push_back(std::move(f));
      p = w.end;
    }
    while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p]))) ++p;
    std::string_view rest = text.substr(p);
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back())))
      rest.remove_suffix(1);
    inst.args = std::string(rest);
    inst.args_pos = l.At(p);
    inst.args_where = l.Span(p, rest.size());

    if (spec->exec_form && !rest.empty() && rest.front() == '[') {
      auto j = ParseJson(rest, "arguments");
      if (j && j->is_array()) {
        // Valid JSON that is not an array of strings is an error, not shell form (BuildKit:
        // "when using JSON array syntax, arrays must be comprised of strings only").
        if (!std::all_of(j->begin(), j->end(), [](const Json& e) { return e.is_string(); })) {
          return Unexpected(Err(inst.args_pos, std::string("when using JSON array syntax, ") +
                                                   spec->name +
                                                   " needs an array of strings only, e.g. "
                                                   "[\"/bin/app\", \"--flag\"]"));
        }
        inst.json_form = true;
        for (const auto& e : *j) inst.json_args.push_back(e.get<std::string>());
      }
    }

    if (inst.kind == Kind::kOnbuild) {
      if (inside_onbuild)
        return Unexpected(Err(kw_pos, "ONBUILD cannot be nested (ONBUILD ONBUILD)"));
      if (rest.empty()) return Unexpected(Err(kw_pos, "ONBUILD needs an instruction to run later"));
      ANYARCH_TRY(Instruction inner, ParseInstruction(l, p, /*inside_onbuild=*/true));
      if (inner.kind == Kind::kFrom || inner.kind == Kind::kMaintainer) {
        return Unexpected(Err(inner.pos, std::string(KindName(inner.kind)) +
                                             " is not allowed as an ONBUILD trigger"));
      }
      inst.onbuild = std::make_unique<Instruction>(std::move(inner));
      inst.end_line = inst.onbuild->end_line;
      return inst;
    }

    if (spec->heredoc && !inside_onbuild) {
      ANYARCH_CHECK(ReadHeredocs(inst, l, p));
    } else if (spec->heredoc && inside_onbuild) {
      // Heredocs inside ONBUILD are read like any other (BuildKit allows them).
      ANYARCH_CHECK(ReadHeredocs(inst, l, p));
    }
    ANYARCH_CHECK(Validate(inst));
    return inst;
  }

  // Finds heredoc markers in the arguments (heredoc.h) and reads their bodies from the
  // following lines, in the order the markers appear. Not in exec form: RUN ["<<EOF"] is text.
  Status ReadHeredocs(Instruction& inst, const Logical& l, std::size_t args_offset) {
    if (inst.json_form) return Ok();
    auto markers = FindHeredocMarkers(inst.args);
    if (!markers) return Unexpected(Err(inst.args_pos, markers.error().message()));
    for (const auto& m : *markers) {
      Heredoc h;
      h.pos = l.At(args_offset + m.offset);
      h.marker_offset = m.offset;
      h.marker_size = m.size;
      h.delimiter = m.name;
      h.strip_tabs = m.chomp;
      h.expand = m.expand;
      h.fd = m.fd;
      inst.heredocs.push_back(std::move(h));
    }
    for (auto& h : inst.heredocs) {
      std::string body;
      bool closed = false;
      h.body_line = static_cast<int>(i_ + 1);
      while (i_ < lines_.size()) {
        std::string_view line = lines_[i_++];
        std::string_view cmp = line;
        if (h.strip_tabs) {
          while (!cmp.empty() && cmp.front() == '\t') cmp.remove_prefix(1);
        }
        if (cmp == h.delimiter) {
          closed = true;
          break;
        }
        // The body keeps the line endings as written (BuildKit copies the bytes), so a CRLF
        // file gives CRLF content; the last line may have none.
        std::string_view ending = LineEnding(line);
        h.raw_body += std::string(line) + std::string(ending);
        body += std::string(h.strip_tabs ? cmp : line) + std::string(ending);
        if (h.strip_tabs) h.tabs_stripped.push_back(static_cast<int>(line.size() - cmp.size()));
      }
      if (!closed) {
        return Unexpected(Err(h.pos, "heredoc <<" + h.delimiter +
                                         " is not terminated: expected a line \"" + h.delimiter +
                                         "\" before the end of the file"));
      }
      h.body = std::move(body);
      inst.end_line = static_cast<int>(i_);
    }
    return Ok();
  }

  // The line ending after `line` (a view into the source): "\r\n", "\n" or nothing.
  std::string_view LineEnding(std::string_view line) const {
    std::size_t end = static_cast<std::size_t>(line.data() - df_.source.data()) + line.size();
    std::string_view rest = std::string_view(df_.source).substr(end);
    if (rest.substr(0, 2) == "\r\n") return "\r\n";
    if (rest.substr(0, 1) == "\n") return "\n";
    return "";
  }

  Status Validate(const Instruction& inst) {
    auto words = SplitRawWords(inst.args, df_.escape);
    const std::string name = KindName(inst.kind);
    auto need_args = [&]() -> Status {
      if (inst.args.empty() && inst.heredocs.empty()) {
        return Unexpected(Err(inst.pos, name + " needs at least one argument"));
      }
      return Ok();
    };
    switch (inst.kind) {
      case Kind::kFrom: {
        ANYARCH_CHECK(need_args());
        if (words.size() != 1 && words.size() != 3) {
          Position at = words.size() > 1 ? PosOfWord(inst, words, 1) : inst.pos;
          return Unexpected(
              Err(at, "FROM takes an image and an optional \"AS name\" (FROM image [AS name])"));
        }
        if (words.size() == 3) {
          if (Upper(words[1].text) != "AS") {
            return Unexpected(
                Err(PosOfWord(inst, words, 1),
                    "expected \"AS\" after the image, found \"" + words[1].text + "\""));
          }
          const std::string& n = words[2].text;
          bool ok = !n.empty() && std::isalpha(static_cast<unsigned char>(n[0])) &&
                    std::all_of(n.begin(), n.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                             c == '.';
                    });
          if (!ok) {
            return Unexpected(
                Err(PosOfWord(inst, words, 2),
                    "invalid stage name \"" + n +
                        "\": start with a letter, then letters, digits, '-', '_' or '.'"));
          }
        }
        return Ok();
      }
      case Kind::kShell:
        if (!inst.json_form || inst.json_args.empty()) {
          return Unexpected(
              Err(inst.args_pos.line ? inst.args_pos : inst.pos,
                  "SHELL needs a JSON array of strings, e.g. SHELL [\"/bin/sh\", \"-c\"]"));
        }
        return Ok();
      case Kind::kUser:
      case Kind::kStopsignal:
        ANYARCH_CHECK(need_args());
        if (words.size() != 1) {
          return Unexpected(Err(PosOfWord(inst, words, 1), name + " takes exactly one argument"));
        }
        return Ok();
      case Kind::kEnv:
      case Kind::kLabel: {
        ANYARCH_CHECK(need_args());
        // Legacy "ENV key value" form: first word without '='.
        if (words[0].text.find('=') == std::string::npos) {
          if (words.size() < 2 && inst.kind == Kind::kLabel) {
            return Unexpected(Err(inst.args_pos, "LABEL needs key=value pairs"));
          }
          if (words.size() < 2) {
            return Unexpected(Err(
                inst.args_pos, "ENV needs key=value pairs (or the legacy form \"ENV key value\")"));
          }
          return Ok();
        }
        for (std::size_t k = 0; k < words.size(); ++k) {
          const auto& w = words[k];
          std::size_t eq = w.text.find('=');
          if (eq == std::string::npos || eq == 0) {
            return Unexpected(Err(PosOfWord(inst, words, k),
                                  name + " expects key=value, found \"" + w.text + "\""));
          }
        }
        return Ok();
      }
      case Kind::kArg:
        ANYARCH_CHECK(need_args());
        for (std::size_t k = 0; k < words.size(); ++k) {
          std::string n = words[k].text.substr(0, words[k].text.find('='));
          bool ok = !n.empty() && (std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_') &&
                    std::all_of(n.begin(), n.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                    });
          if (!ok) {
            return Unexpected(Err(PosOfWord(inst, words, k), "invalid ARG name \"" + n + "\""));
          }
        }
        return Ok();
      case Kind::kHealthcheck: {
        ANYARCH_CHECK(need_args());
        std::string first = Upper(words[0].text);
        if (first == "NONE") {
          if (words.size() != 1 || !inst.flags.empty()) {
            return Unexpected(Err(inst.args_pos, "HEALTHCHECK NONE takes no flags or arguments"));
          }
          return Ok();
        }
        if (first != "CMD") {
          return Unexpected(Err(
              inst.args_pos, "HEALTHCHECK expects CMD or NONE, found \"" + words[0].text + "\""));
        }
        if (words.size() < 2) {
          return Unexpected(Err(inst.args_pos, "HEALTHCHECK CMD needs a command"));
        }
        for (const auto& f : inst.flags) {
          if (f.name == "retries") {
            bool digits =
                !f.value.empty() && std::all_of(f.value.begin(), f.value.end(), [](char c) {
                  return std::isdigit(static_cast<unsigned char>(c));
                });
            if (!digits) {
              return Unexpected(
                  Err(f.pos, "--retries takes a whole number, not \"" + f.value + "\""));
            }
          } else if (!IsDuration(f.value)) {
            return Unexpected(Err(
                f.pos,
                "--" + f.name + " takes a duration such as 30s or 1m30s, not \"" + f.value + "\""));
          }
        }
        return Ok();
      }
      case Kind::kAdd:
      case Kind::kCopy: {
        if (!inst.json_form) {
          std::size_t off = 0;
          auto split = ExpandWords(inst.args, nullptr, nullptr,
                                   ExpandOptions{.escape = df_.escape, .expand = false}, &off);
          if (!split) {
            return Unexpected(Err(inst.ArgPos(off), name +
                                                        " arguments: " + split.error().message() +
                                                        " (close the quote, or escape it with " +
                                                        std::string(1, df_.escape) + ")"));
          }
        }
        std::size_t n = inst.json_form ? inst.json_args.size() : words.size();
        std::size_t need = inst.heredocs.empty() ? 2 : 1;
        if (n < need) {
          return Unexpected(Err(inst.args.empty() ? inst.pos : inst.args_pos,
                                name + " needs at least one source and a destination"));
        }
        if (inst.kind == Kind::kAdd) {
          if (const Flag* c = inst.FindFlag("checksum"); c && c->value.rfind("sha256:", 0) != 0) {
            return Unexpected(
                Err(c->pos, "--checksum takes sha256:<hex>, not \"" + c->value + "\""));
          }
        }
        return Ok();
      }
      case Kind::kRun:
        ANYARCH_CHECK(need_args());
        for (const Flag* f : inst.FlagsNamed("mount")) ANYARCH_CHECK(CheckMount(*f));
        if (const Flag* f = inst.FindFlag("network")) {
          if (f->value != "default" && f->value != "none" && f->value != "host") {
            return Unexpected(
                Err(f->pos, "--network takes default, none or host, not \"" + f->value + "\""));
          }
        }
        if (const Flag* f = inst.FindFlag("security")) {
          if (f->value != "sandbox" && f->value != "insecure") {
            return Unexpected(
                Err(f->pos, "--security takes sandbox or insecure, not \"" + f->value + "\""));
          }
        }
        return Ok();
      default:
        return need_args();
    }
  }

  static bool IsDuration(const std::string& v) {
    // Go duration syntax: one or more <number><unit>, units ns us ms s m h.
    std::size_t i = 0;
    if (v.empty()) return false;
    while (i < v.size()) {
      std::size_t start = i;
      while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
      if (i == start) return false;
      std::size_t u = i;
      while (i < v.size() && std::isalpha(static_cast<unsigned char>(v[i]))) ++i;
      std::string unit = v.substr(u, i - u);
      if (unit != "ns" && unit != "us" && unit != "ms" && unit != "s" && unit != "m" &&
          unit != "h") {
        return false;
      }
    }
    return true;
  }

  Status CheckMount(const Flag& f) {
    // Values with variables are checked once evaluation has expanded them.
    auto m = ParseMountValue(f.value, nullptr);
    if (!m) return Unexpected(Err(f.pos, m.error().message()));
    return Ok();
  }

  // Where word k of the arguments starts, also when it is on a continuation line.
  static Position PosOfWord(const Instruction& inst, const std::vector<RawWord>& words,
                            std::size_t k) {
    if (k >= words.size()) return inst.args_pos;
    return inst.ArgPos(words[k].offset);
  }

  ParseOptions opt_;
  Dockerfile df_;
  std::vector<std::string_view> lines_;
  std::size_t i_ = 0;
};

}  // namespace

Result<Dockerfile> Parse(std::string_view text, const ParseOptions& options) {
  Parser p(text, options);
  return p.Run();
}

Result<Dockerfile> ParseFile(const std::string& path) {
  ANYARCH_TRY(std::string text, ReadFile(path, 8 * 1024 * 1024));
  return Parse(text, ParseOptions{.filename = path});
}

}  // namespace anyarch::dockerfile

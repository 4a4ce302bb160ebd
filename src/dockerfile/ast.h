// The syntax tree of a Dockerfile: directives, then instructions with their flags, arguments
// (exec/JSON form or shell form) and heredocs, each with its source position.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace anyarch::dockerfile {

struct Position {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

// The position of byte `offset` of a text whose bytes came from `where` (one entry per byte; a
// logical line joins continuation lines, so its bytes span several physical lines). Past the
// end: the column after the last byte. Without a map: `fallback`.
Position PositionIn(const std::vector<Position>& where, std::size_t offset, Position fallback);

struct Flag {
  std::string name;  // without the leading "--", as written (BuildKit is case-sensitive)
  std::string value;
  bool has_value = false;  // "--link" vs "--link=true"
  Position pos;
  std::vector<Position> value_where;  // where each byte of `value` is in the file

  // Where byte `offset` of the value is in the file.
  Position ValuePos(std::size_t offset) const { return PositionIn(value_where, offset, pos); }
};

struct Heredoc {
  std::string delimiter;
  std::string body;               // the lines with their line endings (a CR of CRLF kept),
                                  // leading tabs removed for <<-
  std::string raw_body;           // the lines exactly as in the file (tabs kept), which is what
                                  // BuildKit appends to a RUN command line
  bool strip_tabs = false;        // <<-EOF
  bool expand = true;             // false when any part of the delimiter was quoted
  unsigned fd = 0;                // RUN 3<<EOF; 0 when not given
  Position pos;                   // of the "<<" marker
  std::size_t marker_offset = 0;  // of the marker ("<<-'EOF'") in Instruction::args
  std::size_t marker_size = 0;
  int body_line = 0;               // line of the body's first line
  std::vector<int> tabs_stripped;  // per body line, for <<-

  // Where byte `offset` of the body is in the file.
  Position BodyPos(std::size_t offset) const;
};

enum class Kind {
  kFrom,
  kRun,
  kCmd,
  kEntrypoint,
  kShell,
  kLabel,
  kEnv,
  kArg,
  kExpose,
  kVolume,
  kUser,
  kWorkdir,
  kStopsignal,
  kHealthcheck,
  kAdd,
  kCopy,
  kOnbuild,
  kMaintainer,
};

// "FROM", "RUN", ...
const char* KindName(Kind kind);

struct Instruction {
  Kind kind = Kind::kRun;
  std::string keyword;  // as written
  Position pos;         // of the keyword
  int end_line = 0;     // last line of the instruction (including heredoc bodies)
  std::vector<Flag> flags;
  std::string args;  // everything after the flags, continuation lines joined, trimmed
  Position args_pos;
  std::vector<Position> args_where;    // where each byte of `args` is in the file
  bool json_form = false;              // args parsed as a JSON array of strings
  std::vector<std::string> json_args;  // when json_form
  std::vector<Heredoc> heredocs;
  std::string original;  // the instruction as written (first physical line .. end), for excerpts
  std::unique_ptr<Instruction> onbuild;  // the wrapped instruction of ONBUILD

  Instruction() = default;
  Instruction(const Instruction& o);
  Instruction& operator=(const Instruction& o);
  Instruction(Instruction&&) = default;
  Instruction& operator=(Instruction&&) = default;

  // All values of a repeatable flag, e.g. every --mount.
  std::vector<const Flag*> FlagsNamed(const std::string& name) const;
  const Flag* FindFlag(const std::string& name) const;
  // Where byte `offset` of `args` is in the file.
  Position ArgPos(std::size_t offset) const { return PositionIn(args_where, offset, args_pos); }
};

struct Directive {
  std::string name;  // lowercase
  std::string value;
  Position pos;
};

struct Dockerfile {
  std::string filename;
  std::string source;  // the whole text, for error excerpts
  char escape = '\\';
  std::vector<Directive> directives;
  std::vector<Instruction> instructions;
  std::vector<std::string> warnings;  // parser-level notes, e.g. empty continuation lines
  std::vector<Position> empty_continuations;
};

}  // namespace anyarch::dockerfile

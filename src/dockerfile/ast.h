// The syntax tree of a Dockerfile: directives, then instructions with their flags, arguments
// (exec/JSON form or shell form) and heredocs, each with its source position.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace anyarch::dockerfile {

struct Position {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

struct Flag {
  std::string name;  // without the leading "--", lowercase
  std::string value;
  bool has_value = false;  // "--link" vs "--link=true"
  Position pos;
};

struct Heredoc {
  std::string delimiter;
  std::string body;         // lines joined with "\n", ending in "\n" when non-empty
  bool strip_tabs = false;  // <<-EOF
  bool expand = true;       // false when the delimiter was quoted
  Position pos;             // of the "<<" marker
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

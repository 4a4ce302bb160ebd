// Dockerfile parser: text -> syntax tree (ast.h). It checks the syntax of every instruction and
// flag but evaluates nothing; expansion and stages are in evaluate.h.
//
// Follows the Dockerfile reference and BuildKit's frontend (dockerfile 1.x syntax):
// - parser directives (# syntax=, # escape=, # check=) only before anything else;
// - comments are whole lines starting with '#', also between continuation lines;
// - a line ending in the escape character (\ or `) continues on the next line; empty
//   continuation lines are accepted and noted (BuildKit warns about them);
// - exec form is a JSON array of strings; anything else is shell form;
// - heredocs (<<EOF, <<-EOF, <<"EOF", <<'EOF') on RUN, COPY and ADD, several per instruction,
//   bodies follow the instruction in the order the markers appear.
// Errors carry file:line:column, the line and a caret (syntax_error.h).
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "dockerfile/ast.h"

namespace anyarch::dockerfile {

struct ParseOptions {
  std::string filename = "Dockerfile";
};

Result<Dockerfile> Parse(std::string_view text, const ParseOptions& options = {});

// Reads and parses a file; kNotFound names the path.
Result<Dockerfile> ParseFile(const std::string& path);

}  // namespace anyarch::dockerfile

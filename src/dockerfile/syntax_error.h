// Errors that point into a Dockerfile: "file:line:column: message", the offending line, and a
// caret under the column.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "dockerfile/ast.h"

namespace anyarch::dockerfile {

// Builds a kInvalid error for `pos` in `source`:
//   Dockerfile:3:5: unknown flag --chmdo for COPY (expected one of: ...)
//     COPY --chmdo=644 a b
//          ^
Error SyntaxError(std::string_view filename, std::string_view source, Position pos,
                  const std::string& message);

// The line and column a syntax error points at, recovered from its message (for tests and for
// --json output). Returns {0,0} when the error carries no position.
Position ErrorPosition(const Error& error);

}  // namespace anyarch::dockerfile

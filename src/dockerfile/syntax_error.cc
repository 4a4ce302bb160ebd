#include "dockerfile/syntax_error.h"

#include <cstdlib>

namespace anyarch::dockerfile {

Error SyntaxError(std::string_view filename, std::string_view source, Position pos,
                  const std::string& message) {
  std::string text = std::string(filename) + ":" + std::to_string(pos.line) + ":" +
                     std::to_string(pos.column) + ": " + message;
  // Find the line.
  std::size_t start = 0;
  for (int l = 1; l < pos.line && start != std::string_view::npos; ++l) {
    start = source.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start != std::string_view::npos && pos.line > 0 && start <= source.size()) {
    std::size_t end = source.find('\n', start);
    std::string_view line = source.substr(start, end == std::string_view::npos ? end : end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string caret;
    for (int i = 1; i < pos.column && static_cast<std::size_t>(i - 1) < line.size(); ++i) {
      caret.push_back(line[i - 1] == '\t' ? '\t' : ' ');
    }
    text += "\n    " + std::string(line) + "\n    " + caret + "^";
  }
  return Error(ErrorCode::kInvalid, text);
}

Position ErrorPosition(const Error& error) {
  // The message starts with "<file>:<line>:<col>: ".
  const std::string& m = error.message();
  std::size_t nl = m.find('\n');
  std::string first = m.substr(0, nl);
  std::size_t sep = first.find(": ");
  if (sep == std::string::npos) return {};
  std::string head = first.substr(0, sep);
  std::size_t c2 = head.rfind(':');
  if (c2 == std::string::npos) return {};
  std::size_t c1 = head.rfind(':', c2 - 1);
  if (c1 == std::string::npos) return {};
  Position p;
  p.line = std::atoi(head.substr(c1 + 1, c2 - c1 - 1).c_str());
  p.column = std::atoi(head.substr(c2 + 1).c_str());
  return p;
}

}  // namespace anyarch::dockerfile

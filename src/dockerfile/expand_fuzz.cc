// libFuzzer target: variable expansion and word splitting. The first byte picks the escape
// character and the mode (raw mode leaves quotes alone, as for COPY heredocs); the rest is the
// text. Expansion must never crash, hang or trip a sanitizer; text without '$' must expand the
// same with and without variables; an error's offset must point into the text (evaluation turns
// it into a line and column).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dockerfile/expand.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anyarch::dockerfile;
  if (size == 0) return 0;
  char escape = (data[0] & 1) ? '`' : '\\';
  bool raw = (data[0] & 2) != 0;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  Lookup lookup = [](const std::string& name) -> std::optional<std::string> {
    if (name == "EMPTY") return std::string();
    if (name.size() % 2) return name + " value";
    return std::nullopt;
  };
  ExpandOptions opt{.escape = escape, .process_quotes = !raw};
  std::size_t off = 0;
  auto w = ExpandWord(text, lookup, opt, &off);
  if (!w && off >= text.size()) std::abort();
  std::size_t words_off = 0;
  auto ws = ExpandWords(text, lookup, nullptr, opt, &words_off);
  if (!ws && words_off >= text.size()) std::abort();
  if (w.has_value() != ws.has_value()) std::abort();
  (void)ReferencedVariables(text, opt);
  (void)SplitRawWords(text, escape);
  if (text.find('$') == std::string::npos) {
    Lookup none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    auto v = ExpandWord(text, none, opt);
    if (w.has_value() != v.has_value() || (w && w->value != v->value)) std::abort();
  }
  return 0;
}

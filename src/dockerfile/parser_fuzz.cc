// libFuzzer target: the parser, then evaluation and lint of whatever parses, must never crash,
// hang or trip a sanitizer on any input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dockerfile/evaluate.h"
#include "dockerfile/lint.h"
#include "dockerfile/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anyarch;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto df = dockerfile::Parse(text);
  if (!df) return 0;
  static const auto amd64 = *platform::Parse("linux/amd64");
  static const auto arm64 = *platform::Parse("linux/arm64");
  dockerfile::EvalOptions eo{.target = arm64, .build = amd64, .build_args = {{"A", "1"}}};
  auto plan = dockerfile::Evaluate(*df, eo);
  if (plan) (void)dockerfile::PlansToText({*plan});
  dockerfile::LintOptions lo{.platforms = {amd64, arm64}, .build = amd64};
  (void)dockerfile::Lint(*df, lo);
  return 0;
}

// libFuzzer target: the parser, then evaluation and lint of whatever parses, must never crash,
// hang or trip a sanitizer on any input. Every source position the parser records must exist in
// the file: one per byte of arguments and flag values, and heredoc bodies on their own lines.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dockerfile/evaluate.h"
#include "dockerfile/lint.h"
#include "dockerfile/parser.h"

namespace {

void CheckPosition(anyarch::dockerfile::Position p, int lines) {
  if (p.line < 1 || p.line > lines || p.column < 1) std::abort();
}

void CheckInstruction(const anyarch::dockerfile::Instruction& in, int lines) {
  CheckPosition(in.pos, lines);
  if (in.args_where.size() != in.args.size()) std::abort();
  for (std::size_t i = 0; i < in.args.size(); ++i) CheckPosition(in.ArgPos(i), lines);
  for (const auto& f : in.flags) {
    if (f.has_value && f.value_where.size() != f.value.size()) std::abort();
    for (std::size_t i = 0; i < f.value.size(); ++i) CheckPosition(f.ValuePos(i), lines);
  }
  for (const auto& h : in.heredocs) {
    if (h.marker_offset + h.marker_size > in.args.size()) std::abort();
    // BodyPos walks the body: a few offsets keep the target fast.
    for (std::size_t i : {std::size_t{0}, h.body.size() / 2, h.body.size()}) {
      if (i < h.body.size()) CheckPosition(h.BodyPos(i), lines);
    }
  }
  if (in.onbuild) CheckInstruction(*in.onbuild, lines);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anyarch;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto df = dockerfile::Parse(text);
  if (!df) return 0;
  int lines = 1;
  for (char c : df->source) lines += c == '\n';
  for (const auto& in : df->instructions) CheckInstruction(in, lines);
  static const auto amd64 = *platform::Parse("linux/amd64");
  static const auto arm64 = *platform::Parse("linux/arm64");
  dockerfile::EvalOptions eo{.target = arm64, .build = amd64, .build_args = {{"A", "1"}}};
  auto plan = dockerfile::Evaluate(*df, eo);
  if (plan) {
    (void)dockerfile::PlansToText({*plan}, {.steps = true});
    (void)dockerfile::PlansToJson({*plan});
  }
  dockerfile::LintOptions lo{.platforms = {amd64, arm64}, .build = amd64};
  (void)dockerfile::Lint(*df, lo);
  return 0;
}

// libFuzzer target: .dockerignore parsing and matching. The input is split at the first NUL
// byte into the ignore file and a list of paths (one per line). Matching must never crash, hang
// or trip a sanitizer; it is dynamic programming, so no pattern may take longer than
// pattern x path steps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "dockerfile/dockerignore.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anyarch;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t nul = input.find('\0');
  std::string_view patterns = input.substr(0, nul);
  std::string_view paths = nul == std::string_view::npos ? "" : input.substr(nul + 1);
  auto m = dockerfile::IgnoreMatcher::Parse(patterns);
  if (!m) return 0;
  for (const auto& path : Split(paths, '\n')) (void)m->Excluded(path);
  (void)dockerfile::CleanPath(patterns);
  return 0;
}

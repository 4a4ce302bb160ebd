// libFuzzer target: every small format a registry answers in (registry/wire.h and the
// WWW-Authenticate parser of auth.h). The first byte picks the parser, the rest is the header
// value or body. Beyond not crashing, each result must be consistent with its input: a Link
// target lies inside the header, a Content-Range is ordered, a token lifetime is in bounds, and
// a challenge has a lower-case scheme and keys.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "registry/auth.h"
#include "registry/wire.h"

namespace {

using namespace anyarch::registry;

bool IsLowerCase(const std::string& s) {
  for (unsigned char c : s) {
    if (std::isupper(c)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      auto c = ParseChallenge(std::string(in));
      if (c && (c->scheme.empty() || !IsLowerCase(c->scheme))) std::abort();
      if (c) {
        for (const auto& [k, v] : c->params) {
          if (!IsLowerCase(k)) std::abort();
        }
      }
      break;
    }
    case 1: {
      auto t = ParseTokenResponse(in, "token server");
      if (t && (t->token.empty() || t->expires_in < 60 || t->expires_in > kMaxTokenLifetime)) {
        std::abort();
      }
      break;
    }
    case 2:
      (void)ParseErrorBody(in);
      break;
    case 3: {
      auto next = NextLink(in);
      if (next && in.find("<" + *next + ">") == std::string_view::npos) std::abort();
      break;
    }
    case 4: {
      auto r = ParseContentRange(in);
      if (r && (r->last < r->first || (r->total && r->last >= *r->total))) std::abort();
      break;
    }
  }
  return 0;
}

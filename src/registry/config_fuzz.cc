// libFuzzer target: the files a user can be talked into using. The first byte picks the input:
// even, the registries config (TOML); odd, a docker config.json, a NUL byte, then what a
// credential helper printed. Nothing is read from disk and no helper runs. A credential found
// must have a secret; every mirror must have a name; every host table must be found by its key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/json.h"
#include "registry/config.h"
#include "registry/credentials.h"

namespace {

using namespace anyarch;

void CheckCredential(const Result<std::optional<registry::Credential>>& c) {
  if (c && c->has_value() && (*c)->secret.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto cfg = registry::ParseRegistriesConfig(in, "config.toml");
    if (cfg) {
      for (const auto& [host, hc] : cfg->hosts) {
        if (cfg->Find(host) != &hc) std::abort();
        for (const auto& m : hc.mirrors) {
          if (m.empty()) std::abort();
        }
      }
    }
    return 0;
  }
  auto nul = in.find('\0');
  std::string json = in.substr(0, nul);
  std::string helper_out = nul == std::string::npos ? std::string() : in.substr(nul + 1);
  if (auto j = ParseJson(json, "config.json"); j && j->is_object()) {
    for (const char* host : {"docker.io", "127.0.0.1:5000", "registry.example"}) {
      (void)registry::HelperFor(*j, host);
      CheckCredential(registry::FromAuths(*j, host, "config.json"));
    }
  }
  CheckCredential(registry::ParseHelperOutput(helper_out, "fuzz", "127.0.0.1:5000"));
  return 0;
}

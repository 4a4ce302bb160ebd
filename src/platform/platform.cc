#include "platform/platform.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "base/strings.h"

namespace anyarch::platform {
namespace {

const char* const kKnownArchs[] = {"386",     "amd64",    "arm",       "arm64",      "ppc64le",
                                   "ppc64",   "s390x",    "riscv64",   "mips",       "mipsle",
                                   "mips64",  "mips64le", "loong64",   "wasm",       "ppc",
                                   "sparc64", "riscv32",  "mips64p32", "mips64p32le"};

std::string NormalizeOs(std::string_view os) {
  std::string o = ToLower(os);
  if (o == "macos") return "darwin";
  return o;
}

// ARM variant number for "v7" etc.; -1 if not of that form.
int ArmLevel(std::string_view v) {
  if (v.size() < 2 || v[0] != 'v') return -1;
  int n = 0;
  for (char c : v.substr(1)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

std::pair<std::string, std::string> NormalizeArch(std::string_view arch_in,
                                                  std::string_view variant_in) {
  std::string arch = ToLower(arch_in);
  std::string variant = ToLower(variant_in);
  if (arch == "i386" || arch == "i486" || arch == "i586" || arch == "i686" || arch == "x86") {
    return {"386", ""};
  }
  if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    if (variant == "v1") variant.clear();
    return {"amd64", variant};
  }
  if (arch == "aarch64" || arch == "arm64") {
    if (variant == "8" || variant == "v8" || variant == "v8.0") variant.clear();
    if (variant == "9" || variant == "9.0" || variant == "v9.0") variant = "v9";
    return {"arm64", variant};
  }
  if (arch == "armhf") return {"arm", "v7"};
  if (arch == "armel") return {"arm", "v5"};
  if (arch == "armv7l" || arch == "armv7") return {"arm", "v7"};
  if (arch == "armv6l" || arch == "armv6") return {"arm", "v6"};
  if (arch == "armv5tel" || arch == "armv5l" || arch == "armv5") return {"arm", "v5"};
  if (arch == "arm") {
    if (variant.empty() || variant == "7") return {"arm", "v7"};
    if (variant == "5" || variant == "6" || variant == "8") return {"arm", "v" + variant};
    return {"arm", variant};
  }
  if (arch == "ppc64el") return {"ppc64le", variant};
  if (arch == "mips64el") return {"mips64le", variant};
  if (arch == "mipsel") return {"mipsle", variant};
  if (arch == "riscv64gc") return {"riscv64", variant};
  return {arch, variant};
}

Platform Normalize(Platform p) {
  p.os = p.os.empty() ? std::string("linux") : NormalizeOs(p.os);
  auto [arch, variant] = NormalizeArch(p.architecture, p.variant);
  p.architecture = arch;
  p.variant = variant;
  std::sort(p.os_features.begin(), p.os_features.end());
  p.os_features.erase(std::unique(p.os_features.begin(), p.os_features.end()), p.os_features.end());
  return p;
}

std::string Platform::ToString() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

bool IsKnownArchitecture(std::string_view arch) {
  for (const char* a : kKnownArchs) {
    if (arch == a) return true;
  }
  return false;
}

Result<Platform> Parse(std::string_view text) {
  std::string_view t = TrimSpace(text);
  if (t.empty())
    return MakeError(ErrorCode::kInvalid, "platform is empty (expected os/arch[/variant])");
  auto parts = Split(t, '/');
  if (parts.size() > 3) {
    return MakeError(ErrorCode::kInvalid, "platform \"" + std::string(t) +
                                              "\" has too many parts (expected os/arch[/variant])");
  }
  for (const auto& part : parts) {
    if (part.empty()) {
      return MakeError(
          ErrorCode::kInvalid,
          "platform \"" + std::string(t) + "\" has an empty part (expected os/arch[/variant])");
    }
    for (char c : part) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
        return MakeError(ErrorCode::kInvalid, "platform \"" + Printable(t) +
                                                  "\" contains the invalid character '" +
                                                  Printable(std::string_view(&c, 1)) + "'");
      }
    }
  }
  Platform p;
  if (parts.size() == 1) {
    // A lone word is an architecture if we know it (containerd does the same).
    auto [arch, variant] = NormalizeArch(parts[0], "");
    if (!IsKnownArchitecture(arch)) {
      return MakeError(
          ErrorCode::kInvalid,
          "platform \"" + std::string(t) +
              "\": unknown architecture (expected os/arch[/variant], e.g. linux/arm64)");
    }
    p.os = "linux";
    p.architecture = parts[0];
  } else {
    p.os = parts[0];
    p.architecture = parts[1];
    if (parts.size() == 3) p.variant = parts[2];
  }
  p = Normalize(std::move(p));
  if (!IsKnownArchitecture(p.architecture)) {
    return MakeError(
        ErrorCode::kInvalid,
        "platform \"" + std::string(t) + "\": unknown architecture \"" + p.architecture + "\"");
  }
  return p;
}

Result<std::vector<Platform>> ParseList(std::string_view text) {
  std::vector<Platform> out;
  for (const auto& item : Split(text, ',')) {
    ANYARCH_TRY(Platform p, Parse(item));
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  return out;
}

std::vector<Platform> CompatibleWith(const Platform& target_in) {
  Platform target = Normalize(target_in);
  std::vector<Platform> out{target};
  auto add = [&](std::string arch, std::string variant) {
    Platform p = target;
    p.architecture = std::move(arch);
    p.variant = std::move(variant);
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  if (target.architecture == "arm") {
    for (int v = ArmLevel(target.variant) - 1; v >= 5; --v) add("arm", "v" + std::to_string(v));
  } else if (target.architecture == "amd64") {
    int level = target.variant.empty() ? 1 : ArmLevel(target.variant);
    for (int v = level - 1; v >= 1; --v) add("amd64", v == 1 ? "" : "v" + std::to_string(v));
    add("386", "");
  } else if (target.architecture == "arm64") {
    if (target.variant.rfind("v9", 0) == 0) add("arm64", "v9");
    if (!target.variant.empty()) add("arm64", "");
    for (int v = 8; v >= 5; --v) add("arm", "v" + std::to_string(v));
  }
  return out;
}

std::optional<int> Rank(const Platform& target, const Platform& candidate_in) {
  Platform candidate = Normalize(candidate_in);
  auto list = CompatibleWith(target);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Platform& want = list[i];
    if (want.os != candidate.os || want.architecture != candidate.architecture ||
        want.variant != candidate.variant) {
      continue;
    }
    // Features the target asks for must all be present in the candidate.
    bool features_ok = std::all_of(
        target.os_features.begin(), target.os_features.end(), [&](const std::string& f) {
          return std::find(candidate.os_features.begin(), candidate.os_features.end(), f) !=
                 candidate.os_features.end();
        });
    if (!features_ok) return std::nullopt;
    return static_cast<int>(i);
  }
  return std::nullopt;
}

bool Matches(const Platform& target, const Platform& candidate) {
  return Rank(target, candidate).has_value();
}

std::optional<std::size_t> Best(const Platform& target, const std::vector<Platform>& candidates) {
  std::optional<std::size_t> best;
  int best_rank = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    auto r = Rank(target, candidates[i]);
    if (r && (!best || *r < best_rank)) {
      best = i;
      best_rank = *r;
    }
  }
  return best;
}

std::optional<Choice> Choose(const Platform& want_in, const std::vector<Platform>& candidates) {
  Platform want = Normalize(want_in);
  std::optional<Choice> best;
  int best_rank = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    Platform c = Normalize(candidates[i]);
    // Rank orders lower variants of the same architecture before other architectures; the
    // architecture test keeps only the former.
    if (c.os != want.os || c.architecture != want.architecture) continue;
    auto r = Rank(want, c);
    if (r && (!best || *r < best_rank)) {
      best = Choice{.index = i, .chosen = c, .exact = *r == 0};
      best_rank = *r;
    }
  }
  return best;
}

std::string DescribeSubstitute(const Platform& want, const Platform& chosen) {
  return "using " + chosen.ToString() + " for " + Normalize(want).ToString() + " (there is no " +
         Normalize(want).ToString() + " image)";
}

Platform Host() {
  struct utsname u;
  Platform p;
  p.os = "linux";
  if (::uname(&u) == 0) p.architecture = u.machine;
  if (p.architecture.rfind("arm", 0) == 0 && p.architecture != "arm64") {
    // uname says armv7l etc.; that already carries the variant.
  } else if (p.architecture == "aarch64") {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
      if (line.rfind("CPU architecture", 0) == 0) {
        auto pos = line.find(':');
        if (pos != std::string::npos) {
          std::string v(TrimSpace(std::string_view(line).substr(pos + 1)));
          if (v == "8" || v == "AArch64") p.variant = "v8";
        }
        break;
      }
    }
  }
  return Normalize(p);
}

}  // namespace anyarch::platform

// OCI platforms (os/architecture/variant), with containerd's normalisation and matching rules:
// aliases (aarch64 -> arm64, x86_64 -> amd64, armhf -> arm/v7, i386 -> 386 ...), default arm
// variants, and fallback ranking (arm/v7 runs v6 and v5 images; amd64 runs 386; arm64 runs
// arm/v8..v5). Debian's "armel" port targets ARMv5TE, so it maps to arm/v5 (containerd says v6).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace anyarch::platform {

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH spelling: "amd64", "arm64", "arm", "386", "ppc64le" ...
  std::string variant;       // "v7", "v8", or empty
  std::string os_version;    // Windows only in practice
  std::vector<std::string> os_features;

  // "linux/arm/v7": os/architecture[/variant].
  std::string ToString() const;
  friend bool operator==(const Platform&, const Platform&) = default;
};

// Parses "os/arch[/variant]", "arch" (os defaults to linux) or "os" alone is refused.
// The result is normalised. kInvalid names the part that is wrong.
Result<Platform> Parse(std::string_view text);
// Parses a comma-separated list ("linux/amd64,linux/arm64"); duplicates after normalisation are
// removed, order is kept.
Result<std::vector<Platform>> ParseList(std::string_view text);

// Applies the alias and default-variant rules. Idempotent.
Platform Normalize(Platform p);
// Normalises an architecture name alone, e.g. "aarch64" -> {"arm64", ""}, "armhf" -> {"arm","v7"}.
std::pair<std::string, std::string> NormalizeArch(std::string_view arch, std::string_view variant);

// The platform of this machine (variant read from /proc/cpuinfo on ARM hosts).
Platform Host();

// The platforms that can run on `target`, best first: target itself, then lower arm variants,
// then 386 for amd64, arm/v8.. for arm64. All normalised.
std::vector<Platform> CompatibleWith(const Platform& target);

// True when an image built for `candidate` runs on `target` (candidate is in CompatibleWith).
bool Matches(const Platform& target, const Platform& candidate);

// Rank of `candidate` for `target`: 0 is an exact match, larger is worse, nullopt: no match.
std::optional<int> Rank(const Platform& target, const Platform& candidate);

// Picks the best of `candidates` for `target`; returns its index, or nullopt. This is the
// "runs on" order (amd64 runs 386, arm64 runs arm): use it to decide what a host can execute,
// never to pick an image for a platform someone asked for (that is Choose).
std::optional<std::size_t> Best(const Platform& target, const std::vector<Platform>& candidates);

// The image chosen for a wanted platform, and whether it is a substitute.
struct Choice {
  std::size_t index = 0;  // into the candidates given to Choose
  Platform chosen;        // normalised
  bool exact = true;      // false: a lower variant of the wanted architecture (callers warn)
};

// Picks the entry of `candidates` to use when `want` is asked for by name (pull, copy, run,
// merge --platform, a build's base images): an exact match first, else the highest lower
// variant of the same os and architecture (arm/v7 asked, arm/v6 there; amd64/v3 asked, amd64
// there). Another architecture is never chosen, even one `want` could run (arm64 does not take
// arm/v7, amd64 does not take 386): a caller that asked for arm64 and got arm would ship the
// wrong binaries. nullopt when nothing qualifies.
std::optional<Choice> Choose(const Platform& want, const std::vector<Platform>& candidates);

// "using linux/arm/v6 for linux/arm/v7 (there is no linux/arm/v7 image)", for a Choice that is
// not exact.
std::string DescribeSubstitute(const Platform& want, const Platform& chosen);

// True for architectures we know (those Go and OCI name); used to catch typos like "amd46".
bool IsKnownArchitecture(std::string_view arch);

}  // namespace anyarch::platform

// Cache keys: every step's result is named by a digest of everything that decides it, so a
// step whose key is already in the cache is not executed again, and two vertices that reach
// the same key (the same stage for two platforms, with no platform in what it does) compute it
// once.
//
// A key is sha256 over a canonical JSON document (sorted keys, no spaces) of:
//   the parent's key (the previous step, or the base image), the platform the step runs on
//   (os/architecture/variant), the instruction kind and its expanded words and flags, the
//   environment and user it runs with, its mounts, and for COPY/ADD/bind mounts the content
//   hash of every source it reads (build/source_tree.h), never the source's own name unless it
//   decides the destination name.
// A layer is written with the build's --source-date-epoch (its times clamped to it), so a step
// run with one keys by it too: a build without one never hands its layers to a build with one.
// Base images key by their manifest digest and platform. Keys carry a version so a change to
// what a step records never reuses an older result.
#pragma once

#include <string>

#include "base/digest.h"
#include "base/json.h"
#include "platform/platform.h"

namespace anyarch::build {

inline constexpr int kCacheKeyVersion = 1;

// The key of a step: `definition` describes the step (any JSON object).
Digest StepKey(const Digest& parent, const platform::Platform& platform, const Json& definition);

// The key of a stage's starting point: a base image manifest (its digest) or scratch ("").
Digest BaseKey(const std::string& manifest_digest, const platform::Platform& platform);

}  // namespace anyarch::build

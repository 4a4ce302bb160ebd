// The build cache outside the store, for machines that start empty (CI runners):
// --cache-to exports the records of a build's steps and their layers, --cache-from imports them
// before a build, so that its steps are cache hits.
//
// The exported cache is one OCI image manifest (artifactType kCacheArtifactType) that any
// registry stores and skopeo copies: its config blob (kCacheConfigType) lists the records, each
// a step's cache key with its layer descriptor and diff_id (or none, for a step that changed
// nothing), and its layers are those layer blobs, in digest order. The same bytes go to a
// registry (type=registry,ref=REF) or to an OCI layout directory under the tag "cache"
// (type=local,dest=DIR / src=DIR).
//
// Traps handled:
// - an imported step needs its changes as an overlay upper directory (the lower of the steps
//   after it), not only its layer: each layer is written as one, whiteouts as overlay's 0/0
//   devices and opaque directories marked, and verified against its diff_id while it is;
// - a cache source is trusted as much as a base image: a record maps a key to a layer, so only
//   import caches you would build from. Every blob is still verified against its digest, the
//   records are parsed strictly, and an entry that exists locally is never replaced;
// - a missing or foreign cache (another tool's, a plain image) is not an error for
//   --cache-from, as with buildx: the build runs without it and a warning says why.
#pragma once

#include <string>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/json.h"
#include "build/snapshots.h"
#include "transport/location.h"

namespace anyarch::build {

inline constexpr const char* kCacheArtifactType = "application/vnd.anyarch.buildcache.v1+json";
inline constexpr const char* kCacheConfigType = "application/vnd.anyarch.buildcache.config.v1+json";
// type=inline: the image config's own field, a list of {"key", "layer": index in the image's
// layers, or -1}; the layers are the image's, so nothing else is pushed.
inline constexpr const char* kInlineCacheKey = "anyarch.buildcache.v1";

// --cache-to / --cache-from, in buildx's syntax: type=registry,ref=REF[,mode=min|max] or
// type=local,dest=DIR[,mode=...] (to) / type=local,src=DIR (from); type=inline (to only: the
// records go into each platform's image config, mode=min; a registry import reads them back).
// `location` is the transport location the cache goes to or comes from.
struct CacheSpec {
  std::string type;  // "registry", "local", "inline" (to only; no location)
  std::string location;
  bool max = false;  // mode=max: every stage's steps; min (default): the target stages' only
};
// kInvalid names what is wrong with the option. `to` selects dest= (true) or src= (false).
Result<CacheSpec> ParseCacheSpec(const std::string& text, bool to);

struct CacheTransfer {
  std::size_t records = 0, layers = 0;
  std::string digest;  // of the cache manifest
};

// Writes the records of `keys` that the store holds, and their layers, to `spec`.
Result<CacheTransfer> ExportCache(const SnapshotStore& snapshots, const std::vector<Digest>& keys,
                                  const CacheSpec& spec, transport::Transports& transports);

// Reads the cache at `spec` into the store: every record whose key the store does not have, with
// its layer blob and upper directory. `spec` names an exported cache, or an image (or index)
// built with --cache-to type=inline. kNotFound when there is nothing there, kInvalid when what is
// there holds no anyarch build cache.
Result<CacheTransfer> ImportCache(const SnapshotStore& snapshots, const CacheSpec& spec,
                                  transport::Transports& transports);

// The inline records of an image's steps, for its config (kInlineCacheKey).
Json InlineCacheRecords(const std::vector<std::pair<Digest, int>>& steps);

}  // namespace anyarch::build

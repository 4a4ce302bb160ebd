// anyarch pull and push: copies into and out of the local store that never lose an index.
//
// Two ways a plain copy destroys a multi-platform tag, both silent in a naive tool:
// - Pulling one platform of a name the store already holds as an index would point the name at
//   that one image. Pull instead adds the image to the index the store has (or keeps the index
//   unchanged when it already holds that image), as containerd's store keeps the whole index.
// - Pushing a name that holds one image (or an index with fewer platforms) to a tag that holds
//   an index would replace, say, three platforms by one. Push refuses that unless forced, and
//   says which platforms would be lost.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "ops/copy.h"
#include "platform/platform.h"

namespace anyarch::ops {

struct PullRequest {
  std::string reference;                      // a registry reference
  bool all = false;                           // every platform, the index as the registry has it
  std::vector<platform::Platform> platforms;  // default: this host's
  transport::Env env;
};

// Copies from the registry into local:REFERENCE. When the store already names an index under
// REFERENCE (or one of the remote index's images), the chosen images are added to that index:
// an entry with the same platform is replaced, and when the result holds exactly the remote
// index's images the remote index bytes are kept (same digest). Otherwise as Copy. Errors as
// Copy; the name is changed last, so a failed pull leaves the old name in place.
Result<transport::CopyReport> Pull(const PullRequest& request);

struct PushRequest {
  std::string source;       // a name in the local store
  std::string destination;  // a registry reference; default: the source's name
  bool force = false;       // replace a remote index even by fewer platforms
  transport::Env env;
};

// Copies every platform of local:SOURCE to the registry. kInvalid, before anything is copied,
// when the destination tag holds an index with platforms the pushed image or index lacks
// (naming them), unless `force`. A destination that does not exist yet is no conflict.
Result<transport::CopyReport> Push(const PushRequest& request);

// The platforms (normalised, "linux/arm/v7") of a manifest or index from `src`: an index's
// entries (attestations, os "unknown", are left out), or a single image's config platform.
Result<std::vector<std::string>> PlatformsOf(image::ImageSource& src,
                                             const image::RawManifest& root);

}  // namespace anyarch::ops

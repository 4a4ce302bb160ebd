// Walking an image index down to its image manifests, through nested indexes, as containerd's
// image handlers do (images.Manifest / ChildrenHandler): an index entry may itself be an index,
// and an image reached only through one is still part of the image. Without the walk, a tool
// that looks one level deep sees no image at all, and a check over "every image" passes having
// checked none.
//
// Traps handled: the nesting is bounded (kMaxIndexDepth, the root index counting as one) so a
// hostile source cannot make us walk forever; an index that is reached again from inside itself
// is refused naming its digest (content addressing makes a true cycle impossible, but a source
// that does not verify what it serves, or a bug, could present one); an index reached twice by
// different paths (a diamond) is walked once; a child without a platform takes the platform of
// the nearest index entry above it that has one.
#pragma once

#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/source.h"

namespace anyarch::image {

inline constexpr int kMaxIndexDepth = 8;

// Every image manifest under `root`, in index order (depth first), each (digest, platform) once.
// `root` itself when it is an image manifest (its descriptor, no platform). A returned
// descriptor's platform is its own index entry's, else that of the nearest enclosing entry with
// one, else unset. Entries that are neither manifests nor indexes (artifacts, unknown types) are
// skipped. Errors: kInvalid for indexes nested deeper than max_depth or an index inside itself
// (the message names the digest); errors of `src` and of parsing, with the index named. An index
// with no image under it gives an empty list (the caller decides whether that is an error).
Result<std::vector<Descriptor>> ListImages(ImageSource& src, const RawManifest& root,
                                           int max_depth = kMaxIndexDepth);

}  // namespace anyarch::image

// Checks of an image (manifest and config together) that every command reading its layers makes
// the same way: run's unpack (rootfs/), verify and build --verify (inspect/).
#pragma once

#include "base/error.h"
#include "image/manifest.h"

namespace anyarch::image {

// kInvalid unless the config lists exactly one diff_id per layer of the manifest (image-spec
// config.md, rootfs.diff_ids): a layer without one can never be checked after decompression.
Status CheckDiffIdCount(const Manifest& manifest, const ImageConfig& config);

}  // namespace anyarch::image

// anyarch images: what the local store holds.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::ops {

struct ImageRow {
  std::string name;    // docker.io/library/busybox:latest
  std::string digest;  // of the root manifest or index
  std::string media_type;
  std::vector<std::string> platforms;
  std::uint64_t size = 0;  // compressed layers, all platforms
};

// An empty list when the store does not exist yet.
Result<std::vector<ImageRow>> ListImages(const std::string& store_root);

}  // namespace anyarch::ops

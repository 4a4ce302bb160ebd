#include "image/validate.h"

#include <string>

namespace anyarch::image {

Status CheckDiffIdCount(const Manifest& m, const ImageConfig& cfg) {
  if (cfg.diff_ids.size() != m.layers.size()) {
    return MakeError(ErrorCode::kInvalid,
                     "the image config lists " + std::to_string(cfg.diff_ids.size()) +
                         " layers but the manifest has " + std::to_string(m.layers.size()));
  }
  return Ok();
}

}  // namespace anyarch::image

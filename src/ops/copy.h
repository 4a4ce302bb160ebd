// anyarch copy SRC DST [--all | --platform P...], pull (copy into the local store) and push (copy
// out of it): one thin operation over the copying engine (transport/copy_engine.h). Indexes are
// written after their children and the name last, so a failed copy never leaves a name pointing
// at something incomplete.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "platform/platform.h"
#include "transport/copy_engine.h"
#include "transport/location.h"

namespace anyarch::ops {

struct CopyRequest {
  std::string source;
  std::string destination;
  bool all = false;  // every platform of an index, index bytes unchanged (same digest)
  std::vector<platform::Platform> platforms;  // a subset: a new index with only these
  // An oci-archive destination records this full reference (io.containerd.image.name), as
  // export does so that import finds the name again.
  std::string image_name;
  transport::Env env;
};

// Without --all or --platform, an index is reduced to this host's best match (as skopeo does).
Result<transport::CopyReport> Copy(const CopyRequest& request);

}  // namespace anyarch::ops

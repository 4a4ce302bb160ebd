// anyarch verify: every ELF file of every platform's image matches that platform. The engine is
// inspect/check.h (shared with build --verify); this opens the location and reports.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/reporter.h"
#include "inspect/check.h"
#include "platform/platform.h"

namespace anyarch::ops {

using VerifyMismatch = inspect::Finding;
using VerifyPlatformResult = inspect::PlatformCheck;

struct VerifyReport {
  std::string source;
  std::vector<VerifyPlatformResult> platforms;
  // True when at least one image was checked and nothing was found.
  bool ok() const;
};

struct VerifyRequest {
  std::string location;                       // any transport location
  std::vector<platform::Platform> platforms;  // empty: every platform of the index
  bool insecure = false;
  std::string config_path;  // registries config
  std::string store_root;   // for local:REF
  Reporter* reporter = nullptr;
};

// Streams each selected platform's layers in order (never unpacking to disk, nested indexes
// walked) and checks the final filesystem (inspect::CheckImages). Errors: the source cannot be
// read, a blob does not match its descriptor's size or digest, a layer does not match its
// diff_id or is refused as the unpacker refuses it, a requested platform is not in the index
// (the message lists the ones it has), or there is no image to check; each with the source named.
Result<VerifyReport> Verify(const VerifyRequest& request);

}  // namespace anyarch::ops

// anyarch build: the builder (build/build.h) with what surrounds it for a user: --verify runs
// the verify check on every platform's result before anything is named or pushed, and
// --metadata-file / --iidfile record the result for scripts (buildx's format).
#pragma once

#include <string>

#include "base/error.h"
#include "build/build.h"

namespace anyarch::ops {

struct BuildOptions {
  bool verify = false;
  std::string metadata_file;  // "-": standard output is the caller's; here a path
  std::string iidfile;
};

// Errors: those of build::Build; with verify, kInvalid listing each file whose architecture
// does not match its image's platform (nothing is output then).
Result<build::BuildResult> Build(build::BuildRequest request, const BuildOptions& options);

// The metadata-file document for a result: containerimage.digest, image.name, and the
// digest of each platform's image.
std::string BuildMetadata(const build::BuildRequest& request, const build::BuildResult& result);

}  // namespace anyarch::ops

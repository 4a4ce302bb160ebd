// anyarch tags REPO: every tag of a registry repository.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "transport/location.h"

namespace anyarch::ops {

struct TagList {
  std::string repository;  // registry/repository
  std::vector<std::string> tags;
};

// A tag or digest in `repository` is ignored (only the repository is used).
Result<TagList> ListTags(const std::string& repository, const transport::Env& env);

}  // namespace anyarch::ops

// anyarch ps and anyarch rm: the containers `run` keeps without --rm (isolation/kept.h).
// `anyarch prune` removes the ones that are not running (ops/store.h).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "isolation/kept.h"

namespace anyarch::ops {

// Newest first; `all` false leaves out the ones that are not running (docker ps vs ps -a).
Result<std::vector<isolation::KeptContainer>> ListContainers(const std::string& store_root,
                                                             bool all);

// By id or unique prefix; nothing is removed unless every name resolves and none is running.
Result<std::vector<std::string>> RemoveContainers(const std::string& store_root,
                                                  const std::vector<std::string>& names);

}  // namespace anyarch::ops

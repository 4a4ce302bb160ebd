#include "ops/containers.h"

#include <algorithm>

namespace anyarch::ops {

Result<std::vector<isolation::KeptContainer>> ListContainers(const std::string& store_root,
                                                             bool all) {
  ANYARCH_TRY(auto list, isolation::ListKept(store_root));
  if (!all)
    std::erase_if(list, [](const isolation::KeptContainer& c) { return c.status != "running"; });
  return list;
}

Result<std::vector<std::string>> RemoveContainers(const std::string& store_root,
                                                  const std::vector<std::string>& names) {
  return isolation::RemoveKept(store_root, names);
}

}  // namespace anyarch::ops

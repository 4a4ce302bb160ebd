#include "rootfs/chain_id.h"

namespace anyarch::rootfs {

Digest ChainId(const std::vector<Digest>& diff_ids) {
  Digest chain;
  for (std::size_t i = 0; i < diff_ids.size(); ++i) {
    chain = i == 0 ? diff_ids[0] : Sha256Of(chain.ToString() + " " + diff_ids[i].ToString());
  }
  return chain;
}

}  // namespace anyarch::rootfs

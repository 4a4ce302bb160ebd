// The OCI chain ID of a layer stack (image-spec config.md): the name of the filesystem that
// applying the layers in order produces, so equal stacks share one unpacked snapshot.
#pragma once

#include <vector>

#include "base/digest.h"

namespace anyarch::rootfs {

// chain(1) = diff(1), chain(n) = sha256(chain(n-1) + " " + diff(n)). An empty stack gives an
// empty Digest; callers name that case themselves (the snapshot cache calls it "empty").
Digest ChainId(const std::vector<Digest>& diff_ids);

}  // namespace anyarch::rootfs

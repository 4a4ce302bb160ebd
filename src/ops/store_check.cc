#include "ops/store_check.h"

#include <filesystem>

#include "build/snapshots.h"
#include "rootfs/snapshot.h"

namespace anyarch::ops {

namespace fs = std::filesystem;

ErrorCode StoreCheckReport::worst() const {
  for (ErrorCode c : {ErrorCode::kDigestMismatch, ErrorCode::kInvalid, ErrorCode::kNotFound}) {
    for (const auto& p : layout.problems) {
      if (p.code == c) return c;
    }
  }
  return ErrorCode::kIo;
}

Result<StoreCheckReport> CheckStore(const std::string& store_root, bool repair) {
  StoreCheckReport r;
  ANYARCH_TRY(r.layout, content::CheckLayout(store_root, {.repair = repair}));
  auto add = [&](const std::vector<fs::path>& paths, const std::string& what) {
    for (const auto& p : paths) {
      content::Leftover l{fs::relative(p, store_root).string(), what, false};
      if (repair) {
        std::error_code ec;
        fs::remove_all(p, ec);
        l.removed = !ec;
      }
      r.layout.leftovers.push_back(std::move(l));
    }
  };
  add(rootfs::SnapshotLeftovers(store_root), "half-unpacked snapshot of a killed run");
  add(build::BuildLeftovers(store_root), "working directory of a killed build");
  return r;
}

}  // namespace anyarch::ops

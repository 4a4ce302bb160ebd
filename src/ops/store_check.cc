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
  // A killed run's container directory stays, as a kept container (ps lists it, rm removes it);
  // only the temporary files of its interrupted writes (/etc/resolv.conf ...) are leftovers.
  std::vector<fs::path> container_temps;
  std::error_code ec;
  for (const auto& c : fs::directory_iterator(fs::path(store_root) / "containers", ec)) {
    std::error_code ec2;
    for (const auto& e : fs::directory_iterator(c.path(), ec2)) {
      std::string n = e.path().filename().string();
      if (n.size() > 1 && n[0] == '.' && n.find(".tmp-") != std::string::npos)
        container_temps.push_back(e.path());
    }
  }
  add(container_temps, "temporary file of a killed run");
  add(build::BuildLeftovers(store_root), "working directory of a killed build");
  return r;
}

}  // namespace anyarch::ops

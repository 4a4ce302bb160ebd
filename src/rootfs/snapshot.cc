#include "rootfs/snapshot.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/fs.h"
#include "base/process.h"
#include "base/progress_reader.h"
#include "image/validate.h"
#include "layer/unpack.h"
#include "rootfs/chain_id.h"

namespace anyarch::rootfs {

namespace fs = std::filesystem;

Result<fs::path> UnpackSnapshot(image::ImageSource& src, const image::Manifest& m,
                                const image::ImageConfig& cfg, const std::string& store_root,
                                Reporter& rep, std::vector<std::string>& skipped) {
  ANYARCH_CHECK(image::CheckDiffIdCount(m, cfg));
  fs::path base = fs::path(store_root) / "snapshots";
  std::string id = m.layers.empty() ? "empty" : ChainId(cfg.diff_ids).hex();
  fs::path final_dir = base / id;
  // Private: snapshots hold the images' setuid files and whatever else they bring.
  ANYARCH_CHECK(MakePrivateDir(base));
  std::error_code ec;
  if (fs::is_directory(final_dir / "rootfs", ec)) return final_dir / "rootfs";
  // Removed on every early return below: a refused layer leaves nothing behind.
  ANYARCH_TRY(TempDir tmp, TempDir::Create(".unpack-" + std::to_string(::getpid()), base));
  fs::path rootfs = tmp.path() / "rootfs";
  fs::create_directories(rootfs, ec);
  if (ec) return MakeError(ErrorCode::kIo, rootfs.string() + ": " + ec.message());
  ::chmod(rootfs.c_str(), 0755);
  std::vector<std::string> layer_skipped;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const auto& l = m.layers[i];
    rep.Progress(
        {.id = l.digest.ToString(),
         .action = "unpack",
         .current = static_cast<std::uint64_t>(i + 1),
         .total = m.layers.size(),
         .detail = "layer " + std::to_string(i + 1) + " of " + std::to_string(m.layers.size())});
    ANYARCH_TRY(auto reader, src.OpenBlob(l));
    // "fetch": the bytes of the layer as they are read (a tty shows a bar per layer).
    const auto size = static_cast<std::uint64_t>(l.size);
    ProgressReader fetch(*reader, rep, l.digest.ToString(), "fetch", size);
    auto stats = layer::ApplyLayer(fetch, rootfs.string(), {.diff_id = cfg.diff_ids[i]});
    if (!stats) {
      return Unexpected(
          std::move(stats.error())
              .With("unpacking layer " + std::to_string(i + 1) + " (" + l.digest.ToString() + ")"));
    }
    rep.Progress({.id = l.digest.ToString(),
                  .action = "fetch",
                  .current = size,
                  .total = size,
                  .done = true});
    layer_skipped.insert(layer_skipped.end(), stats->skipped.begin(), stats->skipped.end());
  }
  skipped.insert(skipped.end(), layer_skipped.begin(), layer_skipped.end());
  // Publish atomically: a killed unpack leaves only a .unpack-* directory, never a half rootfs.
  if (::rename(tmp.path().c_str(), final_dir.c_str()) != 0) {
    if (fs::is_directory(final_dir / "rootfs", ec)) return final_dir / "rootfs";  // another run won
    return Unexpected(ErrnoError(errno, "publishing " + final_dir.string()));
  }
  tmp.Release();
  return final_dir / "rootfs";
}

std::vector<fs::path> SnapshotLeftovers(const std::string& store_root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(store_root) / "snapshots", ec)) {
    std::string name = e.path().filename().string();
    std::error_code ec2;
    if (name.rfind(".unpack-", 0) == 0) {
      long pid = LeadingPid(name.substr(8));
      if (!ProcessAlive(pid)) out.push_back(e.path());
    } else if (name.rfind(".unpack.", 0) == 0 || !fs::is_directory(e.path() / "rootfs", ec2)) {
      out.push_back(e.path());
    }
  }
  return out;
}

}  // namespace anyarch::rootfs

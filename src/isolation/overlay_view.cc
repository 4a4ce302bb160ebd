#include "isolation/overlay_view.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "base/fs.h"
#include "isolation/userns.h"

namespace anyarch::isolation {

std::string OverlayOptions(const OverlaySpec& spec) {
  std::string lower;
  for (const auto& l : spec.lowers) lower += (lower.empty() ? "" : ":") + l;
  if (spec.upper.empty()) return "lowerdir=" + lower + OverlayNamespaceOptions();
  // No redirects are made (the differ reads a renamed directory as new). With userxattr the
  // kernel refuses redirect_dir=off, and nofollow means the same for an upper.
  bool userns = !OverlayNamespaceOptions().empty();
  return "lowerdir=" + lower + ",upperdir=" + spec.upper + ",workdir=" + spec.work +
         (userns ? ",redirect_dir=nofollow" : ",redirect_dir=off") + ",index=off,metacopy=off" +
         OverlayNamespaceOptions();
}

Status WithOverlays(const std::vector<OverlaySpec>& specs,
                    const std::function<Status(const std::vector<std::string>&)>& fn) {
  for (const auto& spec : specs) {
    if (spec.lowers.empty()) return MakeError(ErrorCode::kInvalid, "an overlay needs a lower");
  }
  if (::geteuid() != 0)
    return MakeError(ErrorCode::kDenied, "mounting a snapshot needs root (overlayfs)");
  Status result = Ok();
  std::thread worker([&] {
    // Only this thread leaves the host's mount namespace; the rest of anyarch stays.
    if (::unshare(CLONE_FS | CLONE_NEWNS) != 0) {
      result = Unexpected(ErrnoError(errno, "creating a mount namespace"));
      return;
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      result = Unexpected(ErrnoError(errno, "making mounts private"));
      return;
    }
    auto dir = TempDir::Create("anyarch-view");
    if (!dir) {
      result = Unexpected(dir.error());
      return;
    }
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < specs.size() && result; ++i) {
      std::string m = (dir->path() / std::to_string(i)).string();
      if (::mkdir(m.c_str(), 0755) != 0) {
        result = Unexpected(ErrnoError(errno, "creating " + m));
        break;
      }
      std::string opts = OverlayOptions(specs[i]);
      unsigned long flags = MS_NODEV | MS_NOSUID | (specs[i].upper.empty() ? MS_RDONLY : 0);
      // Overlay refuses a read-only view of one directory: that is a read-only bind mount.
      bool bind = specs[i].upper.empty() && specs[i].lowers.size() == 1;
      int rc = bind ? ::mount(specs[i].lowers[0].c_str(), m.c_str(), nullptr, MS_BIND, nullptr)
                    : ::mount("overlay", m.c_str(), "overlay", flags, opts.c_str());
      if (rc == 0 && bind)
        rc = ::mount(nullptr, m.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr);
      if (rc != 0) {
        int err = errno;
        result = err == ENODEV ? MakeError(ErrorCode::kUnsupported,
                                           "overlayfs is not available (modprobe overlay)")
                               : Unexpected(ErrnoError(err, "mounting a snapshot overlay"));
        break;
      }
      merged.push_back(m);
    }
    if (result) result = fn(merged);
    for (auto it = merged.rbegin(); it != merged.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  });
  worker.join();
  return result;
}

Status WithOverlay(const OverlaySpec& spec, const std::function<Status(const std::string&)>& fn) {
  return WithOverlays({spec}, [&](const std::vector<std::string>& m) { return fn(m[0]); });
}

}  // namespace anyarch::isolation

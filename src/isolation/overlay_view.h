// A writable merged view of a snapshot stack, for work that anyarch does itself rather than a
// program in a container: a COPY writing files into a stage, reading the image's /etc/passwd
// for --chown, exporting a stage's final filesystem.
//
// The overlay is mounted in a private mount namespace of a thread made for the purpose
// (unshare(CLONE_FS | CLONE_NEWNS) on that thread only), so it is visible to nothing else on
// the machine and disappears with the thread, however anyarch ends: no mount is ever left
// behind on the host. Snapshots are mounted with redirect_dir=off, index=off and metacopy=off,
// so the upper directory is a complete, self-contained record of the changes (layer/diff.h).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::isolation {

struct OverlaySpec {
  std::vector<std::string> lowers;  // read-only, topmost first; at least one
  std::string upper;                // receives the changes; empty: a read-only view
  std::string work;                 // overlay's work directory (same filesystem as upper)
};

// Mounts each overlay at a temporary directory and calls `fn` with their paths (in order), on
// a new thread in its own mount namespace; returns what `fn` returns. Processes `fn` forks
// (a container, for a RUN step) see the views too. `fn` must not start threads of its own
// that touch the views. kDenied without root; kUnsupported when overlayfs is unavailable (the
// message says so).
Status WithOverlays(const std::vector<OverlaySpec>& specs,
                    const std::function<Status(const std::vector<std::string>&)>& fn);

// The same for one overlay.
Status WithOverlay(const OverlaySpec& spec, const std::function<Status(const std::string&)>& fn);

// The overlay mount options for `spec` (exposed for tests and for the container module).
std::string OverlayOptions(const OverlaySpec& spec);

}  // namespace anyarch::isolation

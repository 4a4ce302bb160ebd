// Spurious copy-ups: overlayfs copies a lower file up into the upper directory before any
// change of its data or metadata (open for writing, chmod, chown, setxattr, utimes), even one
// that leaves it as it was: `chmod 644` of a 0644 file, `chown root:root` of root's file, a
// program opening a file read-write and writing nothing. The copy then looks like a change and
// would put the whole file into the layer again. A copy-up that changed nothing is dropped from
// the upper directory before the layer is written, so the lower file shows through unchanged.
//
// "Nothing changed" is decided against the lower view as the step saw it (a read-only overlay
// of its lowers, which applies their whiteouts and opaque directories): same file type, mode,
// owner, size, mtime (to the nanosecond; copy-up keeps it), the attributes a layer records, and
// the same bytes. Traps handled:
// - the upper directory is the step's, written by the container: it is walked without following
//   any symlink, and the lower path is looked up with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so a
//   path that runs through a symlink in the view is never compared (the copy stays);
// - a hard-linked upper file (nlink > 1) stays, whatever its content: its link group is part of
//   the layer;
// - a directory left empty by the drop goes too when it was only copied up (same mode, owner,
//   mtime and attributes as below, not opaque); one the step made or changed stays.
#pragma once

#include <cstddef>
#include <string>

#include "base/error.h"

namespace anyarch::layer {

struct CopyUpReport {
  std::size_t files_dropped = 0, dirs_dropped = 0;
  std::uint64_t bytes_dropped = 0;
};

// Drops from `upper` the regular files and then directories that only a copy-up put there,
// compared with `lower_view` (the merged lower filesystem). kIo names what could not be read.
Result<CopyUpReport> DropSpuriousCopyUps(const std::string& upper, const std::string& lower_view);

}  // namespace anyarch::layer

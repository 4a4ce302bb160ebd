// `anyarch store check [--repair]`: is the local store sound, and what did killed processes
// leave in it. The checks live with what they check: the OCI layout (blobs, names) in
// content/store_check.h, unpacked snapshots in rootfs/snapshot.h, build state in
// build/snapshots.h; this puts their findings in one report.
#pragma once

#include <string>

#include "base/error.h"
#include "content/store_check.h"

namespace anyarch::ops {

struct StoreCheckReport {
  content::LayoutCheck layout;  // problems, and every leftover of the whole store
  // No problem left (leftovers do not count: nothing reads them, prune and --repair remove
  // them). A problem that --repair moved aside still counts: the name that needed it is broken.
  bool sound() const { return layout.problems.empty(); }
  // The class of the worst problem, for the exit code: digest mismatch before invalid, before not
  // found, before I/O. Meaningless when sound().
  ErrorCode worst() const;
};

// Checks the store at `store_root`; with `repair`, moves corrupt blobs to <store>/corrupt/ and
// removes the leftovers. Errors only when the check cannot run (kIo).
Result<StoreCheckReport> CheckStore(const std::string& store_root, bool repair);

}  // namespace anyarch::ops

// Checking the OCI layout of a local store (`anyarch store check`): every blob's bytes against the
// digest that names it, every name in index.json against the blobs its image needs, and the
// temporary files killed writers left. The rest of the store (snapshots, build state) is checked
// by the modules that write it; ops/store_check.h puts the pieces together.
//
// Sound means: no corrupt, missing or unreadable content. A one-platform pull keeps the whole
// index, so an index child that is absent is not a problem (nothing ever reads it), but a child
// that is present must be complete, and a name must reach at least one complete image.
// Leftovers (temporary files of killed processes) do not make a store unsound: no command reads
// them and the next prune, or --repair, removes them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::content {

struct StoreProblem {
  // "corrupt_blob" (bytes do not match the digest), "missing_blob" (a name needs it),
  // "size_mismatch" (a descriptor gives another size), "invalid_manifest", "invalid_index"
  // (index.json), "stray_file" (not a blob name under blobs/), "unreadable".
  std::string kind;
  std::string path;       // the file concerned, relative to the store ("" when none)
  std::string name;       // the image name whose content is affected ("" when none)
  std::string message;    // one line for people
  bool repaired = false;  // --repair moved the file to corrupt/
  // The exit-code class: kDigestMismatch, kNotFound, kInvalid or kIo.
  ErrorCode code = ErrorCode::kInvalid;
};

struct Leftover {
  std::string path;  // relative to the store
  std::string what;  // e.g. "temporary file of a killed write"
  bool removed = false;
};

struct LayoutCheck {
  std::size_t blobs = 0, names = 0, images = 0, unreferenced_blobs = 0;
  std::uint64_t bytes = 0;
  std::vector<StoreProblem> problems;
  std::vector<Leftover> leftovers;
};

struct LayoutCheckOptions {
  // Move corrupt blobs and stray files to <dir>/corrupt/ (where nothing reads them and the user
  // can look), and delete the leftovers. Names are never changed: a name whose image lost a blob
  // stays a problem until the image is pulled again or removed.
  bool repair = false;
};

// Checks the layout at `dir` under StoreLock::Exclusive (it waits for running writers, so every
// temporary file it finds belongs to a process that is gone). A directory without a layout is an
// empty, sound store. Errors only when the check itself cannot run (kIo, with the path); what it
// finds is in the report.
Result<LayoutCheck> CheckLayout(const std::filesystem::path& dir,
                                const LayoutCheckOptions& options = {});

}  // namespace anyarch::content

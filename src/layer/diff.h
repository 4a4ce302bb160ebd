// Turning a snapshot's changes into an image layer (OCI image-spec layer.md, "Change Types"
// and "Whiteouts"): the directory is an overlayfs upper directory, so it holds exactly what a
// step added, changed or removed, and only it is read — never the lower layers.
//
// Overlay's records of removal become OCI's:
// - a character device 0/0 is a whiteout: the entry ".wh.<name>" is written instead;
// - a directory with the xattr trusted.overlay.opaque (or user.overlay.opaque) = "y" replaced a
//   lower directory: it is written followed by ".wh..wh..opq", so nothing below shows through;
// - trusted.overlay.* and user.overlay.* attributes are overlay's bookkeeping and are dropped;
//   a directory with trusted.overlay.redirect (a renamed lower directory) cannot be expressed
//   as a change set and is refused, which is why snapshots are mounted with redirect_dir=off.
//
// Reproducible output: entries are written depth first in byte order of their names; owners
// are numeric (no user or group names); hard links within the layer are kept as links (the
// first path in that order holds the data); the extended attributes a layer carries (user.*
// and security.capability: layer::IsLayerXattr) are kept as PAX SCHILY.xattr records; with a
// source date epoch, every mtime later than it is clamped to it, and no atime or ctime is
// recorded. The same tree and options give the same bytes, so the same diff_id and blob digest.
//
// The tar is streamed through SHA-256 (the diff_id), the compressor, SHA-256 again (the blob
// digest) and into a temporary file that is renamed to its digest: one pass, no layer in
// memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "base/digest.h"
#include "base/error.h"
#include "layer/compress.h"

namespace anyarch::layer {

struct LayerWriteOptions {
  CompressOptions compress;
  std::optional<std::int64_t> source_date_epoch;  // clamp mtimes to this (seconds)
};

struct LayerBlob {
  Digest digest;  // of the compressed blob
  std::int64_t size = 0;
  Digest diff_id;          // of the uncompressed tar
  std::string media_type;  // the OCI layer media type for the compression
  std::uint64_t entries = 0;
};

// Writes the layer for the changes in `upper` into `blobs_dir`/<hex of its digest> (an OCI
// layout's blobs/sha256), atomically: a temporary file in blobs_dir, fsynced and renamed. A
// blob already there is kept. kIo names the file that could not be read or written;
// kUnsupported for a redirected directory.
Result<LayerBlob> WriteLayer(const std::filesystem::path& upper,
                             const std::filesystem::path& blobs_dir,
                             const LayerWriteOptions& options = {});

// The extended attributes of `path` (not followed) that a layer records (layer::IsLayerXattr).
// Empty where the filesystem has none.
Result<std::map<std::string, std::string>> LayerXattrs(const std::string& path);

// True when `upper` holds no change at all (empty directory).
bool IsEmptyDiff(const std::filesystem::path& upper);

}  // namespace anyarch::layer

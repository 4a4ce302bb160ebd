// The unpacked root filesystems `anyarch run` uses, cached per layer chain under
// <store>/snapshots/<chain id>/rootfs (chain ID as in the OCI image spec, config.md; chain_id.h).
//
// A chain ID is computed from the config's diff_ids, so the cache is only sound if the layers
// really are those diff_ids: each layer's uncompressed stream is hashed while it is applied and
// compared with its diff_id before anything is published. The rootfs is built in a temporary
// directory beside the cache and renamed into place only when every layer matched, so neither a
// mismatch nor a killed run leaves a half-built or wrong rootfs under the chain ID; the
// temporary directory is named after the unpacking process, so leftovers can be told from work
// in progress.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/reporter.h"
#include "image/manifest.h"
#include "image/source.h"

namespace anyarch::rootfs {

// Returns the rootfs for the manifest's layers, unpacking them (read from `src`) if the cache
// does not hold it yet. Appends what the unpack did not create (device nodes) to `skipped`.
// kDigestMismatch names the layer, the config's diff_id and the digest of what was read; kInvalid
// when the config and the manifest disagree on the number of layers.
Result<std::filesystem::path> UnpackSnapshot(image::ImageSource& src, const image::Manifest& m,
                                             const image::ImageConfig& cfg,
                                             const std::string& store_root, Reporter& rep,
                                             std::vector<std::string>& skipped);

// What killed unpacks left under <store_root>/snapshots, as absolute paths: .unpack-<pid>.*
// directories whose process is gone (.unpack.* ones, from versions that did not name the pid,
// always), and snapshot directories without a rootfs. Running unpacks are never listed.
std::vector<std::filesystem::path> SnapshotLeftovers(const std::string& store_root);

}  // namespace anyarch::rootfs

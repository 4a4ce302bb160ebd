// The builder's part of the local store, beside the OCI layout:
//   <store>/build/cache/<key>/record.json  a finished step: its layer descriptor and diff_id
//   <store>/build/cache/<key>/upper/       its changes, as the overlay upper directory it was
//                                          (the lower of the steps after it); an imported
//                                          entry gets it when a step first mounts it
//   <store>/build/tmp/<id>/                a step in progress (upper/, work/, merged/)
//   <store>/build/mounts/<platform>/<id>/  RUN --mount=type=cache directories
// Layer blobs go into the layout's blobs/sha256 like every other blob.
//
// A step is published by renaming its finished directory to its key, after its layer blob and
// record are on disk: a killed build leaves only tmp/ entries (removed by the next build, and by
// prune), never a record that names a missing blob or a half-written diff. A record whose blob
// has gone (pruned) is a miss. Every directory here is 0700: what a RUN step leaves (a setuid
// file, say) is reachable by root only.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "image/descriptor.h"
#include "layer/diff.h"
#include "platform/platform.h"

namespace anyarch::build {

struct StepRecord {
  std::optional<image::Descriptor> layer;  // none: the step changed nothing
  Digest diff_id;
  // The changes (may be empty); an imported entry's is only on disk after Materialize.
  std::string diff_dir;
};

// A step's working directory, removed on destruction unless committed. Its layout is the one
// isolation::ContainerSpec::state_dir uses (upper/, work/, merged/), so a RUN's container
// writes its changes straight into diff(); published, the directory keeps only upper/.
struct Scratch {
  TempDir dir;
  std::string diff() const { return (dir.path() / "upper").string(); }
  std::string work() const { return (dir.path() / "work").string(); }
  std::string state() const { return dir.path().string(); }
};

class SnapshotStore {
 public:
  // Creates the directories (and the OCI layout) when missing. kIo names what failed.
  static Result<SnapshotStore> Open(const std::string& store_root);

  const std::string& store_root() const { return root_; }
  std::filesystem::path blobs_dir() const;

  // A complete record for `key` whose layer blob is in the store, or nothing.
  std::optional<StepRecord> Lookup(const Digest& key) const;

  // A fresh working directory for a step.
  Result<Scratch> NewScratch() const;

  // Turns scratch.diff() into a layer blob (none when it is empty), writes the record and
  // publishes the directory under `key`. When another build published the key meanwhile, its
  // record is used and the scratch is dropped, unless `replace` (--no-cache), which puts the
  // new result in its place.
  Result<StepRecord> Commit(const Digest& key, Scratch scratch,
                            const layer::LayerWriteOptions& options, bool replace = false) const;

  // Publishes under `key` a step imported from an exported cache (build/cache_io.h): `layer`
  // (already in blobs_dir(); none for a step that changed nothing), read to its end and verified
  // against its digest and `diff_id` (kDigestMismatch) but not unpacked: a fully cached build
  // only names the layer, and a step that runs on top of it unpacks it then (Materialize). An
  // entry already there is kept.
  Result<StepRecord> Import(const Digest& key, const std::optional<image::Descriptor>& layer,
                            const Digest& diff_id) const;

  // Makes sure every entry directory among `dirs` (StepRecord::diff_dir values; other paths,
  // such as a base image's rootfs, are skipped) is on disk, unpacking an imported layer into it
  // the first time something mounts it. Safe beside other builds: each unpacks into its own
  // scratch and the first rename wins. kNotFound when the layer blob has gone.
  Status Materialize(const std::vector<std::string>& dirs) const;

  // The directory of a cache mount (created 0700 when missing, with `mode` for its content
  // root and owner uid/gid when first created).
  Result<std::string> CacheMount(const platform::Platform& platform, const std::string& id,
                                 unsigned mode, unsigned uid, unsigned gid) const;

  // Removes leftovers of killed builds (BuildLeftovers).
  void RemoveLeftovers() const;

 private:
  // A reader over a layer blob of the store that checks its digest and size.
  Result<std::unique_ptr<Reader>> OpenLayer(const image::Descriptor& layer) const;
  // Writes record.json into the scratch and renames it to the entry of `key`.
  Result<StepRecord> Publish(const Digest& key, Scratch scratch, const Json& record,
                             StepRecord r) const;
  std::string root_;
};

// What killed builds left in <store_root>/build, as absolute paths: tmp/ entries and half-made
// cache mounts (mounts/<platform>/.new-<pid>-*) whose owning process is gone. Entries of running
// builds are never listed. Creates nothing.
std::vector<std::filesystem::path> BuildLeftovers(const std::string& store_root);

// One entry of the build cache: a published step (cache/<key>) or a cache mount
// (mounts/<platform>/<id>).
struct CacheEntryInfo {
  std::filesystem::path dir;
  bool mount = false;            // a RUN --mount=type=cache directory
  std::string name;              // the key (hex), or "<platform>/<id>" of a mount
  std::uint64_t bytes = 0;       // its files' sizes
  std::uint64_t blob_bytes = 0;  // its layer blob's size (the blob is in the layout's blobs/)
  std::int64_t last_used = 0;    // seconds since the epoch: a step's last hit, a mount's last write
  std::string blob;              // a step's layer blob (hex), when it has one
};

// The whole build cache under <store_root>/build, least recently used first. For du and
// prune, which must not run beside a build. Creates nothing.
std::vector<CacheEntryInfo> ListBuildCache(const std::string& store_root);

// The layer blobs (hex digests) the build cache's records name: garbage collection keeps them,
// since no image name reaches a step that is only cached.
std::set<std::string> BuildCacheBlobs(const std::string& store_root);

}  // namespace anyarch::build

// Reading an OCI image layout directory (image-spec image-layout.md): "oci-layout" holds
// {"imageLayoutVersion": "1.0.0"}, "index.json" is an image index whose entries are named by
// the org.opencontainers.image.ref.name annotation, and blobs live at blobs/<alg>/<hex>.
// Every blob read is checked against its descriptor's size and digest; manifests over 4 MiB are
// refused; a digest never becomes a path outside blobs/ (it is parsed before use).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/manifest.h"
#include "image/source.h"

namespace anyarch::content {

inline constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";

class Layout {
 public:
  // kNotFound when `dir` has no oci-layout file, kInvalid when it or index.json is malformed.
  static Result<Layout> Open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const image::Index& index() const { return index_; }
  // The names in index.json, in order.
  std::vector<std::string> Tags() const;
  // The entry named `tag`; with an empty tag, the only entry. kNotFound lists the names.
  Result<image::Descriptor> Find(const std::string& tag) const;

  std::filesystem::path BlobPath(const Digest& digest) const;
  // A verified reader over a blob. kNotFound when the blob file is missing.
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& desc) const;
  // A manifest or index by descriptor, verified, at most 4 MiB.
  Result<image::RawManifest> ReadManifest(const image::Descriptor& desc) const;

 private:
  std::filesystem::path dir_;
  image::Index index_;
};

// The parsing half of Layout::Open, over bytes (for tests and fuzzing). CheckLayoutMarker: the
// oci-layout file, kInvalid when it is not {"imageLayoutVersion": "..."}, kUnsupported for a
// version other than 1.0.0. ParseLayoutIndex: index.json, which must be an OCI index (kInvalid, as
// image::ParseIndex, also when its mediaType field claims another type). `what` names the file.
Status CheckLayoutMarker(std::string_view bytes, const std::string& what);
Result<image::Index> ParseLayoutIndex(std::string bytes, const std::string& what);

// Creates (or opens) a layout for writing: oci-layout and an empty index.json are written
// atomically when missing.
Result<Layout> CreateLayout(const std::filesystem::path& dir);

// Writes a blob into a layout: streamed to a temporary file in blobs/sha256, checked against
// the descriptor's size and digest, then renamed into place. A blob already present is kept.
Status WriteBlob(const std::filesystem::path& dir, const image::Descriptor& desc, Reader& data);

// Points `name` (the org.opencontainers.image.ref.name annotation) at `desc` in index.json,
// replacing an entry with the same name; under an exclusive lock, written atomically.
Status SetRef(const std::filesystem::path& dir, const std::string& name, image::Descriptor desc);
// Removes the entry named `name`; kNotFound if there is none.
Status RemoveRef(const std::filesystem::path& dir, const std::string& name);

// The local store's writer/collector lock (<dir>/gc.lock): sinks hold it shared while they
// write blobs that no name reaches yet, garbage collection holds it exclusively, so a collection
// never deletes the blobs of a copy in progress. Released when destroyed.
class StoreLock {
 public:
  static Result<StoreLock> Shared(const std::filesystem::path& dir);
  // Waits for running writers to finish.
  static Result<StoreLock> Exclusive(const std::filesystem::path& dir);
  StoreLock() = default;
  StoreLock(StoreLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StoreLock& operator=(StoreLock&& o) noexcept;
  ~StoreLock();

 private:
  int fd_ = -1;
};

// image::ImageSink writing into a layout under `name` (empty: untagged). With `store_lock`, the
// sink holds StoreLock::Shared for its lifetime (used for the local store).
Result<std::unique_ptr<image::ImageSink>> OpenLayoutSink(const std::filesystem::path& dir,
                                                         const std::string& name,
                                                         bool store_lock = false);

struct GcReport {
  std::size_t blobs_removed = 0;
  std::uint64_t bytes_freed = 0;
  std::size_t temp_files_removed = 0;
};

// Deletes every blob no entry of index.json reaches (through indexes, manifests, configs and
// layers; children missing from the layout are tolerated) and leftover temporary files, under
// StoreLock::Exclusive and the index lock. A layout that does not exist gives an empty report.
// `more_roots`, called under the locks, names further blobs to keep (hex digests): the build
// cache's layers, which no name reaches. With `dry_run`, nothing is deleted and the report says
// what would be.
Result<GcReport> CollectGarbage(const std::filesystem::path& dir,
                                const std::function<std::set<std::string>()>& more_roots = nullptr,
                                bool dry_run = false);

// image::ImageSource over a layout and one of its tags (empty: the only image).
Result<std::unique_ptr<image::ImageSource>> OpenLayoutSource(const std::filesystem::path& dir,
                                                             const std::string& tag);

}  // namespace anyarch::content

// The transport interfaces that every place an image can live implements: a registry
// repository (registry/), an OCI layout or the local store (content/), oci-archive and
// docker-archive tarballs (content/). The copying engine (transport/) and with it copy, pull, push,
// export and import are written once against these, so any source can go to any sink.
//
// Contract shared by all implementations:
// - Manifests are handled as raw bytes. A manifest's digest is the sha256 of exactly those bytes;
//   nothing re-serialises JSON where a digest depends on it.
// - OpenBlob returns a reader that is already verified against the descriptor's size and digest
//   (wrap in VerifyingReader), so a tampered blob fails with kDigestMismatch at its end.
// - Sinks make writes atomic: a blob or manifest is either fully there or not at all.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/io.h"
#include "image/descriptor.h"

namespace anyarch::image {

// Manifests (and indexes) larger than this are refused everywhere, as distribution does.
inline constexpr std::size_t kMaxManifestSize = 4 * 1024 * 1024;

struct RawManifest {
  std::string bytes;       // exactly as served or written
  std::string media_type;  // from the transport (Content-Type) or, failing that, the JSON
  Digest digest;           // sha256 of bytes

  // The descriptor that points at this manifest (no platform set).
  Descriptor ToDescriptor() const;
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // For messages: "registry.example/app:1", "oci:/path:tag", "local:app:1".
  virtual std::string Describe() const = 0;
  // The manifest or index that this source's reference names (its tag, digest or only image).
  virtual Result<RawManifest> GetRootManifest() = 0;
  // A manifest by digest, e.g. an index child. kNotFound if absent. The bytes are verified.
  virtual Result<RawManifest> GetManifest(const Descriptor& desc) = 0;
  // A verified stream of a blob's bytes. kNotFound if absent.
  virtual Result<std::unique_ptr<Reader>> OpenBlob(const Descriptor& desc) = 0;
};

class ImageSink {
 public:
  virtual ~ImageSink() = default;
  virtual std::string Describe() const = 0;
  // True if the sink already holds the blob (a HEAD request, a file check).
  virtual Result<bool> HasBlob(const Descriptor& desc) = 0;
  // Stores a blob, reading `data` to the end. Implementations verify size and digest and leave
  // nothing behind on failure.
  virtual Status PutBlob(const Descriptor& desc, Reader& data) = 0;
  // Stores a manifest or index by digest. Children must already be present (registries refuse
  // an index whose children are missing, and stores keep the same rule).
  virtual Status PutManifest(const RawManifest& manifest) = 0;
  // Points the sink's reference (tag) at the root manifest, after PutManifest. Sinks without
  // names (a digest reference) accept it as a no-op.
  virtual Status Tag(const RawManifest& root) = 0;
  // Asks the sink to take the blob from another repository of the same registry without
  // moving the bytes (a registry's cross-repository mount). True when done; false when the
  // sink cannot (the caller then copies the bytes).
  virtual Result<bool> MountBlob(const Descriptor& desc, const std::string& source_registry,
                                 const std::string& source_repository) {
    (void)desc;
    (void)source_registry;
    (void)source_repository;
    return false;
  }
  // Finishes the write (archives write their trailer and rename into place). No-op by default.
  virtual Status Commit() { return Ok(); }
  // How many PutBlob calls may run at once (0: any number). Sinks are safe to call from several
  // threads; a sink that writes one stream (a tar file) says 1, so callers do not open downloads
  // that would wait for it.
  virtual int MaxParallelWrites() const { return 0; }
};

}  // namespace anyarch::image

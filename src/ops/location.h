// Where an image lives, in skopeo's transport syntax: a registry reference by default, or
// oci:DIR[:TAG]. oci-archive:, docker-archive: and local: are recognised and refused with a
// message saying so until those transports exist.
#pragma once

#include <memory>
#include <string>

#include "base/error.h"
#include "image/source.h"

namespace anyarch::ops {

struct Location {
  std::string transport;  // "oci", "oci-archive", "docker-archive", "local", "registry"
  std::string path;       // directory or file for the file transports
  std::string tag;        // oci:DIR:TAG
  std::string reference;  // registry and local references
};

// Splits a location string. kInvalid for a malformed one (e.g. "oci:" with no directory).
Result<Location> ParseLocation(const std::string& text);

struct SourceOptions {
  bool insecure = false;  // plain HTTP / unverified TLS for registries (loopback is always allowed)
  std::string temp_dir;   // where registry blobs are staged while read
  std::string store_root;  // the local store, for local:REF
};

// Opens an image sink: oci:DIR[:TAG] or local:REF. kUnsupported for registries (push) and the
// archive transports until they exist.
Result<std::unique_ptr<image::ImageSink>> OpenSink(const std::string& text,
                                                   const SourceOptions& options = {});

// The name a local:REF image has in the store ("docker.io/library/busybox:latest").
Result<std::string> LocalName(const std::string& reference);

// Opens an image source: oci:DIR[:TAG] or a registry reference. kUnsupported for the other
// transports until they exist.
Result<std::unique_ptr<image::ImageSource>> OpenSource(const std::string& text,
                                                       const SourceOptions& options = {});

}  // namespace anyarch::ops

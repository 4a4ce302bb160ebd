// Where an image lives, in skopeo's transport syntax: oci:DIR[:TAG] is supported here;
// oci-archive:, docker-archive:, local: and registry references are recognised and refused
// with a message saying so until the transports exist.
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

// Opens an image source. kUnsupported for transports not implemented yet.
Result<std::unique_ptr<image::ImageSource>> OpenSource(const std::string& text);

}  // namespace anyarch::ops

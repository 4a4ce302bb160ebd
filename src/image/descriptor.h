// OCI content descriptors (image-spec descriptor.md), with their JSON codec.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/json.h"
#include "platform/platform.h"

namespace anyarch::image {

struct Descriptor {
  std::string media_type;
  Digest digest;
  std::int64_t size = 0;
  std::optional<platform::Platform> platform;  // only in index entries
  std::map<std::string, std::string> annotations;
  std::vector<std::string> urls;
  std::string artifact_type;

  friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

// Reads a descriptor object. kInvalid names `what` and the bad field. Platform fields are kept
// as written (not normalised), so that a re-encoded index says what the original said.
Result<Descriptor> DescriptorFromJson(const Json& j, std::string_view what);
// Reads an "annotations" object (string values only) from `j`, if present.
Result<std::map<std::string, std::string>> AnnotationsFromJson(const Json& j,
                                                               std::string_view what);
// Writes the fields in the order the specs list them; empty optional fields are omitted.
OrderedJson DescriptorToJson(const Descriptor& d);
// The platform object of an index entry ("architecture", "os", "variant", "os.version",
// "os.features"), and back.
Result<platform::Platform> PlatformFromJson(const Json& j, std::string_view what);
OrderedJson PlatformToJson(const platform::Platform& p);

}  // namespace anyarch::image

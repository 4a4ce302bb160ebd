// Image manifests, indexes and configs (OCI image-spec v1.1 and Docker image manifest v2
// schema 2), parsed from raw bytes that are kept unchanged: the digest of a manifest is always
// the sha256 of the bytes it came in. Builders produce new bytes only for new documents.
//
// Traps handled: a Docker manifest list cannot carry annotations (only OCI can); index entries
// without a platform are legal (their platform comes from the child's config); schema 1
// manifests are refused with a message saying so; a document's mediaType field, when present,
// must agree with what the transport said.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "image/descriptor.h"
#include "image/source.h"
#include "platform/platform.h"

namespace anyarch::image {

struct Manifest {
  RawManifest raw;
  int schema_version = 2;
  std::string media_type;  // as declared in the JSON (may be empty for OCI)
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
  std::optional<Descriptor> subject;
};

struct Index {
  RawManifest raw;
  int schema_version = 2;
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

struct ImageConfig {
  std::string raw;              // the config blob's bytes
  platform::Platform platform;  // os, architecture, variant, os.version, os.features
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
  std::map<std::string, std::string> labels;
  std::vector<Digest> diff_ids;
  std::string created;
};

// Determines the kind of a document: the transport's media type if it is one we know,
// else the JSON's mediaType field, else OCI inferred from the fields (manifests vs layers).
// kUnsupported for schema 1 and unknown types, kInvalid for malformed JSON.
Result<std::string> DetectMediaType(std::string_view bytes, std::string_view transport_type);

// Parses a manifest or an index from raw bytes (raw.digest must be set by the caller or is
// computed). kInvalid names the field that is wrong.
Result<Manifest> ParseManifest(RawManifest raw);
Result<Index> ParseIndex(RawManifest raw);

// Builds a RawManifest from bytes: digest computed, media type detected.
Result<RawManifest> MakeRawManifest(std::string bytes, std::string_view transport_type = {});

Result<ImageConfig> ParseConfig(std::string bytes);

// Serialises a new index. `media_type` is kOciIndex or kDockerManifestList; a Docker list
// refuses annotations (kInvalid) since that format cannot carry them.
Result<RawManifest> BuildIndex(std::string_view media_type,
                               const std::vector<Descriptor>& manifests,
                               const std::map<std::string, std::string>& annotations = {});

// Chooses the index media type for a set of children: a Docker manifest list when every child
// is a Docker schema 2 manifest and there are no annotations, else an OCI index.
std::string IndexTypeFor(const std::vector<Descriptor>& manifests, bool has_annotations);

// "linux/amd64, linux/arm/v7" for messages.
std::string DescribePlatforms(const std::vector<Descriptor>& manifests);

// Selects the entry of `index` to use for `want` (platform::Choose): the exact platform, else
// a lower variant of the same architecture, never another architecture. Entries without a
// platform are skipped. kNotFound lists the platforms the index has. When `choice` is given it
// receives what was chosen (its index is a position in index.manifests); a choice that is not
// exact is a substitute the caller should warn about (platform::DescribeSubstitute).
Result<Descriptor> SelectPlatform(const Index& index, const platform::Platform& want,
                                  platform::Choice* choice = nullptr);

// Selects every entry matching one of `wants` (each want takes its SelectPlatform entry; an
// entry chosen twice is returned once). kNotFound for the first want with no match, listing
// what the index has. `choices`, when given, receives one Choice per want, in order.
Result<std::vector<Descriptor>> SelectPlatforms(const Index& index,
                                                const std::vector<platform::Platform>& wants,
                                                std::vector<platform::Choice>* choices = nullptr);

}  // namespace anyarch::image

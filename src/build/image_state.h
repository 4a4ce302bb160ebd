// The image a stage is building, step by step: its config document (image-spec config.md, with
// Docker's extra fields: Shell, Healthcheck, OnBuild, ArgsEscaped), its layers, the snapshot
// stack its filesystem is made of, and the cache key of its last step.
//
// The config starts as the base image's own document, so fields anyarch does not know are
// carried into the result unchanged, as BuildKit does; what the Dockerfile sets replaces them.
// Platform fields are set from the target, exactly (never the base image's, which may be a
// lower arm variant).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/json.h"
#include "base/strings.h"
#include "image/descriptor.h"
#include "image/source.h"
#include "platform/platform.h"

namespace anyarch::build {

struct ImageState {
  Json config = Json::object();  // the whole config document
  std::vector<image::Descriptor> layers;
  std::vector<std::string> lowers;  // snapshot directories, topmost first; empty for scratch
  Digest key;                       // cache key of the last step
  // Each filesystem step of this image (its stages from the first FROM on), with the index of
  // its layer in `layers` or -1: what --cache-to type=inline writes into the config.
  std::vector<std::pair<Digest, int>> cache_steps;
  // Where the base image's blobs can be read (null for scratch): export copies them.
  std::shared_ptr<image::ImageSource> base_source;
  std::string base_name;  // for messages: the FROM image as resolved

  // config["config"], created when missing.
  Json& Run();
  const Json& RunConst() const;

  std::vector<std::string> Env() const;  // KEY=VALUE, as in the config
  // The value of KEY in the config's Env, if set.
  std::optional<std::string> GetEnv(const std::string& key) const;
  void SetEnv(const std::string& key, const std::string& value);
  std::string WorkingDir() const;  // "/" when unset
  std::string User() const;
  std::vector<std::string> Shell() const;  // ["/bin/sh", "-c"] when unset

  // Appends a history entry (created_by as BuildKit writes it) and, for a layer, the layer and
  // its diff_id.
  void AddHistory(const std::string& created_by, bool empty_layer, const std::string& created);
  void AddLayer(const image::Descriptor& layer, const Digest& diff_id);
  std::vector<std::string> DiffIds() const;

  // Sets os, architecture, variant (or removes it), os.version/os.features from `p`.
  void SetPlatform(const platform::Platform& p);
};

// A new state from a base image's config bytes (kInvalid for malformed JSON) or for scratch.
Result<ImageState> StateFromConfig(const std::string& config_bytes);
ImageState ScratchState();

}  // namespace anyarch::build

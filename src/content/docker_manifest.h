// The manifest.json of a docker-archive (moby image/tarexport, what `docker save` writes and
// `docker load` reads): [{"Config": "<file>", "RepoTags": ["name:tag", ...], "Layers": [...]}],
// and the image names in it. Pure functions over untrusted bytes, used by the docker-archive
// source and fuzzed on their own. The legacy "repositories" file is written for old loaders but
// never read: names come from RepoTags, as `docker load` takes them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace anyarch::content {

struct DockerImageEntry {
  std::string config;                  // archive path of the config, as written
  std::vector<std::string> repo_tags;  // may be empty (an untagged image)
  std::vector<std::string> layers;     // archive paths, base layer first
};

// Parses manifest.json. kInvalid names `what`, the image's position and the field that is wrong.
// Paths are returned as written: callers make them safe before opening anything.
Result<std::vector<DockerImageEntry>> ParseDockerManifest(std::string_view bytes,
                                                          const std::string& what);

// Picks an image: by one of its RepoTags ("app:1" and "docker.io/library/app:1" are the same),
// by position as "@N", or the only one when `reference` is empty. kNotFound when there is no
// such image (the message lists the tags there are), kInvalid for a malformed name or an empty
// reference with several images. The result is an index into `images`.
Result<std::size_t> SelectDockerImage(const std::vector<DockerImageEntry>& images,
                                      const std::string& reference, const std::string& what);

// "name:tag" split at the tag's colon (not a registry port's); an absent tag is "latest".
// kInvalid for an empty name, a digest, spaces or characters outside printable ASCII.
struct NameTag {
  std::string name;
  std::string tag;
};
Result<NameTag> SplitNameTag(std::string_view ref);

// The Docker-normalised form of "name[:tag]" ("app" is "docker.io/library/app:latest"), for
// matching RepoTags; the input unchanged when it does not parse.
std::string NormalizeRepoTag(const std::string& ref);

}  // namespace anyarch::content

// Image references as Docker and the distribution project define them:
//   reference := name [":" tag] ["@" digest]
//   name      := [domain "/"] path-component ("/" path-component)*
// A first component is a registry host when it contains "." or ":", is "localhost", or has an
// upper-case letter; otherwise the reference is on Docker Hub, whose canonical name is
// "docker.io", whose API host is "registry-1.docker.io", and whose one-component repositories
// live under "library/". "index.docker.io" is an alias of docker.io.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/digest.h"
#include "base/error.h"

namespace anyarch::ref {

inline constexpr std::string_view kDockerHub = "docker.io";
inline constexpr std::string_view kDockerHubApiHost = "registry-1.docker.io";
inline constexpr std::string_view kDefaultTag = "latest";

struct Reference {
  std::string registry;    // "docker.io", "127.0.0.1:5000", "[::1]:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // empty when only a digest was given (or none, without default_tag)
  std::optional<Digest> digest;

  // registry/repository
  std::string Name() const;
  // The full normalised form: registry/repository[:tag][@digest].
  std::string ToString() const;
  // The short form people type: "busybox:latest", "myorg/app:1", "127.0.0.1:5000/app:1".
  std::string Familiar() const;
  // The host to send API requests to (registry-1.docker.io for docker.io).
  std::string ApiHost() const;
  // What to ask the registry's manifests endpoint for: the digest if there is one, else the tag.
  std::string Identifier() const;

  Reference WithTag(std::string new_tag) const;
  Reference WithDigest(Digest d) const;
  Reference WithRepository(std::string repo) const;

  friend bool operator==(const Reference&, const Reference&) = default;
};

struct ParseOptions {
  // Add ":latest" when neither a tag nor a digest is given.
  bool default_tag = true;
};

// Parses and normalises a reference. kInvalid says which part is wrong and why.
Result<Reference> Parse(std::string_view text, const ParseOptions& options = {});

// Grammar checks, exposed for other parsers (e.g. oci:DIR:TAG).
bool IsValidTag(std::string_view tag);
bool IsValidPathComponent(std::string_view component);

}  // namespace anyarch::ref

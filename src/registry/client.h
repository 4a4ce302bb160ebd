// A pull client for the OCI distribution API (distribution-spec v1.1): GET manifests and blobs
// from a registry repository, with the token flow Docker registries use.
//
// - Auth: a 401 with "WWW-Authenticate: Bearer realm=..,service=..,scope=.." fetches a token
//   (with Basic credentials from the docker config.json when there are some, anonymously
//   otherwise), cached per scope; "Basic" challenges get the credentials directly.
// - Transport: HTTPS with verification by default. Plain HTTP only for loopback registries
//   (127.0.0.0/8, ::1, localhost, as Docker does) or with --insecure.
// - Retries 429, 5xx and dropped connections with backoff, honouring Retry-After.
// - Every manifest and blob is verified against its digest; manifests over 4 MiB are refused.
// Credentials never appear in errors or logs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/error.h"
#include "image/source.h"
#include "ref/reference.h"

namespace anyarch::registry {

struct ClientOptions {
  bool insecure = false;      // plain HTTP and unverified TLS for this registry
  std::string docker_config;  // config.json path; empty: $DOCKER_CONFIG or ~/.docker
  std::string temp_dir;       // where blobs are staged while read (default $TMPDIR)
  int max_attempts = 4;
  std::string basic_auth;  // base64 "user:password" to use instead of config.json (login)
};

// Checks that the registry answers /v2/ with these credentials (following a Bearer challenge).
// kUnauthorized (naming the registry, never the password) when they are refused.
Status Ping(const std::string& registry, const ClientOptions& options);

// The docker config.json to use: options.docker_config, $DOCKER_CONFIG/config.json or
// ~/.docker/config.json.
std::string DockerConfigPath(const ClientOptions& options);

// An ImageSource reading `ref`'s repository. Blobs are downloaded to a temporary file,
// verified, and read from there (deleted when the reader is destroyed).
Result<std::unique_ptr<image::ImageSource>> OpenSource(const ref::Reference& ref,
                                                       const ClientOptions& options);

// An ImageSink writing into `ref`'s repository: HEAD skips blobs already there, blobs from
// another repository of the same registry are mounted (POST ?mount=&from=), others are
// uploaded in one streamed PUT (distribution refuses a single-POST upload); manifests are PUT
// by digest, then the root by tag. Pushing needs push credentials when the registry asks.
Result<std::unique_ptr<image::ImageSink>> OpenSink(const ref::Reference& ref,
                                                   const ClientOptions& options);

// True for hosts Docker treats as insecure by default (loopback).
bool IsLoopback(const std::string& registry_host);

}  // namespace anyarch::registry

// A client for the OCI distribution API (distribution-spec v1.1) and Docker's registry v2 API.
//
// - Endpoints: HTTPS with certificate verification by default. Plain HTTP only when the
//   registries config says `http = true`, or as a fallback for loopback registries (127.0.0.0/8,
//   ::1, localhost, as Docker does), for `insecure = true` in the config, and for --insecure; a
//   TLS server is always verified unless `insecure` or --insecure says otherwise. Extra CAs and
//   client key pairs come from the config. Pulls try the config's mirrors first, in order.
// - Auth: see auth.h; credentials come from the docker config.json (credentials.h).
// - Retries: 408, 429, 5xx and dropped connections are retried with exponential backoff
//   (250 ms doubling, at most 10 s), honouring Retry-After (up to 60 s). Blob downloads that drop
//   part way resume with a Range request from the byte where they stopped.
// - Integrity: every manifest and blob is checked against its digest and size; a manifest over
//   4 MiB is refused without being read in full; a tag's manifest must have the digest the
//   registry announces (Docker-Content-Digest).
// - Uploads: a HEAD skips blobs that exist; a blob from another repository of the same registry
//   is mounted (POST ?mount=&from=); otherwise one streamed PUT (distribution refuses a
//   single-POST upload), or PATCH chunks of `chunk_size` bytes that survive a failed request by
//   asking the registry how much it has (GET on the upload URL).
// - Tags are listed page by page, following the Link header.
//
// A Session holds the shared state of one command (config, credentials, connections, tokens);
// its Registry objects are safe to use from several threads at once. Secrets never appear in
// errors or in anything reported.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/reporter.h"
#include "image/source.h"
#include "ref/reference.h"
#include "registry/auth.h"
#include "registry/config.h"
#include "registry/credentials.h"
#include "registry/http.h"

namespace anyarch::registry {

struct ClientOptions {
  bool insecure = false;         // every registry: plain HTTP allowed, TLS not verified
  std::string config_path;       // registries config (config.toml); empty: none
  std::string docker_config;     // config.json; empty: $DOCKER_CONFIG or ~/.docker
  int max_attempts = 5;          // per request, for retriable failures
  std::uint64_t chunk_size = 0;  // PATCH chunk size for uploads; 0: the config's, else one PUT
  // Used instead of config.json for every registry (anyarch login checks a new password).
  std::optional<Credential> credential;
  std::shared_ptr<HttpTransport> transport;              // default: libcurl
  std::function<void(std::chrono::milliseconds)> sleep;  // default: std::this_thread::sleep_for
  Clock clock;                                           // default: steady_clock::now
  Reporter* reporter = nullptr;  // retries and mirror fallbacks are reported as warnings
};

class Registry {
 public:
  virtual ~Registry() = default;
  virtual const std::string& host() const = 0;

  // GET /v2/ with authentication: Ok when the registry accepts us (or anonymous access).
  virtual Status Ping() = 0;

  // The manifest `identifier` (tag or digest) names, as served (exact bytes). When `expect` is
  // given the bytes must have that digest. kNotFound, kInvalid (over 4 MiB, not a manifest),
  // kDigestMismatch.
  virtual Result<image::RawManifest> GetManifest(const std::string& repository,
                                                 const std::string& identifier,
                                                 const std::optional<Digest>& expect) = 0;
  // HEAD: the descriptor (media type, digest, size) of a manifest, std::nullopt when absent.
  virtual Result<std::optional<image::Descriptor>> HeadManifest(const std::string& repository,
                                                                const std::string& identifier) = 0;
  // A streamed, verified reader of a blob: it fails with kDigestMismatch at the end if the bytes
  // are not those of `desc`. kNotFound when the registry has no such blob.
  virtual Result<std::unique_ptr<Reader>> OpenBlob(const std::string& repository,
                                                   const image::Descriptor& desc) = 0;

  virtual Result<bool> HasBlob(const std::string& repository, const image::Descriptor& desc) = 0;
  // True when the registry mounted the blob from `from_repository`; false when it did not (the
  // caller uploads the bytes instead).
  virtual Result<bool> MountBlob(const std::string& repository, const image::Descriptor& desc,
                                 const std::string& from_repository) = 0;
  // Uploads a blob, reading `data` to its end. The registry checks the digest we announce; an
  // error from `data` (e.g. a digest mismatch upstream) aborts the upload, so nothing is stored.
  virtual Status PushBlob(const std::string& repository, const image::Descriptor& desc,
                          Reader& data) = 0;
  // PUT /manifests/<reference> (a tag or the manifest's digest).
  virtual Status PutManifest(const std::string& repository, const std::string& reference,
                             const image::RawManifest& manifest) = 0;
  // Every tag of the repository, following Link headers page by page.
  virtual Result<std::vector<std::string>> ListTags(const std::string& repository) = 0;
};

class Session {
 public:
  virtual ~Session() = default;
  // The registry `host` (as in a reference: "docker.io", "127.0.0.1:5000"). The same object is
  // returned for the same host.
  virtual Result<std::shared_ptr<Registry>> Get(const std::string& host) = 0;
  virtual const RegistriesConfig& config() const = 0;
  virtual const ClientOptions& options() const = 0;
};

// Loads the registries config (kInvalid when malformed) and returns a session.
Result<std::shared_ptr<Session>> NewSession(ClientOptions options);

// An ImageSource reading `ref`'s repository, and an ImageSink writing into it. The sink mounts
// blobs whose source is another repository of the same registry, and tags the root last.
Result<std::unique_ptr<image::ImageSource>> OpenSource(std::shared_ptr<Session> session,
                                                       const ref::Reference& ref);
Result<std::unique_ptr<image::ImageSink>> OpenSink(std::shared_ptr<Session> session,
                                                   const ref::Reference& ref);

// True for hosts Docker treats as insecure by default (loopback).
bool IsLoopback(const std::string& registry_host);

}  // namespace anyarch::registry

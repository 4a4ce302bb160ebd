// anyarch build: a Dockerfile built for one or more target platforms in one run, the way
// `docker buildx build --platform ...` does, without a daemon. The passes, each in its own file:
//   plan.cc      the frontend's per-platform stage plans become one set of stage vertices;
//                a stage that is the same for every target (FROM --platform=$BUILDPLATFORM
//                without TARGET*) is one vertex;
//   resolve.cc   each base image to one manifest for its platform (exact, else a lower arm
//                variant with a warning, never another architecture), through transport/;
//   context.cc   the build context, filtered by .dockerignore, hashed file by file;
//   cache_key.cc each step's key from its parent's key, the expanded instruction, the
//                platform and the content it reads;
//   executor.cc  the scheduler: vertices run when their inputs are ready, up to --jobs at once;
//                a step whose key is already being computed by another vertex waits for it;
//   step_run.cc, step_copy.cc, step_meta.cc  one file per instruction family;
//   snapshots.cc each step's changes as an overlay upper directory, committed to a layer
//                (layer/diff.h) and recorded under its cache key;
//   export.cc    the images and the index into the local store, then to the outputs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "build/cache_io.h"
#include "build/events.h"
#include "image/source.h"
#include "layer/compress.h"
#include "platform/platform.h"
#include "transport/location.h"

namespace anyarch::build {

// One --output. type: "local-store" (the default), "registry", "oci", "docker", "local",
// "tar"; dest: a file or directory ("-" for stdout with oci, docker and tar); name: the
// reference for registry, and the names recorded in oci/docker archives.
struct Output {
  std::string type;
  std::string dest;
  bool push_by_digest = false;
  std::map<std::string, std::string> attrs;  // anything else given, for errors
};

// Parses "type=oci,dest=out.tar" (buildx syntax) or a bare path (type=local). kInvalid names
// the bad key or value.
Result<Output> ParseOutput(const std::string& text);

struct Secret {
  std::string id;
  std::string src;  // a file, or
  std::string env;  // an environment variable of the caller
};

// Parses "id=NAME,src=PATH" / "id=NAME,env=VAR" (also type=file|env and source=). kInvalid.
Result<Secret> ParseSecret(const std::string& text);

struct BuildRequest {
  std::string context = ".";  // a directory, or "-" with context_tar set
  std::string context_tar;    // the context as a tar file (from stdin), unpacked first
  std::string dockerfile;     // path; empty: <context>/Dockerfile; "-": dockerfile_text
  std::string dockerfile_text;
  std::vector<platform::Platform> platforms;  // empty: this host's
  std::vector<std::string> tags;              // names for the result
  std::map<std::string, std::string> build_args;
  std::string target;
  // --build-context NAME=VALUE: VALUE is a transport location (oci:DIR, local:REF,
  // docker-image://REF, a registry reference) or a directory (a named context for COPY --from).
  std::map<std::string, std::string> build_contexts;
  std::vector<Secret> secrets;
  std::vector<Output> outputs;  // empty: the local store under the tags
  bool push = false;            // --push: also the registry under every tag
  bool no_cache = false;
  // --cache-from: imported before the build (a missing or foreign cache is a warning);
  // --cache-to: the steps' records and layers exported after it (build/cache_io.h).
  std::vector<CacheSpec> cache_from, cache_to;
  std::vector<std::string> no_cache_filter;  // stage names
  bool pull = false;                         // re-resolve base images even when stored locally
  int jobs = 0;                              // steps at once; 0: the number of cores
  std::chrono::seconds step_timeout{0};
  std::optional<std::int64_t> source_date_epoch;
  layer::Compression compression = layer::Compression::kGzip;
  bool oci_mediatypes = true;
  bool verify = false;              // check every ELF of every platform's result before output
  std::string network = "default";  // RUN's default network: default, none, host
  transport::Env env;               // store, registries, credentials, reporter
  EventSink* events = nullptr;
  // Set from another thread (Ctrl-C) to stop the build: running steps are killed.
  std::atomic<bool>* cancel = nullptr;
  // Called with the result in the store before any output is written or named (--verify);
  // an error fails the build with nothing published.
  std::function<Status(const image::RawManifest& root)> check;
};

struct PlatformResult {
  platform::Platform platform;
  std::string manifest_digest;
  std::string config_digest;
  std::uint64_t size = 0;  // config + layers, compressed
  int steps_run = 0, steps_cached = 0;
  double seconds = 0;
};

struct BuildResult {
  std::string digest;      // of the index (several platforms) or the only manifest
  std::string media_type;  // of that root
  std::vector<PlatformResult> platforms;
  std::vector<std::string> outputs;  // where the result was written, for people
  double seconds = 0;
};

// Builds. Errors name the file, line and column, or the platform and step. A failed build
// leaves every output as it was: nothing is tagged, pushed or published before every
// platform succeeded.
Result<BuildResult> Build(const BuildRequest& request);

}  // namespace anyarch::build

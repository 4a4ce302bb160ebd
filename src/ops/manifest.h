// anyarch manifest create | annotate | inspect | push | rm: `docker manifest` without a daemon,
// and anyarch manifest merge: `docker buildx imagetools create`.
//
// Local lists are kept as JSON under <store>/manifests/ (written atomically), never in the OCI
// layout: their layers are not local. create reads only manifests (and the config of an image
// that is not in an index, for its platform), never layers. push and merge copy children that
// live in other repositories into the target repository first, because registries refuse an index
// whose children are missing: within one registry the blobs are mounted, from another registry or
// an OCI layout they are copied.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/source.h"
#include "transport/location.h"

namespace anyarch::ops {

struct ManifestEntry {
  std::string source;            // where the child can be read: repo@digest, or oci:DIR[:TAG] ...
  std::string given;             // the source as given to create, normalised
  image::Descriptor descriptor;  // with platform
};

struct ManifestList {
  std::string name;  // normalised reference of the list
  std::vector<ManifestEntry> entries;
};

struct ManifestCreateRequest {
  std::string list;
  std::vector<std::string> sources;
  bool amend = false;
  transport::Env env;
};
// kInvalid when the list exists and amend is false.
Result<ManifestList> ManifestCreate(const ManifestCreateRequest& request);

struct ManifestAnnotateRequest {
  std::string list, source;
  std::optional<std::string> os, arch, variant, os_version;
  std::vector<std::string> os_features;
  std::map<std::string, std::string> annotations;  // on the entry's descriptor (OCI index only)
  std::string store_root;
};
Result<ManifestList> ManifestAnnotate(const ManifestAnnotateRequest& request);

// The index the list would push (a Docker manifest list when every child is Docker schema 2 and
// nothing carries annotations, else an OCI index).
Result<image::RawManifest> ManifestBuild(const ManifestList& list);

// anyarch manifest inspect NAME: the index a local list would push or, when there is no such
// list, what NAME is in its registry (or other location), exactly as served, as
// `docker manifest inspect` reads a remote image or index. kNotFound when it is in neither.
Result<image::RawManifest> ManifestInspect(const std::string& name, const transport::Env& env);
Result<ManifestList> ManifestLoad(const std::string& store_root, const std::string& list);
// Every local list, by name.
Result<std::vector<ManifestList>> ManifestListAll(const std::string& store_root);

struct ManifestPushRequest {
  std::string list;
  std::string destination;  // default: the list's own name
  bool purge = false;
  transport::Env env;
};
struct ManifestPushReport {
  std::string destination, digest, media_type;
  std::size_t children_copied = 0, blobs_mounted = 0, blobs_copied = 0, blobs_skipped = 0;
};
Result<ManifestPushReport> ManifestPush(const ManifestPushRequest& request);

Status ManifestRemove(const std::string& store_root, const std::vector<std::string>& lists);

struct ManifestMergeRequest {
  std::vector<std::string> targets;           // -t, at least one; all in the registry of the first
  std::vector<std::string> sources;           // images or indexes, any transport
  std::vector<platform::Platform> platforms;  // keep only these (empty: all)
  std::map<std::string, std::string> annotations;  // on the new index (makes it OCI)
  bool dry_run = false;                            // build the index, push nothing
  transport::Env env;
};
struct ManifestMergeReport {
  image::RawManifest index;
  std::vector<std::string> targets;
  std::vector<std::string> platforms;
  std::size_t children_copied = 0, blobs_mounted = 0, blobs_copied = 0, blobs_skipped = 0;
};
Result<ManifestMergeReport> ManifestMerge(const ManifestMergeRequest& request);

}  // namespace anyarch::ops

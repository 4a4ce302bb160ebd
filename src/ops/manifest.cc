#include "ops/manifest.h"

#include <filesystem>

#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "ops/copy.h"
#include "ops/location.h"
#include "ref/reference.h"
#include "registry/client.h"

namespace anyarch::ops {

namespace fs = std::filesystem;

namespace {

Result<std::string> NormalName(const std::string& list) {
  ANYARCH_TRY(auto r, ref::Parse(list));
  return r.ToString();
}

fs::path ListPath(const std::string& store_root, const std::string& name) {
  std::string file;
  for (char c : name) file.push_back((c == '/' || c == ':' || c == '@') ? '_' : c);
  return fs::path(store_root) / "manifests" / (file + ".json");
}

Status Save(const std::string& store_root, const ManifestList& list) {
  OrderedJson j;
  j["name"] = list.name;
  OrderedJson arr = OrderedJson::array();
  for (const auto& e : list.entries) {
    arr.push_back({{"source", e.source},
                   {"given", e.given},
                   {"descriptor", image::DescriptorToJson(e.descriptor)}});
  }
  j["entries"] = arr;
  return WriteFileAtomic(ListPath(store_root, list.name), j.dump(2) + "\n");
}

// The entries a source contributes: every child of an index, or the image with the platform
// from its config.
Result<std::vector<ManifestEntry>> EntriesOf(const std::string& source, bool insecure) {
  ANYARCH_TRY(auto r, ref::Parse(source));
  ANYARCH_TRY(auto src, registry::OpenSource(r, {.insecure = insecure}));
  ANYARCH_TRY(auto root, src->GetRootManifest());
  std::vector<ManifestEntry> out;
  std::string base = r.Name();
  if (image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(root));
    for (const auto& d : idx.manifests) {
      if (!image::IsManifest(d.media_type) || !d.platform || d.platform->os == "unknown") continue;
      out.push_back({base + "@" + d.digest.ToString(), r.ToString(), d});
    }
    return out;
  }
  ANYARCH_TRY(auto m, image::ParseManifest(root));
  ANYARCH_TRY(auto reader, src->OpenBlob(m.config));
  ANYARCH_TRY(std::string cfg_bytes, ReadAll(*reader, 8 << 20));
  ANYARCH_TRY(auto cfg, image::ParseConfig(std::move(cfg_bytes)));
  image::Descriptor d = root.ToDescriptor();
  d.platform = cfg.platform;
  out.push_back({base + "@" + root.digest.ToString(), r.ToString(), d});
  return out;
}

}  // namespace

Result<ManifestList> ManifestLoad(const std::string& store_root, const std::string& list) {
  ANYARCH_TRY(std::string name, NormalName(list));
  auto text = ReadFile(ListPath(store_root, name), 4 << 20);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       "no manifest list " + name + " (create it with anyarch manifest create)");
    }
    return Unexpected(text.error());
  }
  ANYARCH_TRY(Json j, ParseJson(*text, ListPath(store_root, name).string()));
  ManifestList l;
  l.name = name;
  if (j.contains("entries") && j["entries"].is_array()) {
    for (const auto& e : j["entries"]) {
      ANYARCH_TRY(std::string source, GetString(e, "source", "manifest list entry"));
      ANYARCH_TRY(auto d, image::DescriptorFromJson(e["descriptor"], "manifest list entry"));
      ANYARCH_TRY(auto given, GetOptionalString(e, "given", "manifest list entry"));
      l.entries.push_back({source, given.value_or(""), d});
    }
  }
  return l;
}

Result<ManifestList> ManifestCreate(const ManifestCreateRequest& req) {
  ANYARCH_TRY(std::string name, NormalName(req.list));
  ManifestList list{.name = name, .entries = {}};
  auto existing = ManifestLoad(req.store_root, name);
  if (existing) {
    if (!req.amend) {
      return MakeError(ErrorCode::kInvalid,
                       "manifest list " + name + " exists; use --amend to add to it");
    }
    list = *existing;
  }
  for (const auto& s : req.sources) {
    auto entries = EntriesOf(s, req.insecure);
    if (!entries) return Unexpected(std::move(entries.error()).With("adding " + s));
    for (auto& e : *entries) {
      std::erase_if(list.entries, [&](const ManifestEntry& x) {
        return x.descriptor.digest == e.descriptor.digest;
      });
      list.entries.push_back(std::move(e));
    }
  }
  ANYARCH_CHECK(Save(req.store_root, list));
  return list;
}

Result<ManifestList> ManifestAnnotate(const ManifestAnnotateRequest& req) {
  ANYARCH_TRY(auto list, ManifestLoad(req.store_root, req.list));
  ANYARCH_TRY(auto want, ref::Parse(req.source));
  ManifestEntry* hit = nullptr;
  int matches = 0;
  for (auto& e : list.entries) {
    bool same_digest = want.digest && *want.digest == e.descriptor.digest;
    bool same_given = !want.digest && e.given == want.ToString();
    if (same_digest || same_given) {
      hit = &e;
      ++matches;
    }
  }
  if (matches > 1) {
    return MakeError(ErrorCode::kInvalid,
                     req.source +
                         " matches several entries (an index's children); name one "
                         "by digest (repo@sha256:...)");
  }
  if (!hit)
    return MakeError(ErrorCode::kNotFound, req.source + " is not in manifest list " + list.name);
  image::Descriptor& d = hit->descriptor;
  if (!d.platform) d.platform = platform::Platform{};
  if (req.os) d.platform->os = *req.os;
  if (req.arch) d.platform->architecture = *req.arch;
  if (req.variant) d.platform->variant = *req.variant;
  if (req.os_version) d.platform->os_version = *req.os_version;
  if (!req.os_features.empty()) d.platform->os_features = req.os_features;
  ANYARCH_CHECK(Save(req.store_root, list));
  return list;
}

Result<image::RawManifest> ManifestBuild(const ManifestList& list) {
  if (list.entries.empty())
    return MakeError(ErrorCode::kInvalid, "manifest list " + list.name + " is empty");
  std::vector<image::Descriptor> ds;
  for (const auto& e : list.entries) ds.push_back(e.descriptor);
  return image::BuildIndex(image::IndexTypeFor(ds, false), ds);
}

Result<ManifestPushReport> ManifestPush(const ManifestPushRequest& req) {
  ANYARCH_TRY(auto list, ManifestLoad(req.store_root, req.list));
  ANYARCH_TRY(auto target, ref::Parse(req.destination.empty() ? list.name : req.destination));
  ANYARCH_TRY(auto sink, registry::OpenSink(target, {.insecure = req.insecure}));
  ManifestPushReport report;
  report.destination = target.ToString();
  // Distribution refuses an index whose children are missing from the repository: children
  // from other repositories are copied in first (blobs mounted within one registry).
  for (const auto& e : list.entries) {
    ANYARCH_TRY(auto src_ref, ref::Parse(e.source));
    if (src_ref.registry == target.registry && src_ref.repository == target.repository) continue;
    ANYARCH_TRY(auto src, registry::OpenSource(src_ref, {.insecure = req.insecure}));
    CopyReport cr;
    ANYARCH_CHECK_CTX(CopyOneImage(*src, *sink, e.descriptor, cr, DiscardReporter(),
                                   {src_ref.registry, src_ref.repository}),
                      "copying " + e.source + " into " + target.Name());
    ++report.children_copied;
    report.blobs_mounted += cr.blobs_mounted;
    report.blobs_copied += cr.blobs_copied;
  }
  ANYARCH_TRY(auto index, ManifestBuild(list));
  ANYARCH_CHECK(sink->PutManifest(index));
  ANYARCH_CHECK(sink->Tag(index));
  report.digest = index.digest.ToString();
  if (req.purge) ANYARCH_CHECK(ManifestRemove(req.store_root, {req.list}));
  return report;
}

Status ManifestRemove(const std::string& store_root, const std::vector<std::string>& lists) {
  for (const auto& l : lists) {
    ANYARCH_TRY(std::string name, NormalName(l));
    std::error_code ec;
    if (!fs::remove(ListPath(store_root, name), ec)) {
      return MakeError(ErrorCode::kNotFound, "no manifest list " + name);
    }
  }
  return Ok();
}

}  // namespace anyarch::ops

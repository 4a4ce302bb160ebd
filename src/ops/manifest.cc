#include "ops/manifest.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "ref/reference.h"
#include "transport/copy_engine.h"

namespace anyarch::ops {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRefType = "vnd.docker.reference.type";
constexpr const char* kRefDigest = "vnd.docker.reference.digest";

Result<std::string> NormalName(const std::string& list) {
  auto r = ref::Parse(list);
  if (!r)
    return Unexpected(std::move(r.error()).With("manifest list name \"" + Printable(list) + "\""));
  return r->ToString();
}

fs::path ListDir(const std::string& store_root) { return fs::path(store_root) / "manifests"; }

fs::path ListPath(const std::string& store_root, const std::string& name) {
  std::string file;
  for (char c : name) file.push_back((c == '/' || c == ':' || c == '@') ? '_' : c);
  return ListDir(store_root) / (file + ".json");
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

bool IsAttestation(const image::Descriptor& d) {
  auto it = d.annotations.find(kRefType);
  return it != d.annotations.end() && it->second == "attestation-manifest";
}

// A child of `source` (by digest) as a location string another command can open again.
std::string ChildSource(const transport::Location& loc, const std::string& source,
                        const Digest& d) {
  if (loc.transport == "registry") {
    auto r = ref::Parse(loc.reference);
    return r ? r->Name() + "@" + d.ToString() : source;
  }
  return source;  // layouts and archives find a child by its digest
}

Result<image::ImageConfig> ReadConfig(image::ImageSource& src, const image::Manifest& m) {
  ANYARCH_TRY(auto reader, src.OpenBlob(m.config));
  ANYARCH_TRY(std::string bytes, ReadAll(*reader, 8 << 20));
  return image::ParseConfig(std::move(bytes));
}

struct Child {
  ManifestEntry entry;
  bool attestation = false;
};

// The images a source contributes: each child of an index (attestations marked), or the image
// itself with the platform from its config. Reads manifests and configs only.
Result<std::vector<Child>> ChildrenOf(transport::Transports& t, const std::string& source) {
  ANYARCH_TRY(transport::Location loc, transport::ParseLocation(source));
  ANYARCH_TRY(auto src, t.OpenSource(source));
  ANYARCH_TRY(auto root, src->GetRootManifest());
  std::string given = loc.transport == "registry" ? loc.reference : source;
  std::vector<Child> out;
  if (image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(root));
    for (const auto& d : idx.manifests) {
      if (!image::IsManifest(d.media_type)) {
        if (t.env().reporter) {
          t.env().reporter->Warn(source + ": skipping " + d.digest.ToString() + " (" +
                                 d.media_type + "): nested indexes are not supported");
        }
        continue;
      }
      image::Descriptor desc = d;
      if (!desc.platform) {
        ANYARCH_TRY(auto raw, src->GetManifest(d));
        ANYARCH_TRY(auto m, image::ParseManifest(raw));
        ANYARCH_TRY(auto cfg, ReadConfig(*src, m));
        desc.platform = cfg.platform;
      }
      out.push_back({{ChildSource(loc, source, d.digest), given, desc}, IsAttestation(d)});
    }
    return out;
  }
  ANYARCH_TRY(auto m, image::ParseManifest(root));
  ANYARCH_TRY(auto cfg, ReadConfig(*src, m));
  image::Descriptor d = root.ToDescriptor();
  d.platform = cfg.platform;
  if (d.platform->os.empty() || d.platform->architecture.empty()) {
    return MakeError(ErrorCode::kInvalid,
                     source +
                         ": the image config names no os/architecture; add the entry and "
                         "set them with anyarch manifest annotate --os --arch");
  }
  out.push_back({{ChildSource(loc, source, root.digest), given, d}, false});
  return out;
}

// Copies the children that are not already in `target`'s repository into it, grouped by source so
// each group's blobs move in parallel.
Status CopyChildren(transport::Transports& t, const ref::Reference& target, image::ImageSink& sink,
                    const std::vector<ManifestEntry>& entries, transport::CopyReport& report,
                    std::size_t& children_copied) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<image::Descriptor>> groups;
  for (const auto& e : entries) {
    ANYARCH_TRY(transport::Location loc, transport::ParseLocation(e.source));
    std::string key = e.source;
    if (loc.transport == "registry") {
      ANYARCH_TRY(auto r, ref::Parse(loc.reference));
      if (r.registry == target.registry && r.repository == target.repository) continue;
      key = r.Name();  // one group per repository
    }
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(e.descriptor);
  }
  for (const auto& key : order) {
    ANYARCH_TRY(auto src, t.OpenSource(key));
    auto st = transport::CopyImages(*src, sink, groups[key], transport::MountSourceOf(key), t.env(),
                                    report);
    if (!st)
      return Unexpected(
          std::move(st.error()).With("copying from " + key + " into " + target.Name()));
    children_copied += groups[key].size();
  }
  return Ok();
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
      if (!e.contains("descriptor")) {
        return MakeError(ErrorCode::kInvalid,
                         ListPath(store_root, name).string() + ": an entry has no descriptor");
      }
      ANYARCH_TRY(auto d, image::DescriptorFromJson(e["descriptor"], "manifest list entry"));
      ANYARCH_TRY(auto given, GetOptionalString(e, "given", "manifest list entry"));
      l.entries.push_back({source, given.value_or(""), d});
    }
  }
  return l;
}

Result<std::vector<ManifestList>> ManifestListAll(const std::string& store_root) {
  std::vector<ManifestList> out;
  std::error_code ec;
  if (!fs::is_directory(ListDir(store_root), ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(ListDir(store_root), ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    ANYARCH_TRY(std::string text, ReadFile(f, 4 << 20));
    ANYARCH_TRY(Json j, ParseJson(text, f.string()));
    ANYARCH_TRY(std::string name, GetString(j, "name", f.string()));
    ANYARCH_TRY(auto l, ManifestLoad(store_root, name));
    out.push_back(std::move(l));
  }
  return out;
}

Result<image::RawManifest> ManifestInspect(const std::string& name, const transport::Env& env) {
  auto l = ManifestLoad(env.store_root, name);
  if (l) return ManifestBuild(*l);
  if (l.error().code() != ErrorCode::kNotFound) return Unexpected(l.error());
  transport::Transports t(env);
  auto src = t.OpenSource(name);
  if (!src) return Unexpected(std::move(src.error()).With("no local manifest list " + name));
  auto root = (*src)->GetRootManifest();
  if (!root) return Unexpected(std::move(root.error()).With("no local manifest list " + name));
  return root;
}

Result<ManifestList> ManifestCreate(const ManifestCreateRequest& req) {
  ANYARCH_TRY(std::string name, NormalName(req.list));
  ManifestList list{.name = name, .entries = {}};
  auto existing = ManifestLoad(req.env.store_root, name);
  if (existing) {
    if (!req.amend) {
      return MakeError(ErrorCode::kInvalid, "manifest list " + name +
                                                " exists; use --amend to add to it, or anyarch "
                                                "manifest rm " +
                                                name + " to start over");
    }
    list = *existing;
  } else if (existing.error().code() != ErrorCode::kNotFound) {
    return Unexpected(existing.error());
  }
  transport::Transports t(req.env);
  for (const auto& s : req.sources) {
    auto children = ChildrenOf(t, s);
    if (!children) return Unexpected(std::move(children.error()).With("adding " + s));
    for (auto& c : *children) {
      if (c.attestation) continue;  // docker manifest lists carry images only
      // Re-adding an image (--amend) refreshes it where it is; the order is the user's.
      auto same = std::find_if(
          list.entries.begin(), list.entries.end(),
          [&](const ManifestEntry& x) { return x.descriptor.digest == c.entry.descriptor.digest; });
      if (same != list.entries.end()) {
        *same = std::move(c.entry);
        continue;
      }
      // Two images for one platform: a runtime would pick either; refuse and name both.
      if (c.entry.descriptor.platform) {
        auto plat = platform::Normalize(*c.entry.descriptor.platform).ToString();
        for (const auto& x : list.entries) {
          if (x.descriptor.platform &&
              platform::Normalize(*x.descriptor.platform).ToString() == plat)
            return MakeError(ErrorCode::kInvalid,
                             "manifest list " + name + ": " + c.entry.source + " and " + x.source +
                                 " are both " + plat +
                                 "; a list holds one image per platform (start over with "
                                 "anyarch manifest rm " +
                                 name + ")");
        }
      }
      list.entries.push_back(std::move(c.entry));
    }
  }
  ANYARCH_CHECK(Save(req.env.store_root, list));
  return list;
}

Result<ManifestList> ManifestAnnotate(const ManifestAnnotateRequest& req) {
  ANYARCH_TRY(auto list, ManifestLoad(req.store_root, req.list));
  std::optional<ref::Reference> want;
  if (auto loc = transport::ParseLocation(req.source); loc && loc->transport == "registry") {
    want = ref::Parse(loc->reference).value();
  }
  ManifestEntry* hit = nullptr;
  int matches = 0;
  for (auto& e : list.entries) {
    bool match = e.given == req.source || e.source == req.source;
    if (want && want->digest) match = match || *want->digest == e.descriptor.digest;
    if (want && !want->digest) match = match || e.given == want->ToString();
    if (match) {
      hit = &e;
      ++matches;
    }
  }
  if (matches > 1) {
    return MakeError(ErrorCode::kInvalid,
                     req.source +
                         " matches several entries (the children of an index); name one by "
                         "digest (repo@sha256:...)");
  }
  if (!hit) {
    std::vector<std::string> have;
    for (const auto& e : list.entries) have.push_back(e.source);
    return MakeError(ErrorCode::kNotFound, req.source + " is not in manifest list " + list.name +
                                               " (it has: " + Join(have, ", ") + ")");
  }
  image::Descriptor& d = hit->descriptor;
  if (!d.platform) d.platform = platform::Platform{};
  if (req.os) d.platform->os = *req.os;
  if (req.arch) {
    // Users write armhf, aarch64, arm64/v8 ...: normalise, keeping an explicit --variant.
    auto [arch, variant] = platform::NormalizeArch(*req.arch, req.variant.value_or(""));
    if (!platform::IsKnownArchitecture(arch)) {
      return MakeError(ErrorCode::kInvalid, "--arch \"" + Printable(*req.arch) +
                                                "\" is not an architecture anyarch knows "
                                                "(amd64, arm64, arm, 386, ppc64le, s390x, "
                                                "riscv64, mips64le ...)");
    }
    d.platform->architecture = arch;
    if (!variant.empty() && !req.variant) d.platform->variant = variant;
  }
  if (req.variant) d.platform->variant = *req.variant;
  if (req.os_version) d.platform->os_version = *req.os_version;
  if (!req.os_features.empty()) {
    std::vector<std::string> f = req.os_features;
    std::sort(f.begin(), f.end());
    f.erase(std::unique(f.begin(), f.end()), f.end());
    d.platform->os_features = f;
  }
  for (const auto& [k, v] : req.annotations) d.annotations[k] = v;
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
  ANYARCH_TRY(auto list, ManifestLoad(req.env.store_root, req.list));
  ANYARCH_TRY(auto index, ManifestBuild(list));
  ANYARCH_TRY(transport::Location dest,
              transport::ParseLocation(req.destination.empty() ? list.name : req.destination));
  if (dest.transport != "registry") {
    return MakeError(ErrorCode::kInvalid, "manifest push goes to a registry; for " +
                                              dest.transport + ": use anyarch manifest merge");
  }
  ANYARCH_TRY(auto target, ref::Parse(dest.reference));
  transport::Transports t(req.env);
  ANYARCH_TRY(auto sink, t.OpenSink(dest.reference));
  ManifestPushReport report;
  report.destination = target.ToString();
  transport::CopyReport cr;
  ANYARCH_CHECK(CopyChildren(t, target, *sink, list.entries, cr, report.children_copied));
  report.blobs_mounted = cr.blobs_mounted;
  report.blobs_copied = cr.blobs_copied;
  report.blobs_skipped = cr.blobs_skipped;
  ANYARCH_CHECK_CTX(sink->PutManifest(index), "pushing the index");
  ANYARCH_CHECK_CTX(sink->Tag(index), "tagging " + target.ToString());
  report.digest = index.digest.ToString();
  report.media_type = index.media_type;
  if (req.purge) ANYARCH_CHECK(ManifestRemove(req.env.store_root, {req.list}));
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

Result<ManifestMergeReport> ManifestMerge(const ManifestMergeRequest& req) {
  if (req.targets.empty()) return MakeError(ErrorCode::kInvalid, "merge needs a target (-t REF)");
  if (req.sources.empty()) return MakeError(ErrorCode::kInvalid, "merge needs at least one source");
  std::vector<ref::Reference> targets;
  for (const auto& t : req.targets) {
    ANYARCH_TRY(transport::Location loc, transport::ParseLocation(t));
    if (loc.transport != "registry") {
      return MakeError(ErrorCode::kInvalid,
                       "-t " + t +
                           ": merge pushes to a registry (use anyarch copy for other "
                           "destinations)");
    }
    ANYARCH_TRY(auto r, ref::Parse(loc.reference));
    targets.push_back(r);
  }
  transport::Transports t(req.env);
  std::vector<Child> all;
  // Every wanted platform must come from some source: another architecture never stands in.
  std::vector<bool> satisfied(req.platforms.size(), false);
  std::vector<std::string> available;
  for (const auto& s : req.sources) {
    auto children = ChildrenOf(t, s);
    if (!children) return Unexpected(std::move(children.error()).With("reading " + s));
    std::vector<Child> kept;
    if (req.platforms.empty()) {
      kept = std::move(*children);
    } else {
      // Each wanted platform takes its best match among this source's images, as copy does.
      std::set<Digest> chosen;
      std::vector<platform::Platform> cands;
      std::vector<std::size_t> pos;
      for (std::size_t i = 0; i < children->size(); ++i) {
        const auto& c = (*children)[i];
        if (c.attestation || !c.entry.descriptor.platform) continue;
        cands.push_back(*c.entry.descriptor.platform);
        pos.push_back(i);
      }
      for (std::size_t w = 0; w < req.platforms.size(); ++w) {
        const auto& want = req.platforms[w];
        auto best = platform::Choose(want, cands);
        if (!best) continue;
        satisfied[w] = true;
        chosen.insert((*children)[pos[best->index]].entry.descriptor.digest);
        if (!best->exact && req.env.reporter) {
          req.env.reporter->Warn(s + ": " + platform::DescribeSubstitute(want, best->chosen));
        }
      }
      for (const auto& p : cands) {
        std::string n = platform::Normalize(p).ToString();
        if (std::find(available.begin(), available.end(), n) == available.end()) {
          available.push_back(n);
        }
      }
      for (auto& c : *children) {
        bool keep = chosen.count(c.entry.descriptor.digest) != 0;
        if (c.attestation) {
          auto it = c.entry.descriptor.annotations.find(kRefDigest);
          auto d = it == c.entry.descriptor.annotations.end() ? Result<Digest>(Digest())
                                                              : Digest::Parse(it->second);
          keep = d && chosen.count(*d) != 0;
        }
        if (keep) kept.push_back(std::move(c));
      }
    }
    for (auto& c : kept) {
      bool dup = std::any_of(all.begin(), all.end(), [&](const Child& x) {
        return x.entry.descriptor.digest == c.entry.descriptor.digest;
      });
      if (!dup) all.push_back(std::move(c));
    }
  }
  for (std::size_t w = 0; w < req.platforms.size(); ++w) {
    if (satisfied[w]) continue;
    return MakeError(ErrorCode::kNotFound,
                     "no image for " + req.platforms[w].ToString() + " in the sources; they have " +
                         (available.empty() ? std::string("no platforms") : Join(available, ", ")));
  }
  if (all.empty()) {
    return MakeError(
        ErrorCode::kNotFound, "no image of the sources matches " + [&] {
          std::vector<std::string> p;
          for (const auto& x : req.platforms) p.push_back(x.ToString());
          return Join(p, ", ");
        }());
  }
  // Two different images for one platform make an ambiguous index: refuse, naming both.
  std::map<std::string, std::string> by_platform;
  for (const auto& c : all) {
    if (c.attestation || !c.entry.descriptor.platform) continue;
    std::string p = platform::Normalize(*c.entry.descriptor.platform).ToString();
    auto [it, fresh] = by_platform.emplace(p, c.entry.source);
    if (!fresh) {
      return MakeError(ErrorCode::kInvalid, "two images for " + p + ": " + it->second + " and " +
                                                c.entry.source +
                                                "; keep one with --platform or fewer sources");
    }
  }
  std::vector<image::Descriptor> ds;
  std::vector<ManifestEntry> entries;
  ManifestMergeReport report;
  for (const auto& c : all) {
    ds.push_back(c.entry.descriptor);
    entries.push_back(c.entry);
    if (!c.attestation && c.entry.descriptor.platform) {
      report.platforms.push_back(platform::Normalize(*c.entry.descriptor.platform).ToString());
    }
  }
  ANYARCH_TRY(report.index, image::BuildIndex(image::IndexTypeFor(ds, !req.annotations.empty()), ds,
                                              req.annotations));
  if (req.dry_run) return report;
  for (const auto& target : targets) {
    ANYARCH_TRY(auto sink, t.OpenSink(target.ToString()));
    transport::CopyReport cr;
    std::size_t copied = 0;
    ANYARCH_CHECK(CopyChildren(t, target, *sink, entries, cr, copied));
    report.children_copied += copied;
    report.blobs_mounted += cr.blobs_mounted;
    report.blobs_copied += cr.blobs_copied;
    report.blobs_skipped += cr.blobs_skipped;
    ANYARCH_CHECK_CTX(sink->PutManifest(report.index), "pushing the index to " + target.Name());
    ANYARCH_CHECK_CTX(sink->Tag(report.index), "tagging " + target.ToString());
    report.targets.push_back(target.ToString());
  }
  return report;
}

}  // namespace anyarch::ops

#include "ops/store.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "build/snapshots.h"
#include "content/layout.h"
#include "content/oci_archive.h"
#include "image/manifest.h"
#include "isolation/kept.h"
#include "layer/tar_stream.h"
#include "ref/reference.h"
#include "rootfs/snapshot.h"

namespace anyarch::ops {

namespace fs = std::filesystem;

namespace {

Result<content::Layout> OpenStore(const std::string& store_root) {
  auto l = content::Layout::Open(store_root);
  if (!l && l.error().code() == ErrorCode::kNotFound) {
    return MakeError(ErrorCode::kNotFound,
                     "the local store " + store_root + " is empty (anyarch pull adds images)");
  }
  return l;
}

Result<image::Descriptor> FindName(const content::Layout& l, const std::string& name) {
  for (const auto& d : l.index().manifests) {
    auto it = d.annotations.find(content::kRefNameAnnotation);
    if (it != d.annotations.end() && it->second == name) return d;
  }
  return MakeError(ErrorCode::kNotFound,
                   "no image " + name + " in the local store (anyarch images lists them)");
}

struct ArchiveInfo {
  std::string format;
  std::vector<std::string> names;  // docker RepoTags or OCI ref.name annotations
  std::string image_name;          // OCI: io.containerd.image.name of the only entry
};

Result<ArchiveInfo> ReadArchiveInfo(const std::string& file) {
  ANYARCH_TRY(auto reader, FileReader::Open(file));
  ArchiveInfo info;
  bool oci_layout = false;
  std::string index_json, manifest_json;
  auto st =
      layer::WalkTar(*reader, [&](const layer::Entry& e, const layer::EntryReader& read) -> Status {
        if (e.type != layer::EntryType::kFile) return Ok();
        std::string* into = nullptr;
        if (e.path == "oci-layout") oci_layout = true;
        if (e.path == "index.json") into = &index_json;
        if (e.path == "manifest.json") into = &manifest_json;
        if (!into) return Ok();
        if (e.size > (4 << 20)) {
          return MakeError(ErrorCode::kInvalid, file + ": " + e.path + " is over 4 MiB");
        }
        char buf[65536];
        for (;;) {
          ANYARCH_TRY(std::size_t n, read(buf, sizeof buf));
          if (n == 0) break;
          into->append(buf, n);
        }
        return Ok();
      });
  if (!st) return Unexpected(std::move(st.error()).With(file));
  if (oci_layout && !index_json.empty()) {
    info.format = "oci-archive";
    ANYARCH_TRY(Json j, ParseJson(index_json, file + ": index.json"));
    if (j.contains("manifests") && j["manifests"].is_array()) {
      for (const auto& m : j["manifests"]) {
        if (j["manifests"].size() == 1 && m.contains("annotations") &&
            m["annotations"].is_object() &&
            m["annotations"].contains(content::kImageNameAnnotation) &&
            m["annotations"][content::kImageNameAnnotation].is_string())
          info.image_name = m["annotations"][content::kImageNameAnnotation].get<std::string>();
        if (m.contains("annotations") && m["annotations"].is_object() &&
            m["annotations"].contains(content::kRefNameAnnotation) &&
            m["annotations"][content::kRefNameAnnotation].is_string()) {
          info.names.push_back(m["annotations"][content::kRefNameAnnotation].get<std::string>());
        }
      }
    }
    return info;
  }
  if (!manifest_json.empty()) {
    info.format = "docker-archive";
    ANYARCH_TRY(Json j, ParseJson(manifest_json, file + ": manifest.json"));
    if (j.is_array()) {
      for (const auto& m : j) {
        if (m.is_object() && m.contains("RepoTags") && m["RepoTags"].is_array()) {
          for (const auto& t : m["RepoTags"]) {
            if (t.is_string()) info.names.push_back(t.get<std::string>());
          }
        }
      }
    }
    return info;
  }
  return MakeError(ErrorCode::kInvalid, file +
                                            " is neither an oci-archive (oci-layout and "
                                            "index.json) nor a docker-archive (manifest.json)");
}

}  // namespace

Status TagImage(const std::string& store_root, const std::string& source,
                const std::string& target) {
  ANYARCH_TRY(std::string from, transport::LocalName(source));
  ANYARCH_TRY(std::string to, transport::LocalName(target));
  ANYARCH_TRY(auto l, OpenStore(store_root));
  ANYARCH_TRY(auto d, FindName(l, from));
  d.annotations.erase(content::kRefNameAnnotation);
  return content::SetRef(store_root, to, d);
}

namespace {

bool IsHexId(const std::string& s) {
  std::string h = s.rfind("sha256:", 0) == 0 ? s.substr(7) : s;
  return h.size() >= 4 && h.size() <= 64 && std::all_of(h.begin(), h.end(), [](char c) {
           return std::isxdigit(c) && !std::isupper(c);
         });
}

// The one name `r` stands for, as docker rmi reads it: a name; the ID `images` shows (a prefix
// of the digest, with or without sha256:); or repo@sha256:... for the name of that repository
// holding that digest. An ID several names share is refused (docker asks for -f), since
// removing a name the user did not type is what this guards against.
Result<std::string> ResolveRemoval(const content::Layout& l, const std::string& r) {
  std::vector<std::string> hits;
  if (IsHexId(r) && !FindName(l, r)) {
    std::string prefix = r.rfind("sha256:", 0) == 0 ? r : "sha256:" + r;
    for (const auto& t : l.Tags()) {
      auto d = l.Find(t);
      if (d && d->digest.ToString().rfind(prefix, 0) == 0) hits.push_back(t);
    }
  } else {
    ANYARCH_TRY(std::string name, transport::LocalName(r));
    auto at = name.find('@');
    if (at == std::string::npos) {
      ANYARCH_CHECK(FindName(l, name));
      return name;
    }
    std::string repo = name.substr(0, at), digest = name.substr(at + 1);
    for (const auto& t : l.Tags()) {
      auto tr = ref::Parse(t);
      auto d = l.Find(t);
      if (tr && d && tr->registry + "/" + tr->repository == repo &&
          d->digest.ToString() == digest) {
        hits.push_back(t);
      }
    }
  }
  if (hits.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "no image " + r + " in the local store (anyarch images lists them)");
  }
  if (hits.size() > 1) {
    return MakeError(ErrorCode::kInvalid, r + " is the image of several names (" +
                                              Join(hits, ", ") + "); remove them by name");
  }
  return hits.front();
}

}  // namespace

Result<RemoveReport> RemoveImages(const std::string& store_root,
                                  const std::vector<std::string>& references) {
  RemoveReport report;
  ANYARCH_TRY(auto l, OpenStore(store_root));
  std::vector<std::string> names;
  for (const auto& r : references) {
    ANYARCH_TRY(std::string name, ResolveRemoval(l, r));
    names.push_back(name);
  }
  for (const auto& n : names) {
    ANYARCH_CHECK(content::RemoveRef(store_root, n));
    report.untagged.push_back(n);
  }
  ANYARCH_TRY(auto gc, content::CollectGarbage(store_root));
  report.blobs_removed = gc.blobs_removed;
  report.bytes_freed = gc.bytes_freed;
  return report;
}

namespace {

// The sizes of the regular files under `dir`, and how many entries it has at its top.
std::pair<std::size_t, std::uint64_t> DirUsage(const fs::path& dir) {
  std::size_t count = 0;
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    (void)e;
    ++count;
  }
  bytes = DirectoryUsage(dir).bytes;
  return {count, bytes};
}

}  // namespace

Result<PruneReport> Prune(const std::string& store_root, const PruneOptions& o) {
  PruneReport report;
  // The cache first, so that the collection below takes the layer blobs only it kept.
  if (o.build_cache || o.keep_storage) {
    auto entries = build::ListBuildCache(store_root);  // least recently used first
    std::uint64_t total = 0;
    for (const auto& e : entries) total += e.bytes + e.blob_bytes;
    for (const auto& e : entries) {
      if (!o.build_cache && total <= *o.keep_storage) break;
      std::error_code ec2;
      fs::remove_all(e.dir, ec2);
      if (ec2)
        return MakeError(ErrorCode::kIo, "removing " + e.dir.string() + ": " + ec2.message());
      ++report.build_cache_removed;
      report.build_cache_bytes_freed += e.bytes;
      total -= e.bytes + e.blob_bytes;
    }
  }
  ANYARCH_TRY(auto gc, content::CollectGarbage(store_root,
                                               [&] { return build::BuildCacheBlobs(store_root); }));
  report.blobs_removed = gc.blobs_removed;
  report.bytes_freed = gc.bytes_freed + report.build_cache_bytes_freed;
  report.temp_files_removed = gc.temp_files_removed;
  // Containers run kept and that are no longer running, as docker container prune.
  ANYARCH_TRY(auto gone, isolation::PruneKept(store_root));
  report.containers_removed = gone.size();
  std::error_code ec;
  fs::path snaps = fs::path(store_root) / "snapshots";
  if (fs::is_directory(snaps, ec)) {
    // Half-unpacked directories of killed runs always go (never those of running ones);
    // finished snapshots only when asked.
    std::vector<fs::path> doomed;
    if (o.snapshots) {
      for (const auto& e : fs::directory_iterator(snaps, ec)) doomed.push_back(e.path());
    } else {
      doomed = rootfs::SnapshotLeftovers(store_root);
    }
    for (const auto& p : doomed) {
      std::error_code ec2;
      if (fs::remove_all(p, ec2) != static_cast<std::uintmax_t>(-1) && !ec2) {
        ++report.snapshots_removed;
      }
    }
  }
  // Working directories of killed builds (build/snapshots.h says prune removes them).
  for (const auto& p : build::BuildLeftovers(store_root)) {
    std::error_code ec2;
    fs::remove_all(p, ec2);
    if (!ec2) ++report.temp_files_removed;
  }
  return report;
}

Result<DiskUsage> Du(const std::string& store_root) {
  DiskUsage du;
  fs::path root = store_root;
  ANYARCH_TRY(auto unused,
              content::CollectGarbage(
                  root, [&] { return build::BuildCacheBlobs(store_root); }, /*dry_run=*/true));
  auto [nblobs, blob_bytes] = DirUsage(root / "blobs" / "sha256");
  du.lines.push_back({"blobs", nblobs, blob_bytes, unused.bytes_freed});
  du.cache = build::ListBuildCache(store_root);
  UsageLine steps{"build cache", 0, 0, 0}, mounts{"cache mounts", 0, 0, 0};
  for (const auto& e : du.cache) {
    UsageLine& l = e.mount ? mounts : steps;
    ++l.count;
    l.bytes += e.bytes;
    l.reclaimable += e.bytes;
  }
  du.lines.push_back(steps);
  du.lines.push_back(mounts);
  auto [nsnap, snap_bytes] = DirUsage(root / "snapshots");
  du.lines.push_back({"snapshots", nsnap, snap_bytes, snap_bytes});
  auto [ncont, cont_bytes] = DirUsage(root / "containers");
  du.lines.push_back({"containers", ncont, cont_bytes, 0});
  return du;
}

Result<transport::CopyReport> Export(const ExportRequest& req) {
  if (req.format != "oci" && req.format != "docker") {
    return MakeError(ErrorCode::kInvalid, "--format " + req.format + ": expected oci or docker");
  }
  ANYARCH_TRY(std::string name, transport::LocalName(req.reference));
  CopyRequest c;
  c.source = "local:" + name;
  c.env = req.env;
  if (req.format == "oci") {
    auto r = ref::Parse(name);
    c.destination = "oci-archive:" + req.file + (r && !r->tag.empty() ? ":" + r->tag : "");
    c.image_name = name;
    c.all = req.platforms.empty();
    c.platforms = req.platforms;
  } else {
    if (req.platforms.size() > 1) {
      return MakeError(
          ErrorCode::kInvalid,
          "a docker-archive holds one image: give one --platform (or use --format oci)");
    }
    // docker save writes the short form (busybox:latest); docker load takes either.
    c.destination = "docker-archive:" + req.file + ":" + ref::Parse(name)->Familiar();
    c.platforms = req.platforms;
  }
  return Copy(c);
}

Result<std::string> DetectArchive(const std::string& file) {
  ANYARCH_TRY(auto info, ReadArchiveInfo(file));
  return info.format;
}

Result<transport::CopyReport> Import(const ImportRequest& req) {
  ANYARCH_TRY(auto info, ReadArchiveInfo(req.file));
  std::string name = req.reference;
  std::string pick;  // which image of the archive
  if (info.format == "docker-archive") {
    if (info.names.size() > 1 && name.empty()) {
      return MakeError(ErrorCode::kInvalid, req.file + " holds several images (" +
                                                Join(info.names, ", ") + "); give one with -t");
    }
    if (name.empty() && !info.names.empty()) name = info.names.front();
    if (info.names.size() == 1) pick = info.names.front();
    if (!req.reference.empty() && info.names.size() > 1) {
      // -t names both the image to take and its new name when it is one of the archive's.
      auto want = ref::Parse(req.reference);
      for (const auto& n : info.names) {
        auto have = ref::Parse(n);
        if (want && have && want->ToString() == have->ToString()) pick = n;
      }
      if (pick.empty()) {
        return MakeError(ErrorCode::kInvalid, req.file + " holds several images (" +
                                                  Join(info.names, ", ") +
                                                  "); -t must name one of them");
      }
    }
  } else {
    // oci-archive:FILE:TAG can only name a tag-shaped ref.name; one image needs no name.
    if (info.names.size() == 1 && ref::IsValidTag(info.names.front())) pick = info.names.front();
    // The full name an export (ours, containerd's, docker's) records beside the tag.
    if (name.empty() && !info.image_name.empty() && ref::Parse(info.image_name))
      name = info.image_name;
    if (name.empty() && info.names.size() == 1) {
      // An OCI ref.name is often a bare tag; only a full reference can name a store image.
      auto r = ref::Parse(info.names.front());
      if (r && info.names.front().find('/') != std::string::npos) name = info.names.front();
    }
    if (info.names.size() > 1) {
      return MakeError(ErrorCode::kInvalid,
                       req.file + " holds several images (" + Join(info.names, ", ") +
                           "); import one with anyarch copy oci-archive:" + req.file +
                           ":TAG local:REF");
    }
  }
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalid,
                     req.file + " does not name its image; give a name with -t REF");
  }
  ANYARCH_TRY(std::string local, transport::LocalName(name));
  CopyRequest c;
  c.source = info.format + ":" + req.file + (pick.empty() ? "" : ":" + pick);
  c.destination = "local:" + local;
  c.all = true;
  c.env = req.env;
  return Copy(c);
}

}  // namespace anyarch::ops

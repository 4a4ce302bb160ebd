// Checks an OCI image layout (image-spec image-layout.md) as a store that killed processes,
// failing disks and people editing files by hand may have left in any state. The traps:
// - a blob is named by its digest, so the name is the only claim worth checking: every file is
//   hashed, and a name that is not a digest is a stray file, never parsed into a path;
// - temporary files (AtomicFile's ".<name>.tmp-XXXXXX") are only leftovers when no writer is
//   running: the check holds StoreLock::Exclusive, which waits for the writers' shared locks;
// - an index child that is absent is normal (a one-platform pull keeps the whole index), so only
//   present children are followed, and a name must reach at least one complete image;
// - indexes may nest and cycle: the walk is bounded (kMaxDepth) and visits each blob once;
// - --repair never deletes content: a corrupt blob is moved to corrupt/, where no command reads
//   it, and index.json is left alone (a broken name stays reported until it is pulled again or
//   removed).
#include "content/store_check.h"

#include <sys/stat.h>

#include <map>
#include <set>

#include "base/digest.h"
#include "base/fs.h"
#include "content/layout.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::content {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxDepth = 8;  // nested indexes deeper than this are refused, as containerd does

bool IsTempName(const std::string& name) {
  return !name.empty() && name[0] == '.' && name.find(".tmp-") != std::string::npos;
}

struct Walker {
  const Layout& layout;
  const std::map<std::string, std::uint64_t>& good;   // hex -> size, blobs whose bytes match
  const std::map<std::string, std::size_t>& corrupt;  // hex -> its problem's index
  std::set<std::string>& reachable;
  std::vector<StoreProblem>& problems;
  std::string name;
  std::set<std::string> seen;

  void Problem(std::string kind, const image::Descriptor& d, std::string message, ErrorCode code) {
    problems.push_back({.kind = std::move(kind),
                        .path = "blobs/sha256/" + d.digest.hex(),
                        .name = name,
                        .message = std::move(message),
                        .repaired = false,
                        .code = code});
  }

  // Whether the blob `d` is present and sound; reports what is wrong with it otherwise.
  bool Present(const image::Descriptor& d, const std::string& role, bool optional) {
    if (d.digest.algorithm() != "sha256") {
      Problem("missing_blob", d,
              name + ": " + role + " " + d.digest.ToString() +
                  " uses an algorithm this store does not hold",
              ErrorCode::kNotFound);
      return false;
    }
    reachable.insert(d.digest.hex());
    if (auto c = corrupt.find(d.digest.hex()); c != corrupt.end()) {
      // Reported once, as corrupt_blob: name the images that need it there.
      std::string& names = problems[c->second].name;
      if (("," + names + ",").find("," + name + ",") == std::string::npos)
        names += (names.empty() ? "" : ",") + name;
      return false;
    }
    auto it = good.find(d.digest.hex());
    if (it == good.end()) {
      if (!optional)
        Problem("missing_blob", d, name + ": " + role + " " + d.digest.ToString() + " is missing",
                ErrorCode::kNotFound);
      return false;
    }
    if (d.size < 0 || it->second != static_cast<std::uint64_t>(d.size)) {
      Problem("size_mismatch", d,
              name + ": " + role + " " + d.digest.ToString() + " is " + std::to_string(it->second) +
                  " bytes, but its descriptor says " + std::to_string(d.size),
              ErrorCode::kInvalid);
      return false;
    }
    return true;
  }

  // Walks `d`; returns the number of complete images under it.
  std::size_t Walk(const image::Descriptor& d, int depth, bool optional) {
    std::string role = image::IsIndex(d.media_type) ? "index" : "manifest";
    if (!Present(d, role, optional)) return 0;
    if (!seen.insert(d.digest.hex()).second) return 0;
    if (depth > kMaxDepth) {
      Problem("invalid_manifest", d,
              name + ": indexes nested more than " + std::to_string(kMaxDepth) + " deep",
              ErrorCode::kInvalid);
      return 0;
    }
    auto raw = layout.ReadManifest(d);
    if (!raw) {
      Problem("invalid_manifest", d, name + ": " + raw.error().ToString(), ErrorCode::kInvalid);
      return 0;
    }
    if (image::IsIndex(raw->media_type)) {
      auto idx = image::ParseIndex(*raw);
      if (!idx) {
        Problem("invalid_manifest", d, name + ": " + idx.error().ToString(), ErrorCode::kInvalid);
        return 0;
      }
      std::size_t n = 0;
      for (const auto& c : idx->manifests) {
        if (image::IsManifestOrIndex(c.media_type)) n += Walk(c, depth + 1, /*optional=*/true);
      }
      if (n == 0 && depth == 0) {
        Problem("missing_blob", d,
                name + ": none of the index's images is in the store (pull it again)",
                ErrorCode::kNotFound);
      }
      return n;
    }
    auto m = image::ParseManifest(*raw);
    if (!m) {
      Problem("invalid_manifest", d, name + ": " + m.error().ToString(), ErrorCode::kInvalid);
      return 0;
    }
    bool ok = Present(m->config, "config", false);
    for (const auto& l : m->layers) ok = Present(l, "layer", false) && ok;
    if (m->subject) reachable.insert(m->subject->digest.hex());
    return ok ? 1 : 0;
  }
};

Status MoveAside(const fs::path& dir, const fs::path& file, const std::string& as) {
  ANYARCH_CHECK(MakePrivateDir(dir / "corrupt"));
  fs::path to = dir / "corrupt" / as;
  if (::rename(file.c_str(), to.c_str()) != 0)
    return Unexpected(ErrnoError(errno, "moving " + file.string() + " to " + to.string()));
  return Ok();
}

}  // namespace

Result<LayoutCheck> CheckLayout(const fs::path& dir, const LayoutCheckOptions& options) {
  LayoutCheck report;
  std::error_code ec;
  if (!fs::exists(dir / "oci-layout", ec)) return report;
  ANYARCH_TRY(StoreLock lock, StoreLock::Exclusive(dir));

  // Temporary files of writes that never finished: in the store's top directory (index.json)
  // and among the blobs.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (IsTempName(n)) report.leftovers.push_back({n, "temporary file of a killed write", false});
  }

  // Every blob, hashed.
  std::map<std::string, std::uint64_t> good;
  std::map<std::string, std::size_t> corrupt;
  fs::path blobs = dir / "blobs" / "sha256";
  for (const auto& e : fs::directory_iterator(blobs, ec)) {
    std::string n = e.path().filename().string();
    std::string rel = "blobs/sha256/" + n;
    if (IsTempName(n)) {
      report.leftovers.push_back({rel, "temporary file of a killed blob write", false});
      continue;
    }
    std::error_code ec2;
    auto parsed = Digest::Parse("sha256:" + n);
    if (!parsed || !e.is_regular_file(ec2)) {
      report.problems.push_back({.kind = "stray_file",
                                 .path = rel,
                                 .name = "",
                                 .message = rel +
                                            " is not a blob (its name is not a sha256 digest" +
                                            std::string(parsed ? ", or it is not a file)" : ")"),
                                 .repaired = false,
                                 .code = ErrorCode::kInvalid});
      continue;
    }
    ++report.blobs;
    auto got = Sha256OfFile(e.path());
    if (!got) {
      report.problems.push_back({.kind = "unreadable",
                                 .path = rel,
                                 .name = "",
                                 .message = got.error().ToString(),
                                 .repaired = false,
                                 .code = ErrorCode::kIo});
      continue;
    }
    if (*got != *parsed) {
      corrupt[n] = report.problems.size();
      report.problems.push_back({.kind = "corrupt_blob",
                                 .path = rel,
                                 .name = "",
                                 .message = rel + ": its bytes have digest " + got->ToString(),
                                 .repaired = false,
                                 .code = ErrorCode::kDigestMismatch});
      continue;
    }
    std::uint64_t size = e.file_size(ec2);
    good[n] = size;
    report.bytes += size;
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    return MakeError(ErrorCode::kIo, blobs.string() + ": " + ec.message());

  // Every name, walked down to its layers.
  std::set<std::string> reachable;
  auto layout = Layout::Open(dir);
  if (!layout) {
    report.problems.push_back({.kind = "invalid_index",
                               .path = "index.json",
                               .name = "",
                               .message = layout.error().ToString(),
                               .repaired = false,
                               .code = ErrorCode::kInvalid});
  } else {
    for (const auto& d : layout->index().manifests) {
      auto it = d.annotations.find(kRefNameAnnotation);
      std::string name = it != d.annotations.end() ? it->second : d.digest.ToString();
      ++report.names;
      Walker w{*layout, good, corrupt, reachable, report.problems, name, {}};
      report.images += w.Walk(d, 0, /*optional=*/false);
    }
  }
  for (const auto& [hex, size] : good) {
    if (!reachable.count(hex)) ++report.unreferenced_blobs;
  }

  if (options.repair) {
    for (auto& p : report.problems) {
      if (p.kind != "corrupt_blob" && p.kind != "stray_file") continue;
      std::string as = fs::path(p.path).filename().string();
      if (MoveAside(dir, dir / p.path, as)) p.repaired = true;
    }
    for (auto& l : report.leftovers) {
      std::error_code ec2;
      fs::remove_all(dir / l.path, ec2);
      l.removed = !ec2;
    }
  }
  return report;
}

}  // namespace anyarch::content

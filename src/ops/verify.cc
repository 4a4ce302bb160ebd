#include "ops/verify.h"

#include <algorithm>
#include <map>
#include <optional>

#include "base/strings.h"
#include "elf/elf.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "layer/tar_stream.h"
#include "transport/location.h"

namespace anyarch::ops {

bool VerifyReport::ok() const {
  return std::all_of(platforms.begin(), platforms.end(),
                     [](const VerifyPlatformResult& p) { return p.mismatches.empty(); });
}

namespace {

// ELF files larger than this are inspected from their first bytes only (the ARM attributes at
// the end are then unavailable and the variant comes from the float ABI).
constexpr std::size_t kMaxElfRead = 64 << 20;

struct Node {
  layer::EntryType type = layer::EntryType::kOther;
  std::string link;
  std::optional<elf::ElfInfo> elf;
  std::optional<Error> elf_error;  // an ELF file that could not be placed on a platform
  bool elf_truncated = false;      // only its first kMaxElfRead bytes were inspected
  int layer = 0;
};

// The filesystem an image's layers build, without the file contents.
class VirtualFs {
 public:
  void Remove(const std::string& path, bool children_only, int below_layer) {
    if (!children_only) nodes_.erase(path);
    std::string prefix = path.empty() ? "" : path + "/";
    for (auto it = nodes_.lower_bound(prefix);
         it != nodes_.end() && it->first.rfind(prefix, 0) == 0;) {
      if (it->second.layer < below_layer) {
        it = nodes_.erase(it);
      } else {
        ++it;
      }
    }
  }
  void Put(const std::string& path, Node n) {
    auto it = nodes_.find(path);
    if (it != nodes_.end() && it->second.type == layer::EntryType::kDirectory &&
        n.type != layer::EntryType::kDirectory) {
      Remove(path, true, n.layer + 1);
    }
    nodes_[path] = std::move(n);
  }
  const Node* Get(const std::string& path) const {
    auto it = nodes_.find(path);
    return it == nodes_.end() ? nullptr : &it->second;
  }
  bool IsDir(const std::string& path) const {
    if (path.empty()) return true;
    const Node* n = Get(path);
    if (n) return n->type == layer::EntryType::kDirectory;
    auto it = nodes_.lower_bound(path + "/");
    return it != nodes_.end() && it->first.rfind(path + "/", 0) == 0;
  }
  // Resolves an absolute path through the image's own symlinks. nullopt when it does not exist.
  std::optional<std::string> Resolve(const std::string& abs) const {
    std::vector<std::string> todo;
    for (auto& p : Split(abs, '/')) {
      if (!p.empty() && p != ".") todo.push_back(p);
    }
    std::reverse(todo.begin(), todo.end());
    std::vector<std::string> cur;
    int hops = 0;
    while (!todo.empty()) {
      std::string comp = todo.back();
      todo.pop_back();
      if (comp == "..") {
        if (!cur.empty()) cur.pop_back();
        continue;
      }
      cur.push_back(comp);
      std::string p = Join(cur, "/");
      const Node* n = Get(p);
      if (!n) {
        if (IsDir(p)) continue;
        return std::nullopt;
      }
      if (n->type == layer::EntryType::kSymlink) {
        if (++hops > 40) return std::nullopt;
        cur.pop_back();
        if (!n->link.empty() && n->link[0] == '/') cur.clear();
        auto parts = Split(n->link, '/');
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
          if (!it->empty() && *it != ".") todo.push_back(*it);
        }
      }
    }
    return Join(cur, "/");
  }
  template <typename F>
  void ForEach(F f) const {
    for (const auto& [p, n] : nodes_) f(p, n);
  }

 private:
  std::map<std::string, Node> nodes_;
};

Status WalkImage(image::ImageSource& src, const image::Manifest& m, VirtualFs& fs, Reporter& rep) {
  int index = 0;
  for (const auto& l : m.layers) {
    ++index;
    rep.Progress({.id = l.digest.ToString(),
                  .action = "verify",
                  .current = static_cast<std::uint64_t>(index),
                  .total = m.layers.size(),
                  .detail = "layer " + std::to_string(index)});
    ANYARCH_TRY(auto reader, src.OpenBlob(l));
    auto st = layer::WalkTar(
        *reader, [&](const layer::Entry& e, const layer::EntryReader& read) -> Status {
          if (e.opaque) {
            fs.Remove(e.path, true, index);
            return Ok();
          }
          if (e.whiteout) {
            fs.Remove(e.path, false, index + 1);
            return Ok();
          }
          Node n;
          n.type = e.type;
          n.layer = index;
          n.link = e.link;
          if (e.type == layer::EntryType::kHardlink) {
            const Node* target = fs.Get(e.link);
            if (target) {
              n = *target;
              n.layer = index;
            }
          } else if (e.type == layer::EntryType::kFile && e.size >= 4) {
            std::string head(4, '\0');
            std::size_t got = 0;
            while (got < 4) {
              ANYARCH_TRY(std::size_t k, read(head.data() + got, 4 - got));
              if (k == 0) break;
              got += k;
            }
            if (got == 4 && elf::IsElf(head)) {
              std::string data = head;
              std::size_t want =
                  static_cast<std::size_t>(std::min<std::int64_t>(e.size, kMaxElfRead));
              data.resize(want);
              while (got < want) {
                ANYARCH_TRY(std::size_t k, read(data.data() + got, want - got));
                if (k == 0) break;
                got += k;
              }
              data.resize(got);
              auto info = elf::InspectBuffer(data);
              if (info)
                n.elf = *info;
              else
                n.elf_error = info.error();
              n.elf_truncated = e.size > static_cast<std::int64_t>(want);
            }
          }
          fs.Put(e.path, std::move(n));
          return Ok();
        });
    if (!st)
      return Unexpected(
          std::move(st.error())
              .With("layer " + std::to_string(index) + " (" + l.digest.ToString() + ")"));
  }
  return Ok();
}

}  // namespace

Result<VerifyReport> Verify(const VerifyRequest& req) {
  Reporter& rep = req.reporter ? *req.reporter : DiscardReporter();
  ANYARCH_TRY(auto src, transport::OpenSource(req.location, {.insecure = req.insecure,
                                                             .store_root = req.store_root,
                                                             .config_path = req.config_path}));
  VerifyReport report;
  report.source = src->Describe();
  ANYARCH_TRY(auto root, src->GetRootManifest());
  std::vector<image::Descriptor> targets;
  if (image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(root));
    if (!req.platforms.empty()) {
      ANYARCH_TRY(targets, image::SelectPlatforms(idx, req.platforms));
    } else {
      for (const auto& d : idx.manifests) {
        if (!image::IsManifest(d.media_type)) continue;
        // Attestation manifests (unknown/unknown) carry no filesystem to check.
        if (d.platform && d.platform->os == "unknown") continue;
        targets.push_back(d);
      }
    }
  } else {
    targets.push_back(root.ToDescriptor());
  }
  for (const auto& d : targets) {
    ANYARCH_TRY(auto raw, src->GetManifest(d));
    ANYARCH_TRY(auto m, image::ParseManifest(raw));
    ANYARCH_TRY(auto cfg_reader, src->OpenBlob(m.config));
    ANYARCH_TRY(std::string cfg_bytes, ReadAll(*cfg_reader, 8 << 20));
    ANYARCH_TRY(auto cfg, image::ParseConfig(std::move(cfg_bytes)));
    VerifyPlatformResult pr;
    pr.manifest_digest = d.digest.ToString();
    pr.platform = platform::Normalize(d.platform ? *d.platform : cfg.platform);
    platform::Platform cfg_platform = platform::Normalize(cfg.platform);
    if (d.platform && (cfg_platform.architecture != pr.platform.architecture ||
                       cfg_platform.os != pr.platform.os)) {
      pr.mismatches.push_back({"", "config-platform", cfg_platform.ToString(),
                               pr.platform.ToString(),
                               "the index says " + pr.platform.ToString() +
                                   " but the image config says " + cfg_platform.ToString()});
    }
    if (!req.platforms.empty() && !d.platform &&
        !platform::Best(req.platforms.front(), {pr.platform})) {
      return MakeError(ErrorCode::kNotFound, report.source + " is a single " +
                                                 pr.platform.ToString() + " image, not " +
                                                 req.platforms.front().ToString());
    }
    VirtualFs fs;
    ANYARCH_CHECK_CTX(WalkImage(*src, m, fs, rep),
                      pr.platform.ToString() + " image " + pr.manifest_digest);
    fs.ForEach([&](const std::string& path, const Node& n) {
      if (n.type == layer::EntryType::kFile || n.type == layer::EntryType::kHardlink) ++pr.files;
      if (n.elf_error) {
        // A program nobody can place on a platform is not a pass: it may well not run here.
        bool unsupported = n.elf_error->code() == ErrorCode::kUnsupported;
        // A file cut at kMaxElfRead may only look malformed because its end was not read.
        if (!unsupported && n.elf_truncated) return;
        ++pr.elf_files;
        pr.mismatches.push_back({"/" + path, unsupported ? "unsupported-elf" : "malformed-elf",
                                 unsupported ? "ELF with no OCI platform" : "malformed ELF",
                                 pr.platform.ToString(), n.elf_error->message()});
        return;
      }
      if (!n.elf) return;
      ++pr.elf_files;
      const elf::ElfInfo& e = *n.elf;
      if (!platform::Matches(pr.platform, e.platform)) {
        pr.mismatches.push_back(
            {"/" + path, "wrong-platform", e.platform.ToString(), pr.platform.ToString(),
             e.machine_name + " binary in a " + pr.platform.ToString() + " image"});
      }
      if (!e.interpreter.empty() && !fs.Resolve(e.interpreter)) {
        pr.mismatches.push_back(
            {"/" + path, "missing-interpreter", e.interpreter, pr.platform.ToString(),
             "dynamically linked against " + e.interpreter + ", which the image does not contain"});
      }
    });
    report.platforms.push_back(std::move(pr));
  }
  return report;
}

}  // namespace anyarch::ops

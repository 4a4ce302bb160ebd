#include "inspect/check.h"

#include <algorithm>

#include "base/io.h"
#include "elf/elf.h"
#include "image/index_walk.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/validate.h"
#include "inspect/virtual_fs.h"
#include "layer/tar_stream.h"

namespace anyarch::inspect {
namespace {

// ELF files larger than this are inspected from their first bytes only (the ARM attributes at
// the end are then unavailable and the variant comes from the float ABI).
constexpr std::size_t kMaxElfRead = 64 << 20;

// Reads up to `want` bytes into `data` from position `got`; returns how many are there.
Result<std::size_t> ReadUpTo(const layer::EntryReader& read, std::string& data, std::size_t got,
                             std::size_t want) {
  data.resize(want);
  while (got < want) {
    ANYARCH_TRY(std::size_t k, read(data.data() + got, want - got));
    if (k == 0) break;
    got += k;
  }
  data.resize(got);
  return got;
}

// What a regular file is, as far as the checks care: its ELF header, if it has one.
Result<Node> Examine(const layer::Entry& e, const layer::EntryReader& read) {
  Node n;
  n.type = e.type;
  n.link = e.link;
  if (e.type != layer::EntryType::kFile || e.size < 4) return n;
  std::string data;
  ANYARCH_TRY(std::size_t got, ReadUpTo(read, data, 0, 4));
  if (got < 4 || !elf::IsElf(data)) return n;
  std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(e.size, kMaxElfRead));
  ANYARCH_CHECK(ReadUpTo(read, data, got, want));
  auto info = elf::InspectBuffer(data);
  if (info) {
    n.elf = *info;
  } else {
    n.elf_error = info.error();
  }
  n.elf_truncated = e.size > static_cast<std::int64_t>(want);
  return n;
}

Status WalkImage(image::ImageSource& src, const image::Manifest& m, const image::ImageConfig& cfg,
                 VirtualFs& fs, Reporter& rep) {
  ANYARCH_CHECK(image::CheckDiffIdCount(m, cfg));
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const auto& l = m.layers[i];
    const int index = static_cast<int>(i + 1);
    rep.Progress({.id = l.digest.ToString(),
                  .action = "verify",
                  .current = i + 1,
                  .total = m.layers.size(),
                  .detail = "layer " + std::to_string(index)});
    auto walked = [&]() -> Status {
      ANYARCH_TRY(auto reader, src.OpenBlob(l));
      ANYARCH_CHECK(
          layer::WalkLayer(*reader, cfg.diff_ids[i],
                           [&](const layer::Entry& e, const layer::EntryReader& read) -> Status {
                             ANYARCH_TRY(Node n, Examine(e, read));
                             return fs.Apply(e, std::move(n), index);
                           }));
      return Ok();
    }();
    if (!walked) {
      return Unexpected(
          std::move(walked.error())
              .With("layer " + std::to_string(index) + " (" + l.digest.ToString() + ")"));
    }
  }
  return Ok();
}

void Judge(const VirtualFs& fs, PlatformCheck& pr) {
  const std::string want = pr.platform.ToString();
  fs.ForEach([&](const std::string& path, const Node& n) {
    if (n.type == layer::EntryType::kFile) ++pr.files;
    if (n.elf_error) {
      // A program nobody can place on a platform is not a pass: it may well not run here.
      bool unsupported = n.elf_error->code() == ErrorCode::kUnsupported;
      // A file cut at kMaxElfRead may only look malformed because its end was not read.
      if (!unsupported && n.elf_truncated) return;
      ++pr.elf_files;
      pr.findings.push_back({.path = "/" + path,
                             .kind = unsupported ? "unsupported-elf" : "malformed-elf",
                             .found = unsupported ? "ELF with no OCI platform" : "malformed ELF",
                             .expected = want,
                             .detail = n.elf_error->message()});
      return;
    }
    if (!n.elf) return;
    ++pr.elf_files;
    const elf::ElfInfo& e = *n.elf;
    if (!platform::Matches(pr.platform, e.platform)) {
      pr.findings.push_back({.path = "/" + path,
                             .kind = "wrong-platform",
                             .found = e.platform.ToString(),
                             .expected = want,
                             .detail = e.machine_name + " binary in a " + want + " image",
                             .machine = e.machine_name});
    }
    if (!e.interpreter.empty() && !fs.Resolve(e.interpreter)) {
      pr.findings.push_back({.path = "/" + path,
                             .kind = "missing-interpreter",
                             .found = e.interpreter,
                             .expected = want,
                             .detail = "dynamically linked against " + e.interpreter +
                                       ", which the image does not contain"});
    }
  });
}

}  // namespace

Result<PlatformCheck> CheckPlatformImage(image::ImageSource& src, const image::Descriptor& d,
                                         Reporter& rep) {
  PlatformCheck pr;
  pr.manifest_digest = d.digest.ToString();
  auto checked = [&]() -> Status {
    ANYARCH_TRY(auto raw, src.GetManifest(d));
    ANYARCH_TRY(auto m, image::ParseManifest(raw));
    ANYARCH_TRY(auto cfg_reader, src.OpenBlob(m.config));
    ANYARCH_TRY(std::string cfg_bytes, ReadAll(*cfg_reader, 8 << 20));
    ANYARCH_TRY(auto cfg, image::ParseConfig(std::move(cfg_bytes)));
    pr.platform = platform::Normalize(d.platform ? *d.platform : cfg.platform);
    platform::Platform cfg_platform = platform::Normalize(cfg.platform);
    if (d.platform && (cfg_platform.architecture != pr.platform.architecture ||
                       cfg_platform.os != pr.platform.os)) {
      pr.findings.push_back({.path = "",
                             .kind = "config-platform",
                             .found = cfg_platform.ToString(),
                             .expected = pr.platform.ToString(),
                             .detail = "the index says " + pr.platform.ToString() +
                                       " but the image config says " + cfg_platform.ToString()});
    }
    VirtualFs fs;
    ANYARCH_CHECK(WalkImage(src, m, cfg, fs, rep));
    Judge(fs, pr);
    return Ok();
  }();
  if (!checked) {
    std::string what = d.platform ? platform::Normalize(*d.platform).ToString() + " image "
                                  : std::string("image ");
    return Unexpected(std::move(checked.error()).With(what + pr.manifest_digest));
  }
  return pr;
}

Result<std::vector<PlatformCheck>> CheckImages(image::ImageSource& src,
                                               const image::RawManifest& root,
                                               const std::vector<platform::Platform>& platforms,
                                               Reporter& rep) {
  std::vector<PlatformCheck> out;
  if (!image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto pr, CheckPlatformImage(src, root.ToDescriptor(), rep));
    for (const auto& want : platforms) {
      if (!platform::Choose(want, {pr.platform})) {
        return MakeError(ErrorCode::kNotFound, "it is a single " + pr.platform.ToString() +
                                                   " image, not " +
                                                   platform::Normalize(want).ToString());
      }
    }
    out.push_back(std::move(pr));
    return out;
  }
  ANYARCH_TRY(auto images, image::ListImages(src, root));
  std::vector<image::Descriptor> targets;
  if (!platforms.empty()) {
    // The same choice run, pull and copy make, over every image of the nested indexes.
    image::Index all{.raw = root, .manifests = images};
    ANYARCH_TRY(targets, image::SelectPlatforms(all, platforms));
  } else {
    for (const auto& d : images) {
      // Attestation manifests (unknown/unknown) carry no filesystem to check.
      if (d.platform && d.platform->os == "unknown") continue;
      targets.push_back(d);
    }
  }
  if (targets.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "index " + root.digest.ToString() + " holds no image to check (" +
                         (images.empty() ? std::string("no image manifests")
                                         : "only " + image::DescribePlatforms(images)) +
                         "): nothing was verified");
  }
  for (const auto& d : targets) {
    ANYARCH_TRY(auto pr, CheckPlatformImage(src, d, rep));
    out.push_back(std::move(pr));
  }
  return out;
}

std::string Describe(const PlatformCheck& c, const Finding& f) {
  std::string where = c.platform.ToString() + ": ";
  if (f.kind == "wrong-platform") {
    std::string what = f.machine.empty() ? std::string("an")
                       : std::string("AEIOUXaeioux").find(f.machine[0]) != std::string::npos
                           ? "an " + f.machine
                           : "a " + f.machine;
    return where + f.path + " is " + what + " ELF (" + f.found + ")";
  }
  if (f.kind == "missing-interpreter") {
    return where + f.path + " needs " + f.found + ", which the image does not contain";
  }
  if (f.kind == "config-platform") return where + f.detail;
  if (f.kind == "unsupported-elf") {
    return where + f.path + " is an ELF file with no OCI platform (" + f.detail + ")";
  }
  if (f.kind == "malformed-elf")
    return where + f.path + " is a malformed ELF file (" + f.detail + ")";
  return where + f.path + ": " + f.detail;
}

}  // namespace anyarch::inspect

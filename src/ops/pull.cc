#include "ops/pull.h"

#include <algorithm>
#include <optional>
#include <set>

#include "base/io.h"
#include "base/strings.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "ref/reference.h"

namespace anyarch::ops {

namespace {

// BuildKit points an attestation manifest at the image it describes with this annotation.
constexpr const char* kAttestationFor = "vnd.docker.reference.digest";

bool IsAttestation(const image::Descriptor& d) {
  return (d.platform && d.platform->os == "unknown") || d.annotations.count(kAttestationFor) != 0;
}

// What the store holds under a name, as index entries the pull can add to.
struct LocalState {
  image::RawManifest root;
  bool is_index = false;
  std::vector<image::Descriptor> entries;
  std::map<std::string, std::string> annotations;
};

// nullopt when the store has nothing under the name that a pull of `remote` should keep: no
// name, or a single image that is not one of the remote index's images.
Result<std::optional<LocalState>> ReadLocal(transport::Transports& t, const std::string& local,
                                            const image::Index& remote) {
  auto src = t.OpenSource(local);
  if (!src && src.error().code() == ErrorCode::kNotFound) return std::nullopt;
  if (!src) return Unexpected(src.error());
  auto root = (*src)->GetRootManifest();
  if (!root && root.error().code() == ErrorCode::kNotFound) return std::nullopt;
  if (!root) return Unexpected(root.error());
  LocalState s;
  s.root = *root;
  if (image::IsIndex(root->media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(*root));
    s.is_index = true;
    s.entries = idx.manifests;
    s.annotations = idx.annotations;
    return s;
  }
  for (const auto& d : remote.manifests) {
    if (d.digest == root->digest) {
      s.entries.push_back(d);
      return s;
    }
  }
  return std::nullopt;
}

std::string PlatformName(const image::Descriptor& d) {
  return d.platform ? platform::Normalize(*d.platform).ToString() : std::string();
}

// `have` with each of `chosen` added: an image already there stays as it is; an image for a
// platform `have` already has replaces that entry (and its attestations). True when changed.
bool AddImages(std::vector<image::Descriptor>& have, const std::vector<image::Descriptor>& chosen) {
  bool changed = false;
  for (const auto& c : chosen) {
    bool present = std::any_of(have.begin(), have.end(),
                               [&](const image::Descriptor& d) { return d.digest == c.digest; });
    if (present) continue;
    std::string p = PlatformName(c);
    std::set<std::string> replaced;
    for (const auto& d : have) {
      if (!IsAttestation(d) && !p.empty() && PlatformName(d) == p) {
        replaced.insert(d.digest.ToString());
      }
    }
    have.erase(std::remove_if(have.begin(), have.end(),
                              [&](const image::Descriptor& d) {
                                if (replaced.count(d.digest.ToString())) return true;
                                auto it = d.annotations.find(kAttestationFor);
                                return it != d.annotations.end() && replaced.count(it->second);
                              }),
               have.end());
    have.push_back(c);
    changed = true;
  }
  return changed;
}

std::set<Digest> DigestsOf(const std::vector<image::Descriptor>& ds) {
  std::set<Digest> out;
  for (const auto& d : ds) out.insert(d.digest);
  return out;
}

}  // namespace

Result<std::vector<std::string>> PlatformsOf(image::ImageSource& src,
                                             const image::RawManifest& root) {
  std::vector<std::string> out;
  if (image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(root));
    for (const auto& d : idx.manifests) {
      if (IsAttestation(d) || !d.platform) continue;
      std::string p = PlatformName(d);
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
    return out;
  }
  ANYARCH_TRY(auto m, image::ParseManifest(root));
  ANYARCH_TRY(auto reader, src.OpenBlob(m.config));
  ANYARCH_TRY(std::string bytes, ReadAll(*reader, 8 << 20));
  ANYARCH_TRY(auto cfg, image::ParseConfig(std::move(bytes)));
  out.push_back(platform::Normalize(cfg.platform).ToString());
  return out;
}

Result<transport::CopyReport> Pull(const PullRequest& req) {
  ANYARCH_TRY(transport::Location loc, transport::ParseLocation(req.reference));
  if (loc.transport != "registry") {
    return MakeError(ErrorCode::kInvalid, "pull takes a registry reference; for " + loc.transport +
                                              ": use anyarch copy");
  }
  const std::string local = "local:" + loc.reference;
  CopyRequest plain{.source = req.reference,
                    .destination = local,
                    .all = req.all,
                    .platforms = req.platforms,
                    .env = req.env};
  if (req.all) return Copy(plain);

  transport::Transports t(req.env);
  ANYARCH_TRY(auto src, t.OpenSource(req.reference));
  ANYARCH_TRY(auto root, src->GetRootManifest());
  if (!image::IsIndex(root.media_type)) return Copy(plain);
  ANYARCH_TRY(auto remote, image::ParseIndex(root));
  ANYARCH_TRY(auto have, ReadLocal(t, local, remote));
  if (!have) return Copy(plain);

  std::vector<platform::Platform> wants = req.platforms;
  if (wants.empty()) wants.push_back(platform::Host());
  std::vector<platform::Choice> choices;
  auto chosen = image::SelectPlatforms(remote, wants, &choices);
  if (!chosen) return Unexpected(std::move(chosen.error()).With(src->Describe()));
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (!choices[i].exact && req.env.reporter) {
      req.env.reporter->Warn(platform::DescribeSubstitute(wants[i], choices[i].chosen));
    }
  }

  std::vector<image::Descriptor> merged = have->entries;
  image::RawManifest written = have->root;
  if (AddImages(merged, *chosen)) {
    if (DigestsOf(merged) == DigestsOf(remote.manifests)) {
      // Every image of the registry's index is here again: keep its bytes and digest.
      written = root;
    } else {
      std::string type = have->is_index ? have->root.media_type
                                        : image::IndexTypeFor(merged, !have->annotations.empty());
      if (type == image::kDockerManifestList &&
          image::IndexTypeFor(merged, !have->annotations.empty()) != type) {
        type = image::kOciIndex;
      }
      ANYARCH_TRY(written, image::BuildIndex(type, merged, have->annotations));
    }
  }

  transport::CopyReport report;
  report.source = src->Describe();
  report.destination = local;
  ANYARCH_TRY(auto dst, t.OpenSink(local));
  ANYARCH_CHECK(transport::CopyImages(*src, *dst, *chosen, {}, req.env, report));
  for (const auto& d : *chosen) {
    if (d.platform) report.platforms.push_back(PlatformName(d));
  }
  if (image::IsIndex(written.media_type)) {
    ANYARCH_CHECK_CTX(dst->PutManifest(written), "writing index " + written.digest.ToString());
  }
  ANYARCH_CHECK_CTX(dst->Tag(written), "naming " + local);
  ANYARCH_CHECK_CTX(dst->Commit(), "finishing " + local);
  report.digest = written.digest.ToString();
  report.media_type = written.media_type;
  return report;
}

Result<transport::CopyReport> Push(const PushRequest& req) {
  ANYARCH_TRY(std::string name, transport::LocalName(req.source));
  const std::string local = "local:" + name;
  const std::string dest = req.destination.empty() ? name : req.destination;
  if (!req.force) {
    transport::Transports t(req.env);
    ANYARCH_TRY(auto src, t.OpenSource(local));
    ANYARCH_TRY(auto root, src->GetRootManifest());
    ANYARCH_TRY(transport::Location dl, transport::ParseLocation(dest));
    if (dl.transport == "registry") {
      ANYARCH_TRY(auto remote_src, t.OpenSource(dest));
      auto remote = remote_src->GetRootManifest();
      if (!remote && remote.error().code() != ErrorCode::kNotFound) {
        return Unexpected(std::move(remote.error()).With("reading what " + dest + " holds now"));
      }
      if (remote && image::IsIndex(remote->media_type) && remote->digest != root.digest) {
        ANYARCH_TRY(auto there, PlatformsOf(*remote_src, *remote));
        ANYARCH_TRY(auto pushing, PlatformsOf(*src, root));
        std::vector<std::string> lost;
        for (const auto& p : there) {
          if (std::find(pushing.begin(), pushing.end(), p) == pushing.end()) lost.push_back(p);
        }
        if (!lost.empty()) {
          return MakeError(ErrorCode::kInvalid,
                           dest + " is an index of " + Join(there, ", ") + "; pushing " + local +
                               " (" + Join(pushing, ", ") + ") would replace it and lose " +
                               Join(lost, ", ") +
                               ". Pull the other platforms first (anyarch pull --all-platforms " +
                               dest + ", then pull yours again), or give --force to replace it");
        }
      }
    }
  }
  return Copy({.source = local, .destination = dest, .all = true, .platforms = {}, .env = req.env});
}

}  // namespace anyarch::ops

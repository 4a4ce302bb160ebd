// Traps handled: manifest.json may be any JSON (an object instead of the array, entries that
// are not objects, fields of the wrong type, null for RepoTags as `docker save` writes for
// untagged images); "@N" must not overflow; a name may carry a registry port ("host:5000/app"),
// so the tag is after the last colon only when no slash follows it.
#include "content/docker_manifest.h"

#include <algorithm>

#include "base/json.h"
#include "base/strings.h"
#include "content/tarball.h"

namespace anyarch::content {

using tarball::Quote;

Result<NameTag> SplitNameTag(std::string_view ref) {
  if (ref.empty()) return MakeError(ErrorCode::kInvalid, "empty image name");
  for (char c : ref) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return MakeError(ErrorCode::kInvalid,
                       "image name " + Quote(ref) + " has a space or a character outside ASCII");
    }
  }
  if (ref.find('@') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalid,
                     "image name " + Quote(ref) + " has a digest; docker-archive names need a tag");
  }
  NameTag nt;
  std::size_t slash = ref.rfind('/');
  std::size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    nt.name = std::string(ref.substr(0, colon));
    nt.tag = std::string(ref.substr(colon + 1));
  } else {
    nt.name = std::string(ref);
    nt.tag = "latest";
  }
  if (nt.name.empty() || nt.tag.empty() || nt.name.back() == '/') {
    return MakeError(ErrorCode::kInvalid, "malformed image name " + Quote(ref));
  }
  return nt;
}

std::string NormalizeRepoTag(const std::string& ref) {
  auto nt = SplitNameTag(ref);
  if (!nt) return ref;
  std::string name = nt->name;
  std::size_t slash = name.find('/');
  std::string first = slash == std::string::npos ? std::string() : name.substr(0, slash);
  bool has_domain =
      !first.empty() && (first.find('.') != std::string::npos ||
                         first.find(':') != std::string::npos || first == "localhost");
  if (has_domain && first == "index.docker.io") {
    name = "docker.io" + name.substr(slash);
  } else if (!has_domain) {
    name = "docker.io/" + name;
  }
  if (name.rfind("docker.io/", 0) == 0 && name.find('/', 10) == std::string::npos) {
    name = "docker.io/library/" + name.substr(10);
  }
  return name + ":" + nt->tag;
}

Result<std::vector<DockerImageEntry>> ParseDockerManifest(std::string_view bytes,
                                                          const std::string& what) {
  std::string ctx = what + ": manifest.json";
  ANYARCH_TRY(Json j, ParseJson(bytes, ctx));
  if (!j.is_array()) return MakeError(ErrorCode::kInvalid, ctx + ": not a JSON array");
  std::vector<DockerImageEntry> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const Json& item = j[i];
    std::string at = ctx + ": image " + std::to_string(i);
    if (!item.is_object()) return MakeError(ErrorCode::kInvalid, at + ": not a JSON object");
    DockerImageEntry e;
    ANYARCH_TRY(e.config, GetString(item, "Config", at));
    auto strings = [&](const char* key, bool required, std::vector<std::string>& dst) -> Status {
      auto it = item.find(key);
      if (it == item.end() || it->is_null()) {
        if (required) {
          return MakeError(ErrorCode::kInvalid,
                           at + ": field \"" + std::string(key) + "\" is missing");
        }
        return Ok();
      }
      if (!it->is_array()) {
        return MakeError(ErrorCode::kInvalid,
                         at + ": field \"" + std::string(key) + "\" must be an array");
      }
      for (const auto& s : *it) {
        if (!s.is_string()) {
          return MakeError(ErrorCode::kInvalid,
                           at + ": field \"" + std::string(key) + "\" must hold strings");
        }
        dst.push_back(s.get<std::string>());
      }
      return Ok();
    };
    ANYARCH_CHECK(strings("RepoTags", false, e.repo_tags));
    ANYARCH_CHECK(strings("Layers", true, e.layers));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::size_t> SelectDockerImage(const std::vector<DockerImageEntry>& images,
                                      const std::string& reference, const std::string& what) {
  std::vector<std::string> all_tags;
  for (const auto& im : images)
    all_tags.insert(all_tags.end(), im.repo_tags.begin(), im.repo_tags.end());
  std::string have = all_tags.empty() ? std::string("no tags") : Join(all_tags, ", ");
  if (images.empty()) return MakeError(ErrorCode::kNotFound, what + " holds no images");
  if (reference.empty()) {
    if (images.size() == 1) return std::size_t{0};
    return MakeError(ErrorCode::kInvalid, what + " holds " + std::to_string(images.size()) +
                                              " images; name one (" + what + ":NAME:TAG or " +
                                              what + ":@N) of: " + have);
  }
  if (reference[0] == '@' && reference.size() > 1 &&
      std::all_of(reference.begin() + 1, reference.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    if (reference.size() > 10) {
      return MakeError(ErrorCode::kNotFound, "no image " + reference + " in " + what);
    }
    std::size_t n = std::stoul(reference.substr(1));
    if (n >= images.size()) {
      return MakeError(ErrorCode::kNotFound, "no image " + reference + " in " + what +
                                                 " (it holds " + std::to_string(images.size()) +
                                                 ", numbered from @0)");
    }
    return n;
  }
  if (auto nt = SplitNameTag(reference); !nt) {
    return MakeError(ErrorCode::kInvalid, what + ": " + nt.error().message());
  }
  std::string want = NormalizeRepoTag(reference);
  for (std::size_t i = 0; i < images.size(); ++i) {
    for (const auto& t : images[i].repo_tags) {
      if (NormalizeRepoTag(t) == want) return i;
    }
  }
  return MakeError(ErrorCode::kNotFound, "no image tagged " + Quote(reference) + " in " + what +
                                             " (it has: " + have + ")");
}

}  // namespace anyarch::content

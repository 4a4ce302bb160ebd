#include "image/manifest.h"

#include <algorithm>

#include "base/strings.h"
#include "image/media_types.h"

namespace anyarch::image {
namespace {

bool Known(std::string_view mt) { return IsManifestOrIndex(mt); }

Result<int> SchemaVersion(const Json& j, std::string_view what) {
  auto it = j.find("schemaVersion");
  if (it == j.end() || !it->is_number_integer()) {
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": missing schemaVersion");
  }
  int v = it->get<int>();
  if (v == 1) {
    return MakeError(ErrorCode::kUnsupported,
                     std::string(what) +
                         ": Docker schema 1 manifests are not supported (ask the registry for "
                         "schema 2, or re-push the image with a current tool)");
  }
  if (v != 2) {
    return MakeError(ErrorCode::kInvalid,
                     std::string(what) + ": unsupported schemaVersion " + std::to_string(v));
  }
  return v;
}

std::string What(const RawManifest& raw, std::string_view kind) {
  return std::string(kind) + " " +
         (raw.digest.empty() ? std::string("(new)") : raw.digest.ToString());
}

Status CheckDeclaredType(const Json& j, const RawManifest& raw, std::string_view what) {
  ANYARCH_TRY(auto declared, GetOptionalString(j, "mediaType", what));
  if (declared && !raw.media_type.empty() && *declared != raw.media_type) {
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": declares mediaType \"" +
                                              *declared + "\" but was served as \"" +
                                              raw.media_type + "\"");
  }
  return Ok();
}

}  // namespace

Result<std::string> DetectMediaType(std::string_view bytes, std::string_view transport_type) {
  std::string_view t = transport_type;
  if (auto semi = t.find(';'); semi != std::string_view::npos) t = TrimSpace(t.substr(0, semi));
  if (t == kDockerSchema1Signed || t == "application/vnd.docker.distribution.manifest.v1+json") {
    return MakeError(ErrorCode::kUnsupported, "Docker schema 1 manifests are not supported");
  }
  if (Known(t)) return std::string(t);
  ANYARCH_TRY(Json j, ParseJson(bytes, "manifest"));
  if (!j.is_object()) return MakeError(ErrorCode::kInvalid, "manifest: not a JSON object");
  ANYARCH_TRY(auto declared, GetOptionalString(j, "mediaType", "manifest"));
  if (declared) {
    if (Known(*declared)) return *declared;
    return MakeError(ErrorCode::kUnsupported,
                     "unsupported manifest media type \"" + *declared + "\"");
  }
  if (j.contains("schemaVersion") && j["schemaVersion"] == 1) {
    return MakeError(ErrorCode::kUnsupported, "Docker schema 1 manifests are not supported");
  }
  if (j.contains("manifests")) return std::string(kOciIndex);
  if (j.contains("layers") || j.contains("config")) return std::string(kOciManifest);
  return MakeError(ErrorCode::kInvalid, "cannot tell what kind of document this manifest is");
}

Result<RawManifest> MakeRawManifest(std::string bytes, std::string_view transport_type) {
  if (bytes.size() > kMaxManifestSize) {
    return MakeError(ErrorCode::kInvalid, "manifest is " + std::to_string(bytes.size()) +
                                              " bytes, over the 4 MiB limit");
  }
  RawManifest raw;
  ANYARCH_TRY(raw.media_type, DetectMediaType(bytes, transport_type));
  raw.digest = Sha256Of(bytes);
  raw.bytes = std::move(bytes);
  return raw;
}

Result<Manifest> ParseManifest(RawManifest raw) {
  if (raw.digest.empty()) raw.digest = Sha256Of(raw.bytes);
  std::string what = What(raw, "manifest");
  if (raw.bytes.size() > kMaxManifestSize) {
    return MakeError(ErrorCode::kInvalid, what + ": larger than the 4 MiB limit");
  }
  ANYARCH_TRY(Json j, ParseJson(raw.bytes, what));
  if (!j.is_object()) return MakeError(ErrorCode::kInvalid, what + ": not a JSON object");
  Manifest m;
  ANYARCH_TRY(m.schema_version, SchemaVersion(j, what));
  ANYARCH_CHECK(CheckDeclaredType(j, raw, what));
  ANYARCH_TRY(auto declared, GetOptionalString(j, "mediaType", what));
  m.media_type = declared.value_or("");
  if (raw.media_type.empty())
    raw.media_type = m.media_type.empty() ? std::string(kOciManifest) : m.media_type;
  if (!IsManifest(raw.media_type)) {
    return MakeError(ErrorCode::kInvalid,
                     what + ": is a " + raw.media_type + ", not an image manifest");
  }
  auto cfg = j.find("config");
  if (cfg == j.end()) return MakeError(ErrorCode::kInvalid, what + ": missing config");
  ANYARCH_TRY(m.config, DescriptorFromJson(*cfg, what + " config"));
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) {
    return MakeError(ErrorCode::kInvalid, what + ": layers must be an array");
  }
  for (std::size_t i = 0; i < layers->size(); ++i) {
    ANYARCH_TRY(auto d,
                DescriptorFromJson((*layers)[i], what + " layers[" + std::to_string(i) + "]"));
    m.layers.push_back(std::move(d));
  }
  ANYARCH_TRY(m.annotations, AnnotationsFromJson(j, what));
  if (auto s = j.find("subject"); s != j.end() && !s->is_null()) {
    ANYARCH_TRY(auto d, DescriptorFromJson(*s, what + " subject"));
    m.subject = std::move(d);
  }
  m.raw = std::move(raw);
  return m;
}

Result<Index> ParseIndex(RawManifest raw) {
  if (raw.digest.empty()) raw.digest = Sha256Of(raw.bytes);
  std::string what = What(raw, "index");
  if (raw.bytes.size() > kMaxManifestSize) {
    return MakeError(ErrorCode::kInvalid, what + ": larger than the 4 MiB limit");
  }
  ANYARCH_TRY(Json j, ParseJson(raw.bytes, what));
  if (!j.is_object()) return MakeError(ErrorCode::kInvalid, what + ": not a JSON object");
  Index idx;
  ANYARCH_TRY(idx.schema_version, SchemaVersion(j, what));
  ANYARCH_CHECK(CheckDeclaredType(j, raw, what));
  ANYARCH_TRY(auto declared, GetOptionalString(j, "mediaType", what));
  idx.media_type = declared.value_or("");
  if (raw.media_type.empty())
    raw.media_type = idx.media_type.empty() ? std::string(kOciIndex) : idx.media_type;
  if (!IsIndex(raw.media_type)) {
    return MakeError(ErrorCode::kInvalid, what + ": is a " + raw.media_type + ", not an index");
  }
  auto ms = j.find("manifests");
  if (ms == j.end() || !ms->is_array()) {
    return MakeError(ErrorCode::kInvalid, what + ": manifests must be an array");
  }
  for (std::size_t i = 0; i < ms->size(); ++i) {
    ANYARCH_TRY(auto d,
                DescriptorFromJson((*ms)[i], what + " manifests[" + std::to_string(i) + "]"));
    idx.manifests.push_back(std::move(d));
  }
  ANYARCH_TRY(idx.annotations, AnnotationsFromJson(j, what));
  idx.raw = std::move(raw);
  return idx;
}

Result<ImageConfig> ParseConfig(std::string bytes) {
  const std::string what = "image config";
  ANYARCH_TRY(Json j, ParseJson(bytes, what));
  if (!j.is_object()) return MakeError(ErrorCode::kInvalid, what + ": not a JSON object");
  ImageConfig c;
  ANYARCH_TRY(c.platform.architecture, GetString(j, "architecture", what));
  ANYARCH_TRY(c.platform.os, GetString(j, "os", what));
  ANYARCH_TRY(auto variant, GetOptionalString(j, "variant", what));
  c.platform.variant = variant.value_or("");
  ANYARCH_TRY(auto osv, GetOptionalString(j, "os.version", what));
  c.platform.os_version = osv.value_or("");
  ANYARCH_TRY(auto created, GetOptionalString(j, "created", what));
  c.created = created.value_or("");
  auto strings = [&](const Json& obj, const char* key, std::vector<std::string>& out) -> Status {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return Ok();
    if (!it->is_array())
      return MakeError(ErrorCode::kInvalid, what + ": " + key + " must be an array");
    for (const auto& s : *it) {
      if (!s.is_string())
        return MakeError(ErrorCode::kInvalid, what + ": " + key + " must hold strings");
      out.push_back(s.get<std::string>());
    }
    return Ok();
  };
  if (auto cfg = j.find("config"); cfg != j.end() && cfg->is_object()) {
    ANYARCH_CHECK(strings(*cfg, "Env", c.env));
    ANYARCH_CHECK(strings(*cfg, "Entrypoint", c.entrypoint));
    ANYARCH_CHECK(strings(*cfg, "Cmd", c.cmd));
    ANYARCH_TRY(auto wd, GetOptionalString(*cfg, "WorkingDir", what));
    c.working_dir = wd.value_or("");
    ANYARCH_TRY(auto user, GetOptionalString(*cfg, "User", what));
    c.user = user.value_or("");
    if (auto l = cfg->find("Labels"); l != cfg->end() && l->is_object()) {
      for (const auto& [k, v] : l->items()) {
        if (v.is_string()) c.labels[k] = v.get<std::string>();
      }
    }
  }
  if (auto rootfs = j.find("rootfs"); rootfs != j.end() && rootfs->is_object()) {
    std::vector<std::string> ids;
    ANYARCH_CHECK(strings(*rootfs, "diff_ids", ids));
    for (const auto& id : ids) {
      auto d = Digest::Parse(id);
      if (!d) return Unexpected(std::move(d.error()).With(what + ": rootfs.diff_ids"));
      c.diff_ids.push_back(*d);
    }
  }
  c.raw = std::move(bytes);
  return c;
}

std::string IndexTypeFor(const std::vector<Descriptor>& manifests, bool has_annotations) {
  if (has_annotations || manifests.empty()) return std::string(kOciIndex);
  for (const auto& m : manifests) {
    if (m.media_type != kDockerManifest || !m.annotations.empty()) return std::string(kOciIndex);
  }
  return std::string(kDockerManifestList);
}

Result<RawManifest> BuildIndex(std::string_view media_type,
                               const std::vector<Descriptor>& manifests,
                               const std::map<std::string, std::string>& annotations) {
  if (!IsIndex(media_type)) {
    return MakeError(ErrorCode::kInvalid,
                     "BuildIndex: " + std::string(media_type) + " is not an index type");
  }
  bool docker = media_type == kDockerManifestList;
  if (docker && !annotations.empty()) {
    return MakeError(ErrorCode::kInvalid,
                     "a Docker manifest list cannot carry annotations; use an OCI index");
  }
  OrderedJson j = OrderedJson::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = std::string(media_type);
  OrderedJson arr = OrderedJson::array();
  for (const auto& m : manifests) {
    if (docker && !m.annotations.empty()) {
      return MakeError(
          ErrorCode::kInvalid,
          "a Docker manifest list cannot carry annotations on its entries; use an OCI index");
    }
    arr.push_back(DescriptorToJson(m));
  }
  j["manifests"] = arr;
  if (!annotations.empty()) {
    OrderedJson a = OrderedJson::object();
    for (const auto& [k, v] : annotations) a[k] = v;
    j["annotations"] = a;
  }
  return MakeRawManifest(j.dump(3), media_type);
}

std::string DescribePlatforms(const std::vector<Descriptor>& manifests) {
  std::vector<std::string> names;
  for (const auto& m : manifests) {
    std::string n = m.platform ? platform::Normalize(*m.platform).ToString() : "(no platform)";
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  return names.empty() ? std::string("no platforms") : Join(names, ", ");
}

Result<Descriptor> SelectPlatform(const Index& index, const platform::Platform& want,
                                  platform::Choice* choice) {
  std::vector<platform::Platform> cands;
  std::vector<std::size_t> pos;
  for (std::size_t i = 0; i < index.manifests.size(); ++i) {
    const auto& m = index.manifests[i];
    if (!m.platform || !IsManifestOrIndex(m.media_type)) continue;
    cands.push_back(*m.platform);
    pos.push_back(i);
  }
  auto best = platform::Choose(want, cands);
  if (!best) {
    return MakeError(ErrorCode::kNotFound, "no image for " + platform::Normalize(want).ToString() +
                                               " in index " + index.raw.digest.ToString() +
                                               "; it has " + DescribePlatforms(index.manifests));
  }
  best->index = pos[best->index];
  if (choice) *choice = *best;
  return index.manifests[best->index];
}

Result<std::vector<Descriptor>> SelectPlatforms(const Index& index,
                                                const std::vector<platform::Platform>& wants,
                                                std::vector<platform::Choice>* choices) {
  std::vector<Descriptor> out;
  for (const auto& w : wants) {
    platform::Choice c;
    ANYARCH_TRY(Descriptor d, SelectPlatform(index, w, &c));
    if (choices) choices->push_back(c);
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace anyarch::image

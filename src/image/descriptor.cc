#include "image/descriptor.h"

#include "image/source.h"

namespace anyarch::image {

Result<platform::Platform> PlatformFromJson(const Json& j, std::string_view what) {
  if (!j.is_object())
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": platform must be an object");
  platform::Platform p;
  ANYARCH_TRY(p.architecture, GetString(j, "architecture", what));
  ANYARCH_TRY(p.os, GetString(j, "os", what));
  ANYARCH_TRY(auto variant, GetOptionalString(j, "variant", what));
  p.variant = variant.value_or("");
  ANYARCH_TRY(auto osv, GetOptionalString(j, "os.version", what));
  p.os_version = osv.value_or("");
  if (auto it = j.find("os.features"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) {
      return MakeError(ErrorCode::kInvalid, std::string(what) + ": os.features must be an array");
    }
    for (const auto& f : *it) {
      if (!f.is_string()) {
        return MakeError(ErrorCode::kInvalid,
                         std::string(what) + ": os.features must hold strings");
      }
      p.os_features.push_back(f.get<std::string>());
    }
  }
  return p;
}

OrderedJson PlatformToJson(const platform::Platform& p) {
  OrderedJson j = OrderedJson::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

Result<std::map<std::string, std::string>> AnnotationsFromJson(const Json& j,
                                                               std::string_view what) {
  std::map<std::string, std::string> out;
  auto it = j.find("annotations");
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) {
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": annotations must be an object");
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return MakeError(ErrorCode::kInvalid,
                       std::string(what) + ": annotation \"" + k + "\" must be a string");
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<Descriptor> DescriptorFromJson(const Json& j, std::string_view what) {
  if (!j.is_object())
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": descriptor must be an object");
  Descriptor d;
  ANYARCH_TRY(d.media_type, GetString(j, "mediaType", what));
  ANYARCH_TRY(std::string digest, GetString(j, "digest", what));
  auto parsed = Digest::Parse(digest);
  if (!parsed) return Unexpected(std::move(parsed.error()).With(std::string(what)));
  d.digest = *parsed;
  ANYARCH_TRY(d.size, GetInt(j, "size", what));
  if (d.size < 0) return MakeError(ErrorCode::kInvalid, std::string(what) + ": negative size");
  if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
    ANYARCH_TRY(auto p, PlatformFromJson(*it, what));
    d.platform = std::move(p);
  }
  ANYARCH_TRY(d.annotations, AnnotationsFromJson(j, what));
  if (auto it = j.find("urls"); it != j.end() && !it->is_null()) {
    if (!it->is_array())
      return MakeError(ErrorCode::kInvalid, std::string(what) + ": urls must be an array");
    for (const auto& u : *it) {
      if (!u.is_string())
        return MakeError(ErrorCode::kInvalid, std::string(what) + ": urls must hold strings");
      d.urls.push_back(u.get<std::string>());
    }
  }
  ANYARCH_TRY(auto at, GetOptionalString(j, "artifactType", what));
  d.artifact_type = at.value_or("");
  return d;
}

OrderedJson DescriptorToJson(const Descriptor& d) {
  OrderedJson j = OrderedJson::object();
  j["mediaType"] = d.media_type;
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  j["digest"] = d.digest.ToString();
  j["size"] = d.size;
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) {
    OrderedJson a = OrderedJson::object();
    for (const auto& [k, v] : d.annotations) a[k] = v;
    j["annotations"] = a;
  }
  if (d.platform) j["platform"] = PlatformToJson(*d.platform);
  return j;
}

Descriptor RawManifest::ToDescriptor() const {
  Descriptor d;
  d.media_type = media_type;
  d.digest = digest;
  d.size = static_cast<std::int64_t>(bytes.size());
  return d;
}

}  // namespace anyarch::image

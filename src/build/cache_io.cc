#include "build/cache_io.h"

#include <map>
#include <set>

#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "content/layout.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::build {

namespace {

constexpr std::size_t kMaxCacheConfig = 16 << 20;
constexpr const char* kLocalTag = "cache";

}  // namespace

Result<CacheSpec> ParseCacheSpec(const std::string& text, bool to) {
  const std::string flag = to ? "--cache-to" : "--cache-from";
  CacheSpec spec;
  std::map<std::string, std::string> kv;
  for (const auto& part : Split(text, ',')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string::npos) {
      // buildx takes a bare reference as type=registry,ref=REF.
      if (kv.empty() && !to && text.find(',') == std::string::npos) {
        kv["type"] = "registry";
        kv["ref"] = part;
        continue;
      }
      return MakeError(ErrorCode::kInvalid, flag + " " + Printable(text) + ": \"" +
                                                Printable(part) + "\" is not KEY=VALUE");
    }
    kv[part.substr(0, eq)] = part.substr(eq + 1);
  }
  spec.type = kv.count("type") ? kv["type"] : "";
  auto take = [&](const char* key) {
    std::string v = kv.count(key) ? kv[key] : "";
    kv.erase(key);
    return v;
  };
  take("type");
  std::string mode = take("mode");
  // Accepted for buildx compatibility; anyarch always writes an OCI image manifest.
  take("image-manifest");
  take("oci-mediatypes");
  if (spec.type == "registry") {
    std::string ref = take("ref");
    if (ref.empty()) return MakeError(ErrorCode::kInvalid, flag + " type=registry needs ref=REF");
    auto loc = transport::ParseLocation(ref);
    if (!loc)  // whatever the location parser's class, a bad flag value is invalid input
      return MakeError(ErrorCode::kInvalid,
                       flag + " ref=" + Printable(ref) + ": " + loc.error().message());
    if (loc->transport != "registry")
      return MakeError(ErrorCode::kInvalid, flag + " ref=" + Printable(ref) +
                                                ": expected a registry reference (host/repo:tag)");
    spec.location = ref;
  } else if (spec.type == "inline" && to) {
    if (mode == "max")
      return MakeError(ErrorCode::kInvalid,
                       flag +
                           " type=inline: mode=max cannot be inline (only the image's own "
                           "layers are there); use type=registry for it");
  } else if (spec.type == "local") {
    std::string dir = take(to ? "dest" : "src");
    if (dir.empty())
      return MakeError(ErrorCode::kInvalid,
                       flag + " type=local needs " + (to ? "dest=DIR" : "src=DIR"));
    if (dir.find(':') != std::string::npos)
      return MakeError(ErrorCode::kInvalid,
                       flag + " " + Printable(dir) + ": a directory may not contain ':'");
    spec.location = "oci:" + dir + ":" + kLocalTag;
  } else {
    return MakeError(ErrorCode::kInvalid,
                     flag + " " + Printable(text) +
                         ": type must be registry (type=registry,ref=REF), local (type=local," +
                         (to ? "dest" : "src") + "=DIR)" +
                         (to ? std::string(" or inline") : std::string()));
  }
  if (!mode.empty() && mode != "min" && mode != "max")
    return MakeError(ErrorCode::kInvalid,
                     flag + " mode=" + Printable(mode) + ": expected min or max");
  spec.max = mode == "max";
  if (!kv.empty())
    return MakeError(ErrorCode::kInvalid, flag + " " + Printable(text) + ": unknown key " +
                                              Printable(kv.begin()->first));
  return spec;
}

Result<CacheTransfer> ExportCache(const SnapshotStore& snapshots, const std::vector<Digest>& keys,
                                  const CacheSpec& spec, transport::Transports& transports) {
  CacheTransfer t;
  Json records = Json::array();
  std::map<std::string, image::Descriptor> layers;  // by hex digest: digest order
  std::set<std::string> seen;
  for (const auto& key : keys) {
    if (!seen.insert(key.hex()).second) continue;
    auto rec = snapshots.Lookup(key);
    if (!rec) continue;  // pruned meanwhile: the importer runs that step
    Json r = {{"key", key.ToString()}};
    if (rec->layer) {
      r["layer"] = image::DescriptorToJson(*rec->layer);
      r["diff_id"] = rec->diff_id.ToString();
      layers.emplace(rec->layer->digest.hex(), *rec->layer);
    }
    records.push_back(std::move(r));
  }
  std::string config = Json{{"records", records}}.dump();
  image::Descriptor config_desc{.media_type = kCacheConfigType,
                                .digest = Sha256Of(config),
                                .size = static_cast<std::int64_t>(config.size())};
  OrderedJson layer_list = OrderedJson::array();
  for (const auto& [hex, d] : layers) layer_list.push_back(image::DescriptorToJson(d));
  OrderedJson manifest = {{"schemaVersion", 2},
                          {"mediaType", std::string(image::kOciManifest)},
                          {"artifactType", kCacheArtifactType},
                          {"config", image::DescriptorToJson(config_desc)},
                          {"layers", layer_list}};
  image::RawManifest raw;
  raw.bytes = manifest.dump();
  raw.media_type = std::string(image::kOciManifest);
  raw.digest = Sha256Of(raw.bytes);
  ANYARCH_TRY(auto sink, transports.OpenSink(spec.location));
  for (const auto& [hex, d] : layers) {
    ANYARCH_TRY(bool has, sink->HasBlob(d));
    if (has) continue;
    ANYARCH_TRY(auto blob, FileReader::Open(snapshots.blobs_dir() / hex));
    ANYARCH_CHECK_CTX(sink->PutBlob(d, *blob), "exporting the build cache to " + sink->Describe());
  }
  StringReader config_reader(config);
  ANYARCH_CHECK_CTX(sink->PutBlob(config_desc, config_reader),
                    "exporting the build cache to " + sink->Describe());
  ANYARCH_CHECK_CTX(sink->PutManifest(raw), "exporting the build cache to " + sink->Describe());
  ANYARCH_CHECK_CTX(sink->Tag(raw), "naming the build cache at " + sink->Describe());
  ANYARCH_CHECK(sink->Commit());
  t.records = records.size();
  t.layers = layers.size();
  t.digest = raw.digest.ToString();
  return t;
}

Json InlineCacheRecords(const std::vector<std::pair<Digest, int>>& steps) {
  Json out = Json::array();
  for (const auto& [key, layer] : steps) out.push_back({{"key", key.ToString()}, {"layer", layer}});
  return out;
}

namespace {

// Fetches a record's layer into the store when missing, then publishes the record.
Status ImportRecord(const SnapshotStore& snapshots, image::ImageSource& src, const Digest& key,
                    const std::optional<image::Descriptor>& layer, const Digest& diff_id,
                    const std::string& where, CacheTransfer& t) {
  if (snapshots.Lookup(key)) return Ok();  // ours is kept
  if (layer) {
    std::error_code ec;
    if (!std::filesystem::exists(snapshots.blobs_dir() / layer->digest.hex(), ec)) {
      ANYARCH_TRY(auto blob, src.OpenBlob(*layer));
      ANYARCH_CHECK_CTX(content::WriteBlob(snapshots.store_root(), *layer, *blob),
                        "importing the build cache from " + where);
      ++t.layers;
    }
  }
  return WithContext(snapshots.Import(key, layer, diff_id).map([](const StepRecord&) {}),
                     "importing build cache record " + key.Short() + " from " + where);
}

// The inline records of an image (or of every image of an index): kInvalid when none has any.
Result<CacheTransfer> ImportInline(const SnapshotStore& snapshots, image::ImageSource& src,
                                   const image::RawManifest& root, const std::string& where) {
  CacheTransfer t;
  std::vector<image::RawManifest> images;
  if (image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(root));
    for (const auto& d : idx.manifests) {
      if (!image::IsManifest(d.media_type)) continue;
      ANYARCH_TRY(auto raw, src.GetManifest(d));
      images.push_back(std::move(raw));
    }
  } else {
    images.push_back(root);
  }
  bool any = false;
  for (const auto& raw : images) {
    ANYARCH_TRY(auto m, image::ParseManifest(raw));
    ANYARCH_TRY(auto cr, src.OpenBlob(m.config));
    ANYARCH_TRY(auto bytes, ReadAll(*cr, kMaxCacheConfig));
    ANYARCH_TRY(auto config, ParseJson(bytes, "an image config"));
    if (!config.is_object() || !config.contains(kInlineCacheKey)) continue;
    const Json& recs = config[kInlineCacheKey];
    auto bad = [&](const std::string& why) {
      return MakeError(ErrorCode::kInvalid, where + ": the inline build cache: " + why);
    };
    if (!recs.is_array()) return bad("not a list");
    const Json* diff_ids = nullptr;
    if (config.contains("rootfs") && config["rootfs"].is_object() &&
        config["rootfs"].contains("diff_ids") && config["rootfs"]["diff_ids"].is_array())
      diff_ids = &config["rootfs"]["diff_ids"];
    if (!diff_ids || diff_ids->size() != m.layers.size())
      return bad("the config's diff_ids do not match the manifest's layers");
    any = true;
    for (const auto& r : recs) {
      if (!r.is_object() || !r.contains("key") || !r["key"].is_string() || !r.contains("layer") ||
          !r["layer"].is_number_integer())
        return bad("a record without key or layer");
      ANYARCH_TRY(auto key, Digest::Parse(r["key"].get<std::string>()));
      long long index = r["layer"].get<long long>();
      if (index < -1 || index >= static_cast<long long>(m.layers.size()))
        return bad("record " + key.Short() + " names layer " + std::to_string(index) +
                   " of an image with " + std::to_string(m.layers.size()));
      std::optional<image::Descriptor> layer;
      Digest diff_id;
      if (index >= 0) {
        layer = m.layers[static_cast<std::size_t>(index)];
        const Json& dj = (*diff_ids)[static_cast<std::size_t>(index)];
        if (!dj.is_string()) return bad("a diff_id that is not a string");
        ANYARCH_TRY(diff_id, Digest::Parse(dj.get<std::string>()));
      }
      ++t.records;
      ANYARCH_CHECK(ImportRecord(snapshots, src, key, layer, diff_id, where, t));
    }
  }
  if (!any) return MakeError(ErrorCode::kInvalid, where + " holds no anyarch build cache");
  t.digest = root.digest.ToString();
  return t;
}

}  // namespace

Result<CacheTransfer> ImportCache(const SnapshotStore& snapshots, const CacheSpec& spec,
                                  transport::Transports& transports) {
  CacheTransfer t;
  ANYARCH_TRY(auto src, transports.OpenSource(spec.location));
  ANYARCH_TRY(auto root, src->GetRootManifest());
  const std::string where = src->Describe();
  if (image::IsIndex(root.media_type)) return ImportInline(snapshots, *src, root, where);
  ANYARCH_TRY(auto m, image::ParseManifest(root));
  if (m.config.media_type != kCacheConfigType) return ImportInline(snapshots, *src, root, where);
  std::map<std::string, image::Descriptor> layers;
  for (const auto& l : m.layers) layers.emplace(l.digest.hex(), l);
  ANYARCH_TRY(auto config_reader, src->OpenBlob(m.config));
  ANYARCH_TRY(auto config, ReadAll(*config_reader, kMaxCacheConfig));
  ANYARCH_TRY(auto j, ParseJson(config, "the build cache's records"));
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalid, where + ": the build cache's records: " + why);
  };
  if (!j.is_object() || !j.contains("records") || !j["records"].is_array())
    return bad("no records array");
  for (const auto& r : j["records"]) {
    if (!r.is_object() || !r.contains("key") || !r["key"].is_string())
      return bad("a record without a key");
    ANYARCH_TRY(auto key, Digest::Parse(r["key"].get<std::string>()));
    std::optional<image::Descriptor> layer;
    Digest diff_id;
    if (r.contains("layer")) {
      ANYARCH_TRY(auto d, image::DescriptorFromJson(r["layer"], "a build cache record"));
      if (!layers.count(d.digest.hex()))
        return bad("record " + key.Short() + " names a layer the cache does not hold");
      if (!r.contains("diff_id") || !r["diff_id"].is_string())
        return bad("a layer without diff_id");
      ANYARCH_TRY(diff_id, Digest::Parse(r["diff_id"].get<std::string>()));
      layer = d;
    }
    ++t.records;
    ANYARCH_CHECK(ImportRecord(snapshots, *src, key, layer, diff_id, where, t));
  }
  t.digest = root.digest.ToString();
  return t;
}

}  // namespace anyarch::build

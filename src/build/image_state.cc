#include "build/image_state.h"

#include "build/cache_io.h"

#include <ctime>

namespace anyarch::build {

Json& ImageState::Run() {
  if (!config.contains("config") || !config["config"].is_object())
    config["config"] = Json::object();
  return config["config"];
}

const Json& ImageState::RunConst() const {
  static const Json empty = Json::object();
  auto it = config.find("config");
  return it != config.end() && it->is_object() ? *it : empty;
}

std::vector<std::string> ImageState::Env() const {
  std::vector<std::string> out;
  const Json& c = RunConst();
  auto it = c.find("Env");
  if (it == c.end() || !it->is_array()) return out;
  for (const auto& e : *it) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

std::optional<std::string> ImageState::GetEnv(const std::string& key) const {
  for (const auto& e : Env()) {
    if (e.compare(0, key.size() + 1, key + "=") == 0) return e.substr(key.size() + 1);
  }
  return std::nullopt;
}

void ImageState::SetEnv(const std::string& key, const std::string& value) {
  // A variable set again moves to the end, as BuildKit writes it.
  std::vector<std::string> env;
  for (auto& e : Env()) {
    if (e.compare(0, key.size() + 1, key + "=") != 0) env.push_back(e);
  }
  env.push_back(key + "=" + value);
  Run()["Env"] = env;
}

std::string ImageState::WorkingDir() const {
  const Json& c = RunConst();
  auto it = c.find("WorkingDir");
  if (it == c.end() || !it->is_string() || it->get<std::string>().empty()) return "/";
  return it->get<std::string>();
}

std::string ImageState::User() const {
  const Json& c = RunConst();
  auto it = c.find("User");
  return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> ImageState::Shell() const {
  const Json& c = RunConst();
  auto it = c.find("Shell");
  if (it != c.end() && it->is_array() && !it->empty()) {
    std::vector<std::string> out;
    for (const auto& s : *it) {
      if (s.is_string()) out.push_back(s.get<std::string>());
    }
    if (!out.empty()) return out;
  }
  return {"/bin/sh", "-c"};
}

void ImageState::AddHistory(const std::string& created_by, bool empty_layer,
                            const std::string& created) {
  if (!config.contains("history") || !config["history"].is_array())
    config["history"] = Json::array();
  Json h = {
      {"created", created}, {"created_by", created_by}, {"comment", "buildkit.dockerfile.v0"}};
  if (empty_layer) h["empty_layer"] = true;
  config["history"].push_back(std::move(h));
}

void ImageState::AddLayer(const image::Descriptor& layer, const Digest& diff_id) {
  layers.push_back(layer);
  if (!config.contains("rootfs") || !config["rootfs"].is_object())
    config["rootfs"] = {{"type", "layers"}, {"diff_ids", Json::array()}};
  config["rootfs"]["type"] = "layers";
  config["rootfs"]["diff_ids"].push_back(diff_id.ToString());
}

std::vector<std::string> ImageState::DiffIds() const {
  std::vector<std::string> out;
  auto r = config.find("rootfs");
  if (r == config.end() || !r->is_object()) return out;
  auto d = r->find("diff_ids");
  if (d == r->end() || !d->is_array()) return out;
  for (const auto& x : *d) {
    if (x.is_string()) out.push_back(x.get<std::string>());
  }
  return out;
}

void ImageState::SetPlatform(const platform::Platform& p) {
  config["os"] = p.os;
  config["architecture"] = p.architecture;
  if (p.variant.empty()) {
    config.erase("variant");
  } else {
    config["variant"] = p.variant;
  }
  if (p.os_version.empty()) {
    config.erase("os.version");
  } else {
    config["os.version"] = p.os_version;
  }
  if (p.os_features.empty()) {
    config.erase("os.features");
  } else {
    config["os.features"] = p.os_features;
  }
}

Result<ImageState> StateFromConfig(const std::string& config_bytes) {
  ANYARCH_TRY(Json j, ParseJson(config_bytes, "the base image's config"));
  if (!j.is_object())
    return MakeError(ErrorCode::kInvalid, "the base image's config is not an object");
  ImageState s;
  s.config = std::move(j);
  // A base built with an inline cache: its records describe it, not what is built on it.
  s.config.erase(kInlineCacheKey);
  if (!s.config.contains("rootfs") || !s.config["rootfs"].is_object())
    s.config["rootfs"] = {{"type", "layers"}, {"diff_ids", Json::array()}};
  return s;
}

ImageState ScratchState() {
  ImageState s;
  s.config = {{"rootfs", {{"type", "layers"}, {"diff_ids", Json::array()}}},
              {"config", Json::object()}};
  return s;
}
}  // namespace anyarch::build

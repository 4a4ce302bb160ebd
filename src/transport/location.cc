#include "transport/location.h"

#include "base/io.h"
#include "content/docker_archive.h"
#include "content/layout.h"
#include "content/oci_archive.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "ref/reference.h"

namespace anyarch::transport {

namespace {

// The local store is a layout under --root; users know its images as local:NAME.
class NamedSource final : public image::ImageSource {
 public:
  NamedSource(std::unique_ptr<image::ImageSource> inner, std::string name)
      : inner_(std::move(inner)), name_(std::move(name)) {}
  std::string Describe() const override { return name_; }
  Result<image::RawManifest> GetRootManifest() override {
    auto r = inner_->GetRootManifest();
    if (!r && r.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, "no image " + name_.substr(6) +
                                                 " in the local store (anyarch images lists "
                                                 "them; anyarch pull fetches one)");
    }
    return r;
  }
  Result<image::RawManifest> GetManifest(const image::Descriptor& d) override {
    return inner_->GetManifest(d);
  }
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& d) override {
    return inner_->OpenBlob(d);
  }

 private:
  std::unique_ptr<image::ImageSource> inner_;
  std::string name_;
};

}  // namespace

Result<Location> ParseLocation(const std::string& text) {
  Location l;
  auto colon = text.find(':');
  std::string scheme = colon == std::string::npos ? "" : text.substr(0, colon);
  if (scheme == "oci" || scheme == "oci-archive") {
    l.transport = scheme;
    std::string rest = text.substr(colon + 1);
    // PATH[:TAG]: the tag follows the last ':' when no '/' comes after it.
    auto last = rest.rfind(':');
    if (last != std::string::npos && rest.find('/', last) == std::string::npos) {
      l.tag = rest.substr(last + 1);
      rest = rest.substr(0, last);
    }
    if (rest.empty())
      return MakeError(ErrorCode::kInvalid,
                       "\"" + text + "\" names no path (expected " + scheme + ":PATH[:TAG])");
    l.path = rest;
    if (!l.tag.empty() && !ref::IsValidTag(l.tag)) {
      return MakeError(ErrorCode::kInvalid, "\"" + text + "\": invalid tag \"" + l.tag +
                                                "\" (letters, digits, '_', '.', '-'; at most "
                                                "128; not starting with '.' or '-')");
    }
    return l;
  }
  if (scheme == "docker-archive") {
    // FILE[:REF]: the reference may itself hold ':' (host:port, tag), so FILE ends at the first.
    l.transport = scheme;
    std::string rest = text.substr(colon + 1);
    auto c = rest.find(':');
    l.path = rest.substr(0, c);
    if (c != std::string::npos) {
      auto r = ref::Parse(rest.substr(c + 1));
      if (!r) return Unexpected(std::move(r.error()).With("\"" + text + "\""));
      l.tag = r->ToString();
    }
    if (l.path.empty()) {
      return MakeError(ErrorCode::kInvalid,
                       "\"" + text + "\" names no file (expected docker-archive:FILE[:REF])");
    }
    return l;
  }
  if (scheme == "local") {
    l.transport = "local";
    auto r = ref::Parse(text.substr(colon + 1));
    if (!r) return Unexpected(std::move(r.error()).With("\"" + text + "\""));
    l.reference = r->ToString();
    return l;
  }
  if (scheme == "docker" || scheme == "dir" || scheme == "containers-storage" ||
      scheme == "docker-daemon") {
    if (scheme == "docker") {
      return MakeError(ErrorCode::kInvalid,
                       "\"" + text +
                           "\": write registry references without docker:// (e.g. "
                           "127.0.0.1:5000/app:1)");
    }
    return MakeError(ErrorCode::kUnsupported,
                     "\"" + text + "\": the " + scheme +
                         " transport is not supported; use a registry reference, oci:, "
                         "oci-archive:, docker-archive: or local:");
  }
  ANYARCH_TRY(auto r, ref::Parse(text));
  l.transport = "registry";
  l.reference = r.ToString();
  return l;
}

std::string PreferLocal(const std::string& location, const std::string& store_root,
                        const platform::Platform& want) {
  auto loc = ParseLocation(location);
  if (!loc || loc->transport != "registry" || store_root.empty()) return location;
  auto layout = content::Layout::Open(store_root);
  if (!layout) return location;
  auto desc = layout->Find(loc->reference);
  if (!desc) return location;
  auto raw = layout->ReadManifest(*desc);
  if (!raw) return location;
  std::string local = "local:" + loc->reference;
  if (image::IsIndex(raw->media_type)) {
    auto idx = image::ParseIndex(*raw);
    if (!idx) return location;
    auto child = image::SelectPlatform(*idx, want);
    // The child must be here too: a name can point at an index whose children were not pulled.
    return child && layout->ReadManifest(*child) ? local : location;
  }
  auto m = image::ParseManifest(*raw);
  if (!m) return location;
  auto reader = layout->OpenBlob(m->config);
  if (!reader) return location;
  auto bytes = ReadAll(**reader, 8 << 20);
  if (!bytes) return location;
  auto cfg = image::ParseConfig(std::move(*bytes));
  return cfg && platform::Matches(want, platform::Normalize(cfg->platform)) ? local : location;
}

Result<std::string> LocalName(const std::string& reference) {
  ANYARCH_TRY(auto r, ref::Parse(reference));
  return r.ToString();
}

Result<std::shared_ptr<registry::Session>> Transports::Session() {
  if (!session_) {
    ANYARCH_TRY(session_, registry::NewSession({.insecure = env_.insecure,
                                                .config_path = env_.config_path,
                                                .docker_config = env_.docker_config,
                                                .chunk_size = env_.chunk_size,
                                                .reporter = env_.reporter}));
  }
  return session_;
}

Result<std::unique_ptr<image::ImageSink>> Transports::OpenSink(const std::string& text) {
  ANYARCH_TRY(Location l, ParseLocation(text));
  if (l.transport == "oci") return content::OpenLayoutSink(l.path, l.tag);
  if (l.transport == "oci-archive") return content::OpenOciArchiveSink(l.path, l.tag);
  if (l.transport == "docker-archive") return content::OpenDockerArchiveSink(l.path, l.tag);
  if (l.transport == "local") {
    if (env_.store_root.empty())
      return MakeError(ErrorCode::kInternal, "no local store configured");
    return content::OpenLayoutSink(env_.store_root, l.reference, /*store_lock=*/true);
  }
  ANYARCH_TRY(auto r, ref::Parse(l.reference));
  ANYARCH_TRY(auto s, Session());
  return registry::OpenSink(s, r);
}

Result<std::unique_ptr<image::ImageSource>> Transports::OpenSource(const std::string& text) {
  ANYARCH_TRY(Location l, ParseLocation(text));
  if (l.transport == "oci") return content::OpenLayoutSource(l.path, l.tag);
  if (l.transport == "oci-archive") return content::OpenOciArchiveSource(l.path, l.tag);
  if (l.transport == "docker-archive") return content::OpenDockerArchiveSource(l.path, l.tag);
  if (l.transport == "local") {
    if (env_.store_root.empty())
      return MakeError(ErrorCode::kInternal, "no local store configured");
    auto src = content::OpenLayoutSource(env_.store_root, l.reference);
    if (!src && src.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, "no image " + l.reference +
                                                 " in the local store (anyarch images lists "
                                                 "them; anyarch pull fetches one)");
    }
    if (!src) return src;
    return std::unique_ptr<image::ImageSource>(
        new NamedSource(std::move(*src), "local:" + l.reference));
  }
  ANYARCH_TRY(auto r, ref::Parse(l.reference));
  ANYARCH_TRY(auto s, Session());
  return registry::OpenSource(s, r);
}

Result<std::unique_ptr<image::ImageSource>> OpenSource(const std::string& location,
                                                       const Env& env) {
  Transports t(env);
  return t.OpenSource(location);
}

Result<std::unique_ptr<image::ImageSink>> OpenSink(const std::string& location, const Env& env) {
  Transports t(env);
  return t.OpenSink(location);
}

}  // namespace anyarch::transport

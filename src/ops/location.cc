#include "ops/location.h"

#include "content/layout.h"
#include "ref/reference.h"
#include "registry/client.h"

namespace anyarch::ops {

Result<Location> ParseLocation(const std::string& text) {
  Location l;
  auto colon = text.find(':');
  std::string scheme = colon == std::string::npos ? "" : text.substr(0, colon);
  if (scheme == "oci" || scheme == "oci-archive" || scheme == "docker-archive") {
    l.transport = scheme;
    std::string rest = text.substr(colon + 1);
    // DIR[:TAG]: the tag follows the last ':' when no '/' comes after it.
    auto last = rest.rfind(':');
    if (last != std::string::npos && rest.find('/', last) == std::string::npos) {
      l.tag = rest.substr(last + 1);
      rest = rest.substr(0, last);
    }
    if (rest.empty())
      return MakeError(ErrorCode::kInvalid,
                       "\"" + text + "\" names no path (expected " + scheme + ":PATH[:TAG])");
    l.path = rest;
    if (scheme == "oci" && !l.tag.empty() && !ref::IsValidTag(l.tag)) {
      return MakeError(ErrorCode::kInvalid, "\"" + text + "\": invalid tag \"" + l.tag + "\"");
    }
    return l;
  }
  if (scheme == "local") {
    l.transport = "local";
    l.reference = text.substr(colon + 1);
    return l;
  }
  if (scheme == "docker") {
    return MakeError(ErrorCode::kInvalid,
                     "\"" + text +
                         "\": write registry references without docker:// (e.g. "
                         "127.0.0.1:5000/app:1)");
  }
  ANYARCH_TRY(auto r, ref::Parse(text));
  l.transport = "registry";
  l.reference = r.ToString();
  return l;
}

Result<std::string> LocalName(const std::string& reference) {
  ANYARCH_TRY(auto r, ref::Parse(reference));
  return r.ToString();
}

Result<std::unique_ptr<image::ImageSink>> OpenSink(const std::string& text,
                                                   const SourceOptions& options) {
  ANYARCH_TRY(Location l, ParseLocation(text));
  if (l.transport == "oci") return content::OpenLayoutSink(l.path, l.tag);
  if (l.transport == "local") {
    if (options.store_root.empty())
      return MakeError(ErrorCode::kInternal, "no local store configured");
    ANYARCH_TRY(std::string name, LocalName(l.reference));
    return content::OpenLayoutSink(options.store_root, name);
  }
  if (l.transport == "registry") {
    ANYARCH_TRY(auto r, ref::Parse(l.reference));
    return registry::OpenSink(r, {.insecure = options.insecure, .temp_dir = options.temp_dir});
  }
  return MakeError(ErrorCode::kUnsupported,
                   "writing to the " + l.transport +
                       " transport is not available yet in this build; destinations can be "
                       "oci:DIR[:TAG] or local:REF");
}

Result<std::unique_ptr<image::ImageSource>> OpenSource(const std::string& text,
                                                       const SourceOptions& options) {
  ANYARCH_TRY(Location l, ParseLocation(text));
  if (l.transport == "oci") return content::OpenLayoutSource(l.path, l.tag);
  if (l.transport == "local") {
    if (options.store_root.empty())
      return MakeError(ErrorCode::kInternal, "no local store configured");
    ANYARCH_TRY(std::string name, LocalName(l.reference));
    return content::OpenLayoutSource(options.store_root, name);
  }
  if (l.transport == "registry") {
    ANYARCH_TRY(auto r, ref::Parse(l.reference));
    return registry::OpenSource(r, {.insecure = options.insecure, .temp_dir = options.temp_dir});
  }
  return MakeError(
      ErrorCode::kUnsupported,
      "the " + l.transport +
          " transport is not available yet in this build; copy the image to an OCI "
          "layout first (e.g. skopeo copy --all docker://REF oci:DIR:TAG) and use oci:DIR:TAG");
}

}  // namespace anyarch::ops

#include "image/index_walk.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::image {
namespace {

struct Walk {
  ImageSource& src;
  int max_depth;
  std::vector<Digest> stack;  // the indexes being walked, outermost first
  std::set<Digest> walked;    // indexes already walked completely
  std::set<std::pair<Digest, std::string>> seen;
  std::vector<Descriptor> out;

  Status Index(const RawManifest& raw, const std::optional<platform::Platform>& inherited) {
    if (std::find(stack.begin(), stack.end(), raw.digest) != stack.end()) {
      return MakeError(ErrorCode::kInvalid,
                       "index " + raw.digest.ToString() + " contains itself (a cycle of indexes)");
    }
    if (static_cast<int>(stack.size()) >= max_depth) {
      return MakeError(ErrorCode::kInvalid, "index " + raw.digest.ToString() +
                                                " is nested more than " +
                                                std::to_string(max_depth) + " indexes deep");
    }
    if (walked.count(raw.digest)) return Ok();
    auto idx = ParseIndex(raw);
    if (!idx) return Unexpected(std::move(idx.error()).With("index " + raw.digest.ToString()));
    stack.push_back(raw.digest);
    for (const auto& d : idx->manifests) {
      Descriptor child = d;
      if (!child.platform) child.platform = inherited;
      if (IsManifest(child.media_type)) {
        std::string p = child.platform ? child.platform->ToString() : "";
        if (seen.emplace(child.digest, p).second) out.push_back(std::move(child));
        continue;
      }
      if (!IsIndex(child.media_type)) continue;
      auto sub = src.GetManifest(child);
      if (!sub) {
        return Unexpected(
            std::move(sub.error())
                .With("index " + child.digest.ToString() + " in index " + raw.digest.ToString()));
      }
      if (!IsIndex(sub->media_type)) {
        return MakeError(ErrorCode::kInvalid, "index " + raw.digest.ToString() + " says " +
                                                  child.digest.ToString() +
                                                  " is an index, but it is " + sub->media_type);
      }
      ANYARCH_CHECK(Index(*sub, child.platform));
    }
    stack.pop_back();
    walked.insert(raw.digest);
    return Ok();
  }
};

}  // namespace

Result<std::vector<Descriptor>> ListImages(ImageSource& src, const RawManifest& root,
                                           int max_depth) {
  if (!IsIndex(root.media_type)) return std::vector<Descriptor>{root.ToDescriptor()};
  Walk w{.src = src, .max_depth = max_depth};
  ANYARCH_CHECK(w.Index(root, std::nullopt));
  return std::move(w.out);
}

}  // namespace anyarch::image

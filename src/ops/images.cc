#include "ops/images.h"

#include <filesystem>

#include "base/io.h"
#include "content/layout.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::ops {

Result<std::vector<ImageRow>> ListImages(const std::string& store_root) {
  std::vector<ImageRow> rows;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(store_root) / "index.json", ec)) return rows;
  ANYARCH_TRY(auto layout, content::Layout::Open(store_root));
  for (const auto& d : layout.index().manifests) {
    ImageRow row;
    auto it = d.annotations.find(content::kRefNameAnnotation);
    row.name = it == d.annotations.end() ? "<none>" : it->second;
    row.digest = d.digest.ToString();
    row.media_type = d.media_type;
    ANYARCH_TRY(auto raw, layout.ReadManifest(d));
    std::vector<image::Descriptor> images;
    if (image::IsIndex(raw.media_type)) {
      ANYARCH_TRY(auto idx, image::ParseIndex(raw));
      for (const auto& c : idx.manifests) {
        if (c.platform) row.platforms.push_back(platform::Normalize(*c.platform).ToString());
        images.push_back(c);
      }
    } else {
      images.push_back(d);
    }
    for (const auto& i : images) {
      auto mraw = layout.ReadManifest(i);
      if (!mraw) continue;  // a child not copied locally
      auto m = image::ParseManifest(*mraw);
      if (!m) continue;
      for (const auto& l : m->layers) row.size += static_cast<std::uint64_t>(l.size);
      if (!image::IsIndex(raw.media_type)) {
        auto r = layout.OpenBlob(m->config);
        if (r) {
          auto bytes = ReadAll(**r, 8 << 20);
          if (bytes) {
            auto cfg = image::ParseConfig(*bytes);
            if (cfg) row.platforms.push_back(platform::Normalize(cfg->platform).ToString());
          }
        }
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace anyarch::ops

#include "ops/inspect.h"

#include "base/io.h"
#include "image/media_types.h"
#include "transport/location.h"

namespace anyarch::ops {

Result<InspectReport> Inspect(const InspectRequest& req) {
  ANYARCH_TRY(auto src, transport::OpenSource(req.location, req.env));
  InspectReport r;
  r.name = src->Describe();
  ANYARCH_TRY(r.root, src->GetRootManifest());
  image::Descriptor target = r.root.ToDescriptor();
  if (image::IsIndex(r.root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(r.root));
    r.index = idx;
    if (!req.platform) return r;
    ANYARCH_TRY(target, image::SelectPlatform(idx, *req.platform));
  }
  ANYARCH_TRY(auto raw, image::IsIndex(r.root.media_type) ? src->GetManifest(target)
                                                          : Result<image::RawManifest>(r.root));
  ANYARCH_TRY(auto m, image::ParseManifest(raw));
  ANYARCH_TRY(auto reader, src->OpenBlob(m.config));
  ANYARCH_TRY(std::string cfg, ReadAll(*reader, 8 << 20));
  ANYARCH_TRY(auto config, image::ParseConfig(std::move(cfg)));
  r.manifest = std::move(m);
  r.config = std::move(config);
  return r;
}

}  // namespace anyarch::ops

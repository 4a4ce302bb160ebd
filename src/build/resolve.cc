#include "build/resolve.h"

#include "base/io.h"
#include "image/media_types.h"
#include "rootfs/snapshot.h"

namespace anyarch::build {

std::string Resolver::LocationOf(const std::string& name, const platform::Platform& want) const {
  auto it = options_.build_contexts.find(name);
  if (it != options_.build_contexts.end()) {
    const std::string& v = it->second;
    if (v.rfind("docker-image://", 0) == 0) return v.substr(15);
    return v;
  }
  if (options_.pull) return name;
  return transport::PreferLocal(name, options_.store_root, want);
}

Result<std::shared_ptr<const ResolvedImage>> Resolver::Resolve(const std::string& name,
                                                               const platform::Platform& want) {
  std::string key = name + "|" + want.ToString();
  std::shared_future<Result<std::shared_ptr<const ResolvedImage>>> fut;
  bool mine = false;
  std::promise<Result<std::shared_ptr<const ResolvedImage>>> promise;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      fut = it->second;
    } else {
      fut = promise.get_future().share();
      cache_[key] = fut;
      mine = true;
    }
  }
  if (mine) promise.set_value(DoResolve(name, want));
  return fut.get();
}

Result<std::shared_ptr<const ResolvedImage>> Resolver::DoResolve(const std::string& name,
                                                                 const platform::Platform& want) {
  std::string where = LocationOf(name, want);
  auto fail = [&](Error e) {
    return Unexpected(std::move(e).With("base image " + name + " for " + want.ToString()));
  };
  auto src_r = transports_.OpenSource(where);
  if (!src_r) return fail(src_r.error());
  std::shared_ptr<image::ImageSource> src = std::move(*src_r);
  auto root = src->GetRootManifest();
  if (!root) return fail(root.error());
  image::Descriptor target = root->ToDescriptor();
  auto warn = [&](const std::string& text) {
    if (options_.events)
      options_.events->OnEvent({.kind = EventKind::kWarning, .platform = want.ToString(),
                                .text = text});
  };
  if (image::IsIndex(root->media_type)) {
    auto idx = image::ParseIndex(*root);
    if (!idx) return fail(idx.error());
    // Only the same architecture counts; among those, the platform rank decides (exact first,
    // then lower arm variants).
    image::Index same = *idx;
    same.manifests.clear();
    for (const auto& d : idx->manifests) {
      if (d.platform && platform::Normalize(*d.platform).architecture == want.architecture &&
          platform::Normalize(*d.platform).os == want.os)
        same.manifests.push_back(d);
    }
    auto chosen = image::SelectPlatform(same, want);
    if (!chosen) {
      return fail(Error(ErrorCode::kNotFound,
                            src->Describe() + " has no image for " + want.ToString() +
                                " (it has: " + image::DescribePlatforms(idx->manifests) + ")"));
    }
    target = *chosen;
    platform::Platform got = platform::Normalize(*target.platform);
    if (got.variant != want.variant)
      warn(name + " has no " + want.ToString() + " image; using its " + got.ToString() +
           " image, which runs there");
  }
  auto raw = src->GetManifest(target);
  if (!raw) return fail(raw.error());
  auto m = image::ParseManifest(*raw);
  if (!m) return fail(m.error());
  auto cfg_reader = src->OpenBlob(m->config);
  if (!cfg_reader) return fail(cfg_reader.error());
  auto cfg_bytes = ReadAll(**cfg_reader, 8 << 20);
  if (!cfg_bytes) return fail(cfg_bytes.error());
  auto cfg = image::ParseConfig(std::move(*cfg_bytes));
  if (!cfg) return fail(cfg.error());
  platform::Platform got = platform::Normalize(cfg->platform);
  if (got.architecture != want.architecture || !platform::Matches(want, got)) {
    return fail(Error(ErrorCode::kNotFound, src->Describe() + " is a " + got.ToString() +
                                                    " image, not " + want.ToString()));
  }
  auto out = std::make_shared<ResolvedImage>();
  out->source = src;
  out->platform = got;
  out->name = name + " (" + target.digest.ToString() + ")";
  std::vector<std::string> skipped;
  auto rootfs = rootfs::UnpackSnapshot(*src, *m, *cfg, options_.store_root,
                                       transports_.env().reporter ? *transports_.env().reporter
                                                                  : DiscardReporter(),
                                       skipped);
  if (!rootfs) return fail(rootfs.error());
  out->rootfs = rootfs->string();
  out->manifest = std::move(*m);
  out->config = std::move(*cfg);
  if (options_.events)
    options_.events->OnEvent({.kind = EventKind::kResolved, .platform = want.ToString(),
                              .text = out->name});
  return std::shared_ptr<const ResolvedImage>(std::move(out));
}

}  // namespace anyarch::build

#include "build/export.h"

#include <algorithm>

#include <filesystem>

#include "base/io.h"
#include "build/steps.h"
#include "content/docker_archive.h"
#include "content/layout.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "isolation/overlay_view.h"
#include "layer/diff.h"
#include "transport/copy_engine.h"

namespace anyarch::build {

namespace fs = std::filesystem;

namespace {

Result<std::string> LayerTypeFor(const std::string& type, bool oci) {
  using namespace image;
  bool gzip = type == kOciLayerGzip || type == kDockerLayerGzip;
  bool plain = type == kOciLayer || type == "application/vnd.docker.image.rootfs.diff.tar";
  bool zstd = type == kOciLayerZstd;
  if (oci) {
    if (gzip) return std::string(kOciLayerGzip);
    if (plain) return std::string(kOciLayer);
    if (zstd) return std::string(kOciLayerZstd);
  } else {
    if (gzip) return std::string(kDockerLayerGzip);
    if (plain) return std::string("application/vnd.docker.image.rootfs.diff.tar");
    if (zstd)
      return MakeError(ErrorCode::kInvalid,
                       "Docker media types cannot carry zstd layers: use --compression gzip, or "
                       "drop --oci-mediatypes=false");
  }
  if (type == kDockerForeignLayerGzip) return type;
  return MakeError(ErrorCode::kUnsupported,
                   "a layer of media type " + type + " cannot be carried into the built image");
}

// An image source over the local store for a root written by this build.
class StoreRootSource final : public image::ImageSource {
 public:
  StoreRootSource(content::Layout layout, image::RawManifest root)
      : layout_(std::move(layout)), root_(std::move(root)) {}
  std::string Describe() const override { return "the build result"; }
  Result<image::RawManifest> GetRootManifest() override { return root_; }
  Result<image::RawManifest> GetManifest(const image::Descriptor& d) override {
    return layout_.ReadManifest(d);
  }
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& d) override {
    return layout_.OpenBlob(d);
  }

 private:
  content::Layout layout_;
  image::RawManifest root_;
};

std::string PlatformDir(const platform::Platform& p) {
  std::string s = p.os + "_" + p.architecture;
  if (!p.variant.empty()) s += "_" + p.variant;
  return s;
}

// Copies an image or an index and its children into `dst`, then names and commits it.
Status CopyRoot(image::ImageSource& src, image::ImageSink& dst, const Exported& result,
                const transport::Env& env) {
  transport::CopyReport report;
  std::vector<image::Descriptor> images;
  for (const auto& i : result.images) images.push_back(i.manifest.ToDescriptor());
  ANYARCH_CHECK(transport::CopyImages(src, dst, images, {}, env, report));
  if (result.images.size() > 1)
    ANYARCH_CHECK_CTX(dst.PutManifest(result.root), "writing the index");
  ANYARCH_CHECK_CTX(dst.Tag(result.root), "naming " + dst.Describe());
  return dst.Commit();
}

// "reg/app:1" for linux/arm/v7 -> "reg/app:1-linux-arm-v7" (no tag: "latest-...").
std::string PlatformTag(const std::string& ref, const platform::Platform& p) {
  std::string name = ref.substr(0, ref.find('@'));
  std::string tag = "latest";
  auto colon = name.rfind(':');
  if (colon != std::string::npos && name.find('/', colon) == std::string::npos) {
    tag = name.substr(colon + 1);
    name = name.substr(0, colon);
  }
  std::string suffix = p.os + "-" + p.architecture + (p.variant.empty() ? "" : "-" + p.variant);
  return name + ":" + tag + "-" + suffix;
}

std::vector<std::string> LowersOf(const ImageState& s, const std::string& empty_dir) {
  std::vector<std::string> l = s.lowers;
  if (l.empty()) l.push_back(empty_dir);
  return l;
}

}  // namespace

Result<Exported> WriteImages(const BuildRequest& request, const SnapshotStore& store,
                             const std::vector<dockerfile::Plan>& plans,
                             std::vector<ImageState>& states) {
  const bool oci = request.oci_mediatypes;
  const std::string created = Rfc3339(request.source_date_epoch);
  ANYARCH_TRY(auto sink, content::OpenLayoutSink(store.store_root(), "", true));
  Exported out;
  for (std::size_t i = 0; i < states.size(); ++i) {
    ImageState& s = states[i];
    const platform::Platform& target = plans[i].target;
    s.SetPlatform(target);
    s.config["created"] = created;
    // Layers: built ones are in the store; a base image's are copied in from its source.
    std::vector<image::Descriptor> layers;
    for (const auto& l : s.layers) {
      image::Descriptor d = l;
      d.platform.reset();
      d.annotations.clear();
      ANYARCH_TRY(d.media_type, LayerTypeFor(l.media_type, oci));
      ANYARCH_TRY(bool have, sink->HasBlob(l));
      if (!have) {
        if (!s.base_source)
          return MakeError(ErrorCode::kInternal, "layer " + l.digest.ToString() + " is missing");
        ANYARCH_TRY(auto reader, s.base_source->OpenBlob(l));
        ANYARCH_CHECK_CTX(sink->PutBlob(l, *reader),
                          "copying base layer " + l.digest.ToString() + " of " + s.base_name);
      }
      layers.push_back(d);
    }
    if (std::any_of(request.cache_to.begin(), request.cache_to.end(),
                    [](const CacheSpec& c) { return c.type == "inline"; }))
      s.config[kInlineCacheKey] = InlineCacheRecords(s.cache_steps);
    std::string cfg_bytes = s.config.dump();
    image::Descriptor cfg{.media_type = std::string(oci ? image::kOciConfig : image::kDockerConfig),
                          .digest = Sha256Of(cfg_bytes),
                          .size = static_cast<std::int64_t>(cfg_bytes.size())};
    StringReader cfg_reader(cfg_bytes);
    ANYARCH_CHECK_CTX(sink->PutBlob(cfg, cfg_reader), "writing the image config");
    OrderedJson m;
    m["schemaVersion"] = 2;
    m["mediaType"] = oci ? image::kOciManifest : image::kDockerManifest;
    m["config"] = image::DescriptorToJson(cfg);
    m["layers"] = OrderedJson::array();
    std::uint64_t size = static_cast<std::uint64_t>(cfg.size);
    for (const auto& d : layers) {
      m["layers"].push_back(image::DescriptorToJson(d));
      size += static_cast<std::uint64_t>(d.size);
    }
    ANYARCH_TRY(auto raw, image::MakeRawManifest(
                              m.dump(), oci ? image::kOciManifest : image::kDockerManifest));
    ANYARCH_CHECK_CTX(sink->PutManifest(raw), "writing the image manifest");
    out.images.push_back({.platform = target, .manifest = raw, .config = cfg, .size = size});
  }
  if (out.images.size() == 1) {
    out.root = out.images[0].manifest;
  } else {
    std::vector<image::Descriptor> children;
    for (const auto& i : out.images) {
      image::Descriptor d = i.manifest.ToDescriptor();
      d.platform = i.platform;
      children.push_back(d);
    }
    ANYARCH_TRY(out.root,
                image::BuildIndex(oci ? image::kOciIndex : image::kDockerManifestList, children));
    ANYARCH_CHECK_CTX(sink->PutManifest(out.root), "writing the image index");
  }
  ANYARCH_CHECK(sink->Commit());
  return out;
}

Result<std::vector<std::string>> WriteOutputs(const BuildRequest& request,
                                              const SnapshotStore& store,
                                              const std::vector<dockerfile::Plan>& plans,
                                              const std::vector<ImageState>& states,
                                              const Exported& result) {
  std::vector<Output> outputs = request.outputs;
  if (outputs.empty()) outputs.push_back({.type = "local-store"});
  if (request.push) outputs.push_back({.type = "registry"});
  std::vector<std::string> done;
  transport::Transports transports(request.env);
  auto source = [&]() -> Result<std::unique_ptr<image::ImageSource>> {
    ANYARCH_TRY(auto layout, content::Layout::Open(store.store_root()));
    return std::unique_ptr<image::ImageSource>(
        std::make_unique<StoreRootSource>(std::move(layout), result.root));
  };
  auto to = [&](const std::string& location) -> Status {
    ANYARCH_TRY(auto src, source());
    ANYARCH_TRY(auto dst, transports.OpenSink(location));
    ANYARCH_CHECK_CTX(CopyRoot(*src, *dst, result, request.env), location);
    done.push_back(location);
    return Ok();
  };
  const std::string empty_dir = (fs::path(store.store_root()) / "build" / "empty").string();
  for (const auto& o : outputs) {
    if (o.type == "local-store" || o.type == "image") {
      for (const auto& t : request.tags) {
        ANYARCH_TRY(auto name, transport::LocalName(t));
        ANYARCH_CHECK_CTX(content::SetRef(store.store_root(), name, result.root.ToDescriptor()),
                          "naming " + name + " in the local store");
        done.push_back("local:" + name);
      }
    } else if (o.type == "registry") {
      if (request.tags.empty())
        return MakeError(ErrorCode::kInvalid, "pushing needs a name: give -t REGISTRY/REPO:TAG");
      for (const auto& t : request.tags) {
        if (o.push_by_digest) {
          // Each image by digest, without a tag: a CI matrix joins them with manifest merge.
          ANYARCH_TRY(auto r, transport::ParseLocation(t));
          std::string repo = r.reference.substr(0, r.reference.find_first_of("@"));
          auto colon = repo.rfind(':');
          if (colon != std::string::npos && repo.find('/', colon) == std::string::npos)
            repo = repo.substr(0, colon);
          for (const auto& img : result.images) {
            Exported one{.root = img.manifest, .images = {img}};
            ANYARCH_TRY(auto src, source());
            std::string loc = repo + "@" + img.manifest.digest.ToString();
            ANYARCH_TRY(auto dst, transports.OpenSink(loc));
            ANYARCH_CHECK_CTX(CopyRoot(*src, *dst, one, request.env), loc);
            done.push_back(loc);
          }
        } else {
          ANYARCH_CHECK(to(t));
        }
      }
    } else if (o.type == "oci") {
      std::string tag = request.tags.empty() ? "" : request.tags[0];
      auto colon = tag.rfind(':');
      tag = colon != std::string::npos && tag.find('/', colon) == std::string::npos
                ? tag.substr(colon + 1)
                : (tag.empty() ? "" : "latest");
      bool archive = o.dest.size() > 4 && o.dest.substr(o.dest.size() - 4) == ".tar";
      std::error_code ec;
      if (fs::is_regular_file(o.dest, ec)) archive = true;
      ANYARCH_CHECK(
          to((archive ? "oci-archive:" : "oci:") + o.dest + (tag.empty() ? "" : ":" + tag)));
    } else if (o.type == "docker") {
      if (result.images.size() == 1) {
        std::string ref = request.tags.empty() ? "" : ":" + request.tags[0];
        Exported one{.root = result.images[0].manifest, .images = {result.images[0]}};
        ANYARCH_TRY(auto src, source());
        ANYARCH_TRY(auto dst, transports.OpenSink("docker-archive:" + o.dest + ref));
        ANYARCH_CHECK(CopyRoot(*src, *dst, one, request.env));
      } else {
        // docker load has no multi-platform image: every platform is its own image, tagged
        // NAME:TAG-os-arch[-variant] so that loading one does not replace another.
        std::vector<std::string> names;
        for (const auto& img : result.images)
          names.push_back(request.tags.empty() ? "" : PlatformTag(request.tags[0], img.platform));
        ANYARCH_TRY(auto src, source());
        ANYARCH_TRY(auto dst, content::OpenDockerArchiveSink(o.dest, names));
        transport::CopyReport report;
        std::vector<image::Descriptor> images;
        for (const auto& i : result.images) images.push_back(i.manifest.ToDescriptor());
        ANYARCH_CHECK(transport::CopyImages(*src, *dst, images, {}, request.env, report));
        ANYARCH_CHECK(dst->Commit());
        for (const auto& n : names)
          if (!n.empty()) done.push_back("docker-archive:" + o.dest + ":" + n);
      }
      done.push_back("docker-archive:" + o.dest);
    } else if (o.type == "local" || o.type == "tar") {
      for (std::size_t i = 0; i < states.size(); ++i) {
        ANYARCH_CHECK(store.Materialize(states[i].lowers));
        fs::path dest = o.dest;
        if (o.type == "local" && states.size() > 1) dest /= PlatformDir(plans[i].target);
        ANYARCH_CHECK(isolation::WithOverlay(
            {.lowers = LowersOf(states[i], empty_dir)}, [&](const std::string& merged) -> Status {
              if (o.type == "local") return CopyTree(merged, dest.string());
              fs::path out = states.size() > 1
                                 ? fs::path(o.dest) / (PlatformDir(plans[i].target) + ".tar")
                                 : fs::path(o.dest);
              std::error_code ec;
              fs::create_directories(out.parent_path().empty() ? "." : out.parent_path(), ec);
              ANYARCH_TRY(
                  auto blob,
                  layer::WriteLayer(merged, out.parent_path().empty() ? "." : out.parent_path(),
                                    {.compress = {.compression = layer::Compression::kNone},
                                     .source_date_epoch = request.source_date_epoch}));
              fs::rename(out.parent_path().empty() ? fs::path(blob.digest.hex())
                                                   : out.parent_path() / blob.digest.hex(),
                         out, ec);
              if (ec) return MakeError(ErrorCode::kIo, out.string() + ": " + ec.message());
              return Ok();
            }));
        done.push_back(o.type + ":" + dest.string());
      }
    } else {
      return MakeError(ErrorCode::kInvalid,
                       "unknown output type \"" + o.type +
                           "\" (use registry, oci, docker, local, tar or image)");
    }
  }
  return done;
}

}  // namespace anyarch::build

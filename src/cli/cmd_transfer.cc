#include <iostream>

#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "ops/copy.h"
#include "ops/inspect.h"
#include "ops/manifest.h"

namespace anyarch::cli {
namespace {

struct InspectFlags {
  std::string location;
  std::string platform;
  bool raw = false;
  bool json = false;
};

void RunInspect(Cli& cli, const InspectFlags& f) {
  ops::InspectRequest req{
      .location = f.location, .insecure = cli.global.insecure, .store_root = cli.StoreRoot()};
  if (!f.platform.empty()) {
    auto p = platform::Parse(f.platform);
    if (!p) return cli.Fail(p.error().With("--platform"));
    req.platform = *p;
  }
  auto r = ops::Inspect(req);
  if (!r) return cli.Fail(r.error());
  if (f.raw) {
    // Exactly the bytes served, nothing added: their sha256 is the digest.
    if (req.platform && r->manifest)
      cli.out() << r->manifest->raw.bytes;
    else
      cli.out() << r->root.bytes;
    cli.out().flush();
    return;
  }
  std::string base = r->name.substr(0, r->name.find('@'));
  if (f.json) {
    OrderedJson j;
    j["name"] = r->name;
    j["mediaType"] = r->root.media_type;
    j["digest"] = r->root.digest.ToString();
    j["size"] = r->root.bytes.size();
    if (r->index) {
      OrderedJson ms = OrderedJson::array();
      for (const auto& d : r->index->manifests) {
        OrderedJson e;
        e["digest"] = d.digest.ToString();
        e["mediaType"] = d.media_type;
        e["size"] = d.size;
        if (d.platform) e["platform"] = platform::Normalize(*d.platform).ToString();
        ms.push_back(e);
      }
      j["manifests"] = ms;
    }
    if (r->manifest) {
      OrderedJson m;
      m["digest"] = r->manifest->raw.digest.ToString();
      m["mediaType"] = r->manifest->raw.media_type;
      m["config"] = r->manifest->config.digest.ToString();
      OrderedJson layers = OrderedJson::array();
      for (const auto& l : r->manifest->layers)
        layers.push_back(
            {{"digest", l.digest.ToString()}, {"size", l.size}, {"mediaType", l.media_type}});
      m["layers"] = layers;
      j["image"] = m;
    }
    if (r->config) {
      j["config"] = {{"platform", platform::Normalize(r->config->platform).ToString()},
                     {"env", r->config->env},
                     {"entrypoint", r->config->entrypoint},
                     {"cmd", r->config->cmd},
                     {"workingDir", r->config->working_dir},
                     {"user", r->config->user}};
    }
    cli.out() << j.dump(2) << "\n";
    return;
  }
  cli.out() << "Name:      " << r->name << "\n"
            << "MediaType: " << r->root.media_type << "\n"
            << "Digest:    " << r->root.digest.ToString() << "\n";
  if (r->index) {
    cli.out() << "\nManifests:\n";
    for (const auto& d : r->index->manifests) {
      cli.out() << "  Name:      " << base << "@" << d.digest.ToString() << "\n"
                << "  MediaType: " << d.media_type << "\n"
                << "  Platform:  "
                << (d.platform ? platform::Normalize(*d.platform).ToString() : "(none)") << "\n\n";
    }
  }
  if (r->manifest && r->config) {
    cli.out() << "\nImage (" << platform::Normalize(r->config->platform).ToString() << "):\n"
              << "  Manifest:  " << r->manifest->raw.digest.ToString() << "\n"
              << "  Config:    " << r->manifest->config.digest.ToString() << "\n"
              << "  Layers:    " << r->manifest->layers.size() << "\n";
    std::uint64_t total = 0;
    for (const auto& l : r->manifest->layers) total += static_cast<std::uint64_t>(l.size);
    cli.out() << "  Size:      " << HumanSize(total) << " (compressed layers)\n";
    if (!r->config->entrypoint.empty())
      cli.out() << "  Entrypoint: " << Join(r->config->entrypoint, " ") << "\n";
    if (!r->config->cmd.empty()) cli.out() << "  Cmd:       " << Join(r->config->cmd, " ") << "\n";
  }
}

struct CopyFlags {
  std::string source, destination, platforms;
  bool all = false;
  bool json = false;
};

void RunCopy(Cli& cli, const CopyFlags& f, const std::string& destination) {
  ops::CopyRequest req{.source = f.source, .destination = destination, .all = f.all};
  if (!f.platforms.empty()) {
    if (f.all)
      return cli.Fail(Error(ErrorCode::kInvalid, "--all and --platform exclude each other"));
    auto ps = platform::ParseList(f.platforms);
    if (!ps) return cli.Fail(ps.error().With("--platform"));
    req.platforms = *ps;
  }
  req.insecure = cli.global.insecure;
  req.store_root = cli.StoreRoot();
  auto r = ops::Copy(req);
  if (!r) return cli.Fail(r.error());
  if (f.json) {
    OrderedJson j{{"source", r->source},
                  {"destination", r->destination},
                  {"digest", r->digest},
                  {"platforms", r->platforms},
                  {"blobs_copied", r->blobs_copied},
                  {"blobs_skipped", r->blobs_skipped},
                  {"blobs_mounted", r->blobs_mounted},
                  {"blobs_mounted", r->blobs_mounted},
                  {"bytes_copied", r->bytes_copied}};
    cli.out() << j.dump(2) << "\n";
    return;
  }
  cli.out() << "copied " << r->source << " to " << r->destination << "\n"
            << "  digest:    " << r->digest << "\n"
            << "  platforms: "
            << (r->platforms.empty() ? std::string("(single image)") : Join(r->platforms, ", "))
            << "\n"
            << "  blobs:     " << r->blobs_copied << " copied (" << HumanSize(r->bytes_copied)
            << "), " << r->blobs_mounted << " mounted, " << r->blobs_skipped << " already there\n";
}

}  // namespace

void PrintList(Cli& cli, const ops::ManifestList& l) {
  cli.out() << l.name << " (" << l.entries.size() << " images)\n";
  for (const auto& e : l.entries) {
    cli.out() << "  "
              << (e.descriptor.platform ? platform::Normalize(*e.descriptor.platform).ToString()
                                        : "(no platform)")
              << "  " << e.source << "\n";
  }
}

void RegisterManifestCommands(CLI::App& app, Cli& cli) {
  CLI::App* m = app.add_subcommand(
      "manifest",
      "Assemble multi-platform images from per-platform ones, like docker manifest but without a\n"
      "daemon or experimental mode. Lists are kept locally under <store>/manifests until pushed.\n"
      "create reads only manifests (never layers); push copies children from other repositories\n"
      "into the target first (mounting blobs within one registry), since registries refuse an\n"
      "index whose children are missing.");
  m->require_subcommand(1);
  struct F {
    std::string list, source, destination;
    std::vector<std::string> sources;
    bool amend = false, purge = false, raw = false;
    std::string os, arch, variant, os_version;
    std::vector<std::string> os_features;
    std::vector<std::string> lists;
  };
  auto f = std::make_shared<F>();
  CLI::App* create =
      m->add_subcommand("create", "Create a local manifest list from images or indexes");
  create->add_option("list", f->list, "Name of the list (its push destination)")->required();
  create->add_option("sources", f->sources, "Images or indexes to include")->required();
  create->add_flag("--amend", f->amend, "Add to an existing list");
  create->callback([&cli, f] {
    auto r = ops::ManifestCreate({.list = f->list,
                                  .sources = f->sources,
                                  .amend = f->amend,
                                  .insecure = cli.global.insecure,
                                  .store_root = cli.StoreRoot()});
    if (!r) return cli.Fail(r.error());
    PrintList(cli, *r);
  });
  CLI::App* ann = m->add_subcommand("annotate", "Set the platform fields of one entry");
  ann->add_option("list", f->list, "The list")->required();
  ann->add_option("source", f->source, "The entry: the image as given to create, or repo@digest")
      ->required();
  auto* o_os = ann->add_option("--os", f->os, "Operating system");
  auto* o_arch = ann->add_option("--arch", f->arch, "Architecture");
  auto* o_var = ann->add_option("--variant", f->variant, "Variant (v7, v8 ...)");
  auto* o_osv = ann->add_option("--os-version", f->os_version, "OS version");
  ann->add_option("--os-features", f->os_features, "OS features")->delimiter(',');
  ann->callback([&cli, f, o_os, o_arch, o_var, o_osv] {
    ops::ManifestAnnotateRequest req{.list = f->list,
                                     .source = f->source,
                                     .os = {},
                                     .arch = {},
                                     .variant = {},
                                     .os_version = {},
                                     .os_features = f->os_features,
                                     .store_root = cli.StoreRoot()};
    if (o_os->count()) req.os = f->os;
    if (o_arch->count()) req.arch = f->arch;
    if (o_var->count()) req.variant = f->variant;
    if (o_osv->count()) req.os_version = f->os_version;
    auto r = ops::ManifestAnnotate(req);
    if (!r) return cli.Fail(r.error());
    PrintList(cli, *r);
  });
  CLI::App* ins = m->add_subcommand("inspect", "Print the index a local list would push");
  ins->add_option("list", f->list, "The list")->required();
  ins->callback([&cli, f] {
    auto l = ops::ManifestLoad(cli.StoreRoot(), f->list);
    if (!l) return cli.Fail(l.error());
    auto idx = ops::ManifestBuild(*l);
    if (!idx) return cli.Fail(idx.error());
    cli.out() << idx->bytes << "\n";
  });
  CLI::App* push = m->add_subcommand("push", "Push a local list to its registry (or DEST)");
  push->add_option("list", f->list, "The list")->required();
  push->add_option("destination", f->destination, "Where to push (default: the list's name)");
  push->add_flag("--purge", f->purge, "Remove the local list after a successful push");
  push->callback([&cli, f] {
    auto r = ops::ManifestPush({.list = f->list,
                                .destination = f->destination,
                                .purge = f->purge,
                                .insecure = cli.global.insecure,
                                .store_root = cli.StoreRoot()});
    if (!r) return cli.Fail(r.error());
    cli.out() << "pushed " << r->destination << "@" << r->digest << " (" << r->children_copied
              << " images copied from other repositories: " << r->blobs_mounted
              << " blobs mounted, " << r->blobs_copied << " copied)\n";
  });
  CLI::App* rm = m->add_subcommand("rm", "Delete local manifest lists");
  rm->add_option("lists", f->lists, "The lists")->required();
  rm->callback([&cli, f] { cli.Check(ops::ManifestRemove(cli.StoreRoot(), f->lists)); });
  m->footer(
      "\nExample:\n"
      "  anyarch manifest create reg:5000/app:1 reg:5000/app:amd64 reg:5000/app:arm64 "
      "reg:5000/app:arm\n"
      "  anyarch manifest annotate reg:5000/app:1 reg:5000/app:arm --arch arm --variant v7\n"
      "  anyarch manifest push --purge reg:5000/app:1\n");
}

void RegisterTransferCommands(CLI::App& app, Cli& cli) {
  RegisterManifestCommands(app, cli);
  auto cf = std::make_shared<CopyFlags>();
  CLI::App* copy = app.add_subcommand(
      "copy",
      "Copy an image or a multi-platform index. Sources: a registry reference, oci:DIR[:TAG] or\n"
      "local:REF; destinations: oci:DIR[:TAG] or local:REF (pushing to registries comes later).\n"
      "--all copies every platform and keeps the index bytes (same digest); --platform copies a\n"
      "subset into a new index; with neither, only this host's image is copied (as skopeo does).\n"
      "Blobs already at the destination are skipped; every blob is verified; the name is set "
      "last.");
  copy->add_option("source", cf->source, "Where the image is")->required();
  copy->add_option("destination", cf->destination, "Where it goes")->required();
  copy->add_flag("--all", cf->all, "Copy every platform of an index");
  copy->add_option("--platform", cf->platforms, "Copy these platforms only, comma-separated");
  copy->add_flag("--json", cf->json, "Print JSON");
  copy->footer(
      "\nExamples:\n"
      "  anyarch copy --all 127.0.0.1:5000/busybox:latest oci:./busybox:latest\n"
      "  anyarch copy --platform linux/arm64,linux/arm/v7 oci:./busybox:latest "
      "local:busybox:arm\n");
  copy->callback([&cli, cf] { RunCopy(cli, *cf, cf->destination); });

  auto pf = std::make_shared<CopyFlags>();
  CLI::App* pull = app.add_subcommand("pull",
                                      "Copy an image from a registry into the local store "
                                      "(local:REF). Default: this host's platform.");
  pull->add_option("reference", pf->source, "The image, e.g. 127.0.0.1:5000/busybox:latest")
      ->required();
  pull->add_flag("--all-platforms", pf->all, "Pull every platform of an index");
  pull->add_option("--platform", pf->platforms, "Pull these platforms, comma-separated");
  pull->add_flag("--json", pf->json, "Print JSON");
  pull->callback([&cli, pf] { RunCopy(cli, *pf, "local:" + pf->source); });

  auto f = std::make_shared<InspectFlags>();
  CLI::App* inspect = app.add_subcommand(
      "inspect",
      "Show an image or index: its media type and digest, each platform's manifest, and with\n"
      "--platform the selected image's layers and config. Works on registry references and OCI\n"
      "layouts. --raw prints exactly the bytes the source holds (their sha256 is the digest).");
  inspect->add_option("image", f->location, "A registry reference (host/repo:tag) or oci:DIR[:TAG]")
      ->required();
  inspect->add_option("--platform", f->platform, "Select one platform's image from an index");
  inspect->add_flag("--raw", f->raw, "Print the manifest or index exactly as served");
  inspect->add_flag("--json", f->json, "Print JSON");
  inspect->footer(
      "\nExamples:\n"
      "  anyarch inspect 127.0.0.1:5000/busybox:latest\n"
      "  anyarch inspect --raw 127.0.0.1:5000/busybox:latest | sha256sum\n"
      "  anyarch inspect --platform linux/arm/v7 --json oci:./layout:latest\n");
  inspect->callback([&cli, f] { RunInspect(cli, *f); });
}

}  // namespace anyarch::cli

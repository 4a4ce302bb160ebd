#include <iostream>

#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "ops/images.h"
#include "ops/store.h"

namespace anyarch::cli {

void RegisterStoreCommands(CLI::App& app, Cli& cli) {
  auto json = std::make_shared<bool>(false);
  CLI::App* images = app.add_subcommand(
      "images", "List the images in the local store (--root), with their platforms");
  images->add_flag("--json", *json, "Print JSON");
  images->callback([&cli, json] {
    auto rows = ops::ListImages(cli.StoreRoot());
    if (!rows) return cli.Fail(rows.error());
    if (*json) {
      OrderedJson arr = OrderedJson::array();
      for (const auto& r : *rows) {
        arr.push_back({{"name", r.name},
                       {"digest", r.digest},
                       {"mediaType", r.media_type},
                       {"platforms", r.platforms},
                       {"size", r.size}});
      }
      cli.out() << arr.dump(2) << "\n";
      return;
    }
    cli.out() << "NAME                                      DIGEST         SIZE       PLATFORMS\n";
    for (const auto& r : *rows) {
      std::string name = r.name;
      if (name.size() < 41) name.resize(41, ' ');
      std::string size = HumanSize(r.size);
      if (size.size() < 10) size.resize(10, ' ');
      cli.out() << name << " " << r.digest.substr(7, 12) << "   " << size << " "
                << Join(r.platforms, ",") << "\n";
    }
  });

  struct F {
    std::string source, target, file, format = "oci", platforms, name;
    std::vector<std::string> refs;
    bool json = false, snapshots = false;
  };
  auto f = std::make_shared<F>();
  CLI::App* tag = app.add_subcommand("tag", "Give an image in the local store another name");
  tag->add_option("source", f->source, "The image, e.g. busybox:latest")->required();
  tag->add_option("target", f->target, "The new name, e.g. 127.0.0.1:5000/busybox:1")->required();
  tag->callback([&cli, f] { cli.Check(ops::TagImage(cli.StoreRoot(), f->source, f->target)); });

  CLI::App* rmi = app.add_subcommand(
      "rmi", "Remove names from the local store, then the blobs no remaining name uses");
  rmi->add_option("references", f->refs, "Images to remove")->required();
  rmi->add_flag("--json", f->json, "Print JSON");
  rmi->callback([&cli, f] {
    auto r = ops::RemoveImages(cli.StoreRoot(), f->refs);
    if (!r) return cli.Fail(r.error());
    if (f->json) {
      cli.out() << OrderedJson{{"untagged", r->untagged},
                               {"blobs_removed", r->blobs_removed},
                               {"bytes_freed", r->bytes_freed}}
                       .dump(2)
                << "\n";
      return;
    }
    for (const auto& u : r->untagged) cli.out() << "untagged " << u << "\n";
    cli.out() << "removed " << r->blobs_removed << " blobs (" << HumanSize(r->bytes_freed) << ")\n";
  });

  CLI::App* prune = app.add_subcommand(
      "prune",
      "Delete blobs no name in the local store uses and what killed processes left behind;\n"
      "--snapshots also deletes the root filesystems anyarch run unpacked (do not run it while\n"
      "containers are running).");
  prune->add_flag("--snapshots", f->snapshots, "Also delete the unpacked root filesystems");
  prune->add_flag("--json", f->json, "Print JSON");
  prune->callback([&cli, f] {
    auto r = ops::Prune(cli.StoreRoot(), f->snapshots);
    if (!r) return cli.Fail(r.error());
    if (f->json) {
      cli.out() << OrderedJson{{"blobs_removed", r->blobs_removed},
                               {"bytes_freed", r->bytes_freed},
                               {"temp_files_removed", r->temp_files_removed},
                               {"snapshots_removed", r->snapshots_removed}}
                       .dump(2)
                << "\n";
      return;
    }
    cli.out() << "removed " << r->blobs_removed << " blobs (" << HumanSize(r->bytes_freed) << "), "
              << r->temp_files_removed << " temporary files, " << r->snapshots_removed
              << " snapshots\n";
  });

  CLI::App* exp = app.add_subcommand(
      "export",
      "Write an image from the local store to a tar file: --format oci (an oci-archive with every\n"
      "platform, or the --platform ones) or --format docker (the docker save format that docker\n"
      "load reads; one image: the --platform one, else this host's).");
  exp->add_option("reference", f->source, "The image in the local store")->required();
  exp->add_option("-o,--output", f->file, "The tar file to write")->required();
  exp->add_option("--format", f->format, "oci or docker")->check(CLI::IsMember({"oci", "docker"}));
  exp->add_option("--platform", f->platforms, "Platforms to export, comma-separated");
  exp->add_flag("--json", f->json, "Print JSON");
  exp->callback([&cli, f] {
    ops::ExportRequest req{.reference = f->source,
                           .file = f->file,
                           .format = f->format,
                           .platforms = {},
                           .env = cli.Env()};
    if (!f->platforms.empty()) {
      auto ps = platform::ParseList(f->platforms);
      if (!ps) return cli.Fail(ps.error().With("--platform"));
      req.platforms = *ps;
    }
    auto r = ops::Export(req);
    cli.EndProgress();
    if (!r) return cli.Fail(r.error());
    if (f->json) {
      cli.out() << OrderedJson{{"file", f->file},
                               {"format", f->format},
                               {"digest", r->digest},
                               {"platforms", r->platforms}}
                       .dump(2)
                << "\n";
      return;
    }
    cli.out() << "exported " << r->source << " to " << f->file << " (" << f->format << ", "
              << (r->platforms.empty() ? std::string("single image") : Join(r->platforms, ", "))
              << ")\n";
  });

  CLI::App* imp = app.add_subcommand(
      "import",
      "Read an oci-archive or docker-archive (docker save) tar file into the local store, under\n"
      "-t REF or the name the archive gives.");
  imp->add_option("file", f->file, "The tar file")->required();
  imp->add_option("-t,--tag", f->name, "Name in the local store");
  imp->add_flag("--json", f->json, "Print JSON");
  imp->callback([&cli, f] {
    auto r = ops::Import({.file = f->file, .reference = f->name, .env = cli.Env()});
    cli.EndProgress();
    if (!r) return cli.Fail(r.error());
    if (f->json) {
      cli.out() << OrderedJson{{"name", r->destination},
                               {"digest", r->digest},
                               {"platforms", r->platforms}}
                       .dump(2)
                << "\n";
      return;
    }
    cli.out() << "imported " << f->file << " as " << r->destination << " (" << r->digest << ")\n";
  });
}

}  // namespace anyarch::cli

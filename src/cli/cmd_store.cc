#include <unistd.h>

#include <iostream>

#include "base/fs.h"
#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "cli/table.h"
#include "ops/images.h"
#include "ops/store.h"
#include "ops/store_check.h"

namespace anyarch::cli {

void RegisterStoreCommands(CLI::App& app, Cli& cli) {
  struct ImagesFlags {
    bool json = false, no_trunc = false, quiet = false;
  };
  auto imf = std::make_shared<ImagesFlags>();
  CLI::App* images = app.add_subcommand(
      "images",
      "List the images in the local store (--root), with their platforms. ID is the first 12\n"
      "hex digits of the image's digest (rmi takes it); --no-trunc shows the whole digest.");
  images->add_flag("--json", imf->json, "Print JSON");
  images->add_flag("--no-trunc", imf->no_trunc, "Show whole digests");
  images->add_flag("-q,--quiet", imf->quiet, "Only the IDs");
  SetExamples(images, {"anyarch images", "anyarch images --no-trunc", "anyarch images --json"});
  images->callback([&cli, imf] {
    auto rows = ops::ListImages(cli.StoreRoot());
    if (!rows) return cli.Fail(rows.error());
    if (imf->json) {
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
    if (imf->quiet) {
      for (const auto& r : *rows) cli.out() << ShortId(r.digest, imf->no_trunc) << "\n";
      return;
    }
    Table table({"NAME", "ID", "SIZE", "PLATFORMS"});
    for (const auto& r : *rows) {
      table.Add(
          {r.name, ShortId(r.digest, imf->no_trunc), HumanSize(r.size), Join(r.platforms, ",")});
    }
    cli.out() << table.Render(cli.OutStyle());
  });

  struct F {
    std::string source, target, file, format = "oci", platforms, name;
    std::vector<std::string> refs;
    bool json = false, snapshots = false, build_cache = false, verbose = false;
    std::string keep_storage;
  };
  auto f = std::make_shared<F>();
  CLI::App* tag = app.add_subcommand("tag", "Give an image in the local store another name");
  tag->add_option("source", f->source, "The image, e.g. busybox:latest")->required();
  tag->add_option("target", f->target, "The new name, e.g. 127.0.0.1:5000/busybox:1")->required();
  tag->add_flag("--json", f->json, "Print JSON");
  SetExamples(tag, {"anyarch tag 127.0.0.1:5000/busybox:latest 127.0.0.1:5000/busybox:3"});
  tag->callback([&cli, f] {
    if (!cli.Check(ops::TagImage(cli.StoreRoot(), f->source, f->target))) return;
    if (f->json) {
      cli.out() << OrderedJson{{"source", f->source}, {"target", f->target}}.dump(2) << "\n";
    }
  });

  CLI::App* rmi = app.add_subcommand(
      "rmi", "Remove names from the local store, then the blobs no remaining name uses");
  rmi->add_option("references", f->refs, "Images to remove")->required();
  rmi->add_flag("--json", f->json, "Print JSON");
  SetExamples(rmi, {"anyarch rmi 127.0.0.1:5000/busybox:3"});
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
      "Delete blobs no name in the local store uses, what killed processes left behind and the\n"
      "containers run kept that are no longer running (anyarch ps -a);\n"
      "--snapshots also deletes the root filesystems anyarch run unpacked (do not run it while\n"
      "containers are running); --build-cache also deletes every cached build step and cache\n"
      "mount (do not run it while a build is running); --keep-storage SIZE deletes the least\n"
      "recently used of them until the build cache holds at most SIZE (anyarch du shows it).");
  prune->add_flag("--snapshots", f->snapshots, "Also delete the unpacked root filesystems");
  prune->add_flag("--build-cache", f->build_cache,
                  "Also delete the build cache: cached steps and RUN --mount=type=cache data");
  prune
      ->add_option("--keep-storage", f->keep_storage,
                   "Delete least recently used build cache entries until it holds at most SIZE "
                   "(10GB, 512MB; 1024-based)")
      ->check([](const std::string& v) {
        return ParseHumanSize(v) ? std::string()
                                 : Printable(v) + " is not a size such as 10GB or 512MB";
      });
  prune->add_flag("--json", f->json, "Print JSON");
  SetExamples(prune, {"anyarch prune", "anyarch prune --json", "anyarch prune --keep-storage 2GB",
                      "anyarch prune --build-cache"});
  prune->callback([&cli, f] {
    ops::PruneOptions o{.snapshots = f->snapshots, .build_cache = f->build_cache};
    if (!f->keep_storage.empty()) o.keep_storage = ParseHumanSize(f->keep_storage);
    auto r = ops::Prune(cli.StoreRoot(), o);
    if (!r) return cli.Fail(r.error());
    if (f->json) {
      cli.out() << OrderedJson{{"blobs_removed", r->blobs_removed},
                               {"bytes_freed", r->bytes_freed},
                               {"temp_files_removed", r->temp_files_removed},
                               {"snapshots_removed", r->snapshots_removed},
                               {"containers_removed", r->containers_removed},
                               {"build_cache_removed", r->build_cache_removed}}
                       .dump(2)
                << "\n";
      return;
    }
    cli.out() << "removed " << r->blobs_removed << " blobs (" << HumanSize(r->bytes_freed) << "), "
              << r->temp_files_removed << " temporary files, " << r->snapshots_removed
              << " snapshots, " << r->containers_removed << " stopped containers"
              << (f->build_cache || o.keep_storage
                      ? ", " + std::to_string(r->build_cache_removed) + " build cache entries"
                      : std::string())
              << "\n";
  });

  CLI::App* du = app.add_subcommand(
      "du",
      "Show what the local store holds, by kind: blobs (and how much no name uses), the build\n"
      "cache (cached steps and RUN --mount=type=cache directories), the root filesystems run\n"
      "unpacked, and kept containers, with what prune would free. Sizes are of file content.\n"
      "--verbose lists every build cache entry, least recently used first.");
  du->add_flag("--verbose,-v", f->verbose, "List every build cache entry");
  du->add_flag("--json", f->json, "Print JSON");
  SetExamples(du, {"anyarch du", "anyarch du --verbose"});
  du->callback([&cli, f] {
    auto r = ops::Du(cli.StoreRoot());
    if (!r) return cli.Fail(r.error());
    if (f->json) {
      OrderedJson lines = OrderedJson::array(), cache = OrderedJson::array();
      for (const auto& l : r->lines)
        lines.push_back({{"kind", l.kind},
                         {"count", l.count},
                         {"bytes", l.bytes},
                         {"reclaimable", l.reclaimable}});
      for (const auto& e : r->cache)
        cache.push_back({{"name", e.name},
                         {"kind", e.mount ? "cache mount" : "step"},
                         {"bytes", e.bytes},
                         {"layer_bytes", e.blob_bytes},
                         {"last_used", Rfc3339(e.last_used)}});
      cli.out() << OrderedJson{{"usage", lines}, {"build_cache", cache}}.dump(2) << "\n";
      return;
    }
    Table t({"KIND", "COUNT", "SIZE", "RECLAIMABLE"});
    for (const auto& l : r->lines)
      t.Add({l.kind, std::to_string(l.count), HumanSize(l.bytes), HumanSize(l.reclaimable)});
    cli.out() << t.Render();
    if (f->verbose && !r->cache.empty()) {
      Table c({"ENTRY", "KIND", "SIZE", "LAYER", "LAST USED"});
      for (const auto& e : r->cache)
        c.Add({e.mount ? e.name : e.name.substr(0, 12), e.mount ? "cache mount" : "step",
               HumanSize(e.bytes), e.blob_bytes ? HumanSize(e.blob_bytes) : "-",
               Rfc3339(e.last_used)});
      cli.out() << "\n" << c.Render();
    }
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
  SetExamples(exp, {"anyarch export 127.0.0.1:5000/busybox:latest -o busybox-oci.tar",
                    "anyarch export --format docker --platform linux/arm64 "
                    "127.0.0.1:5000/busybox:latest -o busybox-arm64.tar",
                    "anyarch export 127.0.0.1:5000/busybox:latest -o - | gzip > busybox.tar.gz"});
  exp->callback([&cli, f] {
    // -o -: the archive goes to stdout, so it is written to a temporary file first (archive
    // sinks publish only a complete file) and the message goes to stderr.
    bool to_stdout = f->file == "-";
    TempDir tmp;
    std::string file = f->file;
    if (to_stdout) {
      if (::isatty(STDOUT_FILENO)) {
        cli.Fail(Error(ErrorCode::kInvalid,
                       "refusing to write a tar archive to a terminal; redirect standard "
                       "output or give -o FILE"));
        cli.exit_code = kExitUsage;
        return;
      }
      auto t = TempDir::Create("anyarch-export");
      if (!t) return cli.Fail(t.error());
      tmp = std::move(*t);
      file = (tmp.path() / "image.tar").string();
    }
    ops::ExportRequest req{.reference = f->source,
                           .file = file,
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
    if (to_stdout) {
      auto st = CopyFileToFd(file, STDOUT_FILENO);
      if (!st) return cli.Fail(st.error().With("writing the archive to standard output"));
      cli.err() << "exported " << r->source << " to standard output (" << f->format << ")\n";
      return;
    }
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
  SetExamples(imp, {"anyarch import busybox-arm64.tar",
                    "anyarch import -t busybox:imported busybox-oci.tar",
                    "gunzip -c busybox.tar.gz | anyarch import -t busybox:stdin -"});
  imp->callback([&cli, f] {
    // import -: standard input is saved first, since reading an archive needs to seek.
    std::string file = f->file;
    TempDir tmp;
    if (file == "-") {
      auto t = TempDir::Create("anyarch-import");
      if (!t) return cli.Fail(t.error());
      tmp = std::move(*t);
      file = (tmp.path() / "stdin.tar").string();
      auto st = CopyFdToFile(STDIN_FILENO, file);
      if (!st) return cli.Fail(st.error().With("reading the archive from standard input"));
    }
    auto r = ops::Import({.file = file, .reference = f->name, .env = cli.Env()});
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

  CLI::App* store = app.add_subcommand("store", "Check the local store (--root)");
  store->require_subcommand(1);
  SetExamples(store, {"anyarch store check"});
  CLI::App* check = store->add_subcommand(
      "check",
      "Check that the local store is sound: every blob's bytes match the digest that names it,\n"
      "every name reaches a complete image (index, manifests, config and layers present and of\n"
      "the size their descriptors give; an index's platforms that were never pulled are fine,\n"
      "but at least one must be there), and nothing it needs is missing. It also lists what\n"
      "killed processes left: temporary files of interrupted writes, half-unpacked snapshots,\n"
      "working directories of builds whose process is gone. Leftovers do not make a store\n"
      "unsound: no command reads them, and prune or --repair removes them. The check waits for\n"
      "running pulls, imports and builds to finish writing, and never touches the work of a\n"
      "process that is still alive.\n"
      "\n"
      "--repair moves corrupt blobs (and files under blobs/ that are not blobs) to\n"
      "<store>/corrupt/, where nothing reads them, and deletes the leftovers. It never edits\n"
      "the names: an image that lost a blob stays reported until it is pulled again or removed\n"
      "with rmi.\n"
      "\n"
      "Exit status: 0 when the store is sound (leftovers allowed); otherwise the class of the\n"
      "worst problem: 7 a corrupt blob, 6 an invalid manifest, index.json or stray file, 3 a\n"
      "missing blob, 1 an unreadable one.");
  check->add_flag("--repair", f->snapshots,
                  "Move corrupt blobs to <store>/corrupt/ and delete the leftovers");
  check->add_flag("--json", f->json, "Print JSON");
  SetExamples(check, {"anyarch store check", "anyarch store check --repair --json"});
  check->callback([&cli, f] {
    auto r = ops::CheckStore(cli.StoreRoot(), f->snapshots);
    if (!r) return cli.Fail(r.error());
    const auto& l = r->layout;
    if (f->json) {
      OrderedJson problems = OrderedJson::array(), leftovers = OrderedJson::array();
      for (const auto& p : l.problems) {
        problems.push_back({{"kind", p.kind},
                            {"path", p.path},
                            {"name", p.name},
                            {"message", p.message},
                            {"code", std::string(ErrorCodeName(p.code))},
                            {"repaired", p.repaired}});
      }
      for (const auto& x : l.leftovers)
        leftovers.push_back({{"path", x.path}, {"what", x.what}, {"removed", x.removed}});
      cli.out() << OrderedJson{{"sound", r->sound()},  {"blobs", l.blobs},
                               {"bytes", l.bytes},     {"names", l.names},
                               {"images", l.images},   {"unreferenced_blobs", l.unreferenced_blobs},
                               {"problems", problems}, {"leftovers", leftovers}}
                       .dump(2)
                << "\n";
    } else {
      cli.out() << "checked " << l.blobs << " blobs (" << HumanSize(l.bytes) << "), " << l.names
                << " names, " << l.images << " images; " << l.unreferenced_blobs
                << " blobs no name uses (prune removes them)\n";
      for (const auto& p : l.problems) {
        cli.out() << "problem: " << p.message;
        if (p.kind == "corrupt_blob" && !p.name.empty())
          cli.out() << " (needed by " << p.name << ")";
        cli.out() << (p.repaired ? " [moved to corrupt/]" : "") << "\n";
      }
      for (const auto& x : l.leftovers) {
        cli.out() << "leftover: " << x.path << " (" << x.what << ")"
                  << (x.removed ? " [removed]" : "") << "\n";
      }
      if (r->sound()) {
        cli.out() << "the store is sound";
        std::size_t kept = 0;
        for (const auto& x : l.leftovers) kept += x.removed ? 0 : 1;
        if (kept > 0)
          cli.out() << " (" << kept << " leftovers: --repair or anyarch prune removes them)";
        cli.out() << "\n";
      }
    }
    if (!r->sound()) {
      // The report is the output (also with --json): only the summary goes to stderr.
      cli.ErrorStart() << "the store at " << cli.StoreRoot() << " has " << l.problems.size()
                       << " problem" << (l.problems.size() == 1 ? "" : "s") << "\n";
      cli.exit_code = ExitCodeFor(r->worst());
    }
  });
}

}  // namespace anyarch::cli

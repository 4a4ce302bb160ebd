#include <cctype>
#include <iostream>

#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "cli/table.h"
#include "ops/copy.h"
#include "ops/inspect.h"
#include "ops/manifest.h"
#include "ops/pull.h"
#include "ops/tags.h"

namespace anyarch::cli {
namespace {

// "5MiB", "5M", "512k", "1048576" -> bytes. std::nullopt when malformed.
std::optional<std::uint64_t> ParseSize(const std::string& text) {
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (n > (1ULL << 40)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = ToLower(text.substr(i));
  if (unit.empty() || unit == "b") return n;
  if (unit == "k" || unit == "kb" || unit == "kib") return n << 10;
  if (unit == "m" || unit == "mb" || unit == "mib") return n << 20;
  if (unit == "g" || unit == "gb" || unit == "gib") return n << 30;
  return std::nullopt;
}

struct TransferFlags {
  int jobs = 4;
  std::string chunk_size;
};

void AddTransferFlags(CLI::App* cmd, TransferFlags& f, bool upload) {
  cmd->add_option("-j,--jobs", f.jobs, "Blobs moved at once")->check(CLI::Range(1, 32));
  if (upload) {
    cmd->add_option("--chunk-size", f.chunk_size,
                    "Upload blobs in PATCH chunks of this size (e.g. 8MiB) instead of one request "
                    "each; also chunk_size in the registries config");
  }
}

// The Env for a transfer command; false (after reporting) when a flag is malformed.
bool TransferEnv(Cli& cli, const TransferFlags& f, transport::Env& env) {
  env = cli.Env(f.jobs);
  if (!f.chunk_size.empty()) {
    auto n = ParseSize(f.chunk_size);
    if (!n || *n < 1024) {
      cli.Fail(Error(ErrorCode::kInvalid, "--chunk-size \"" + f.chunk_size +
                                              "\": expected a size of at least 1KiB, e.g. 8MiB"));
      return false;
    }
    env.chunk_size = *n;
  }
  return true;
}

struct InspectFlags {
  std::string location;
  std::string platform;
  bool raw = false;
  bool json = false;
};

void RunInspect(Cli& cli, const InspectFlags& f) {
  ops::InspectRequest req{.location = f.location, .platform = {}, .env = cli.Env()};
  if (!f.platform.empty()) {
    auto p = platform::Parse(f.platform);
    if (!p) return cli.Fail(p.error().With("--platform"));
    req.platform = *p;
  }
  auto r = ops::Inspect(req);
  cli.EndProgress();
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
        if (!d.annotations.empty()) e["annotations"] = d.annotations;
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
  const Style style = cli.OutStyle();
  if (r->index) {
    cli.out() << "\n";
    Table table({"PLATFORM", "DIGEST", "SIZE", "MEDIA TYPE"});
    std::vector<std::string> annotations;
    for (const auto& d : r->index->manifests) {
      std::string p = d.platform ? platform::Normalize(*d.platform).ToString() : "(none)";
      table.Add(
          {p, d.digest.ToString(), HumanSize(static_cast<std::uint64_t>(d.size)), d.media_type});
      for (const auto& [k, v] : d.annotations) annotations.push_back(p + ": " + k + "=" + v);
    }
    cli.out() << table.Render(style);
    if (!annotations.empty()) {
      cli.out() << "\nAnnotations:\n";
      for (const auto& a : annotations) cli.out() << "  " << a << "\n";
    }
    cli.out() << "\nEach platform's image is " << base << "@DIGEST.\n";
  }
  if (r->manifest && r->config) {
    cli.out() << "\n"
              << style.Bold("Image (" + platform::Normalize(r->config->platform).ToString() + "):")
              << "\n"
              << "  Manifest:  " << r->manifest->raw.digest.ToString() << "\n"
              << "  Config:    " << r->manifest->config.digest.ToString() << "\n";
    std::uint64_t total = 0;
    for (const auto& l : r->manifest->layers) total += static_cast<std::uint64_t>(l.size);
    cli.out() << "  Size:      " << HumanSize(total) << " (compressed layers)\n";
    if (!r->config->entrypoint.empty())
      cli.out() << "  Entrypoint: " << Join(r->config->entrypoint, " ") << "\n";
    if (!r->config->cmd.empty()) cli.out() << "  Cmd:       " << Join(r->config->cmd, " ") << "\n";
    cli.out() << "\n";
    Table layers({"LAYER", "DIGEST", "SIZE", "MEDIA TYPE"});
    for (std::size_t i = 0; i < r->manifest->layers.size(); ++i) {
      const auto& l = r->manifest->layers[i];
      layers.Add({std::to_string(i + 1), l.digest.ToString(),
                  HumanSize(static_cast<std::uint64_t>(l.size)), l.media_type});
    }
    cli.out() << layers.Render(style);
  }
}

struct CopyFlags {
  std::string source, destination, platforms;
  bool all = false;
  bool force = false;
  bool json = false;
  TransferFlags transfer;
};

void PrintCopy(Cli& cli, const transport::CopyReport& r, bool json) {
  if (json) {
    OrderedJson j{{"source", r.source},
                  {"destination", r.destination},
                  {"digest", r.digest},
                  {"mediaType", r.media_type},
                  {"platforms", r.platforms},
                  {"blobs_copied", r.blobs_copied},
                  {"blobs_skipped", r.blobs_skipped},
                  {"blobs_mounted", r.blobs_mounted},
                  {"bytes_copied", r.bytes_copied}};
    cli.out() << j.dump(2) << "\n";
    return;
  }
  cli.out() << "copied " << r.source << " to " << r.destination << "\n"
            << "  digest:    " << r.digest << "\n"
            << "  platforms: "
            << (r.platforms.empty() ? std::string("(single image)") : Join(r.platforms, ", "))
            << "\n"
            << "  blobs:     " << r.blobs_copied << " copied (" << HumanSize(r.bytes_copied)
            << "), " << r.blobs_mounted << " mounted, " << r.blobs_skipped << " already there\n";
}

// --platform P,P into `out`; false (after reporting) when malformed or combined with --all.
bool ParsePlatformFlag(Cli& cli, const CopyFlags& f, std::vector<platform::Platform>& out) {
  if (f.platforms.empty()) return true;
  if (f.all) {
    cli.Fail(Error(ErrorCode::kInvalid, "--all and --platform exclude each other"));
    return false;
  }
  auto ps = platform::ParseList(f.platforms);
  if (!ps) {
    cli.Fail(ps.error().With("--platform"));
    return false;
  }
  out = *ps;
  return true;
}

void RunCopy(Cli& cli, const CopyFlags& f, const std::string& source,
             const std::string& destination) {
  ops::CopyRequest req{.source = source, .destination = destination, .all = f.all};
  if (!ParsePlatformFlag(cli, f, req.platforms)) return;
  if (!TransferEnv(cli, f.transfer, req.env)) return;
  auto r = ops::Copy(req);
  cli.EndProgress();
  if (!r) return cli.Fail(r.error());
  PrintCopy(cli, *r, f.json);
}

OrderedJson ListJson(const ops::ManifestList& l) {
  OrderedJson entries = OrderedJson::array();
  for (const auto& e : l.entries) {
    entries.push_back(
        {{"source", e.source},
         {"digest", e.descriptor.digest.ToString()},
         {"platform",
          e.descriptor.platform ? platform::Normalize(*e.descriptor.platform).ToString() : ""}});
  }
  return OrderedJson{{"name", l.name}, {"entries", entries}};
}

std::string EntryPlatform(const ops::ManifestEntry& e) {
  return e.descriptor.platform ? platform::Normalize(*e.descriptor.platform).ToString()
                               : "(no platform)";
}

// A list's entries in `table`, the list's name first when `with_name` (manifest ls).
void AddEntries(Table& table, const ops::ManifestList& l, bool no_trunc, bool with_name) {
  for (const auto& e : l.entries) {
    std::vector<std::string> row;
    if (with_name) row.push_back(l.name);
    row.push_back(EntryPlatform(e));
    row.push_back(ShortId(e.descriptor.digest.ToString(), no_trunc));
    row.push_back(e.given.empty() ? e.source : e.given);
    table.Add(std::move(row));
  }
}

void PrintList(Cli& cli, const ops::ManifestList& l, bool json, bool no_trunc) {
  if (json) {
    cli.out() << ListJson(l).dump(2) << "\n";
    return;
  }
  cli.out() << l.name << " (" << l.entries.size() << " images)\n";
  Table table({"PLATFORM", "DIGEST", "SOURCE"});
  AddEntries(table, l, no_trunc, false);
  cli.out() << table.Render(cli.OutStyle());
}

std::map<std::string, std::string> ParseAnnotations(Cli& cli, const std::vector<std::string>& kv,
                                                    bool& ok) {
  std::map<std::string, std::string> out;
  ok = true;
  for (const auto& a : kv) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      cli.Fail(Error(ErrorCode::kInvalid, "--annotation \"" + a + "\": expected KEY=VALUE"));
      ok = false;
      return out;
    }
    out[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return out;
}

void RegisterManifestCommands(CLI::App& app, Cli& cli) {
  CLI::App* m = app.add_subcommand(
      "manifest",
      "Assemble multi-platform images from per-platform ones: docker manifest and buildx\n"
      "imagetools create, without a daemon or experimental mode. create/annotate keep a list\n"
      "locally (under <store>/manifests) until push. create reads only manifests, never layers;\n"
      "push and merge copy children from other repositories into the target first (mounting\n"
      "blobs within one registry), since registries refuse an index whose children are missing.");
  m->require_subcommand(1);
  struct F {
    std::string list, source, destination;
    std::vector<std::string> sources;
    bool amend = false, purge = false, json = false, dry_run = false, no_trunc = false;
    std::string os, arch, variant, os_version, platforms;
    std::vector<std::string> os_features, annotations, targets;
    std::vector<std::string> lists;
    TransferFlags transfer;
  };
  auto f = std::make_shared<F>();
  CLI::App* create = m->add_subcommand(
      "create",
      "Create a local manifest list from images or indexes (registry references, oci:, local:\n"
      "...). An index contributes each of its images; an image's platform comes from its config.");
  create->add_option("list", f->list, "Name of the list (where push sends it)")->required();
  create->add_option("sources", f->sources, "Images or indexes to include")->required();
  create->add_flag("--amend", f->amend, "Add to an existing list");
  create->add_flag("--json", f->json, "Print JSON");
  create->add_flag("--no-trunc", f->no_trunc, "Show whole digests");
  SetExamples(create,
              {"anyarch manifest create 127.0.0.1:5000/app:1 127.0.0.1:5000/busybox:amd64 "
               "127.0.0.1:5000/busybox:arm64",
               "anyarch manifest create --amend 127.0.0.1:5000/app:1 127.0.0.1:5000/busybox:arm"});
  create->callback([&cli, f] {
    ops::ManifestCreateRequest req{
        .list = f->list, .sources = f->sources, .amend = f->amend, .env = cli.Env()};
    auto r = ops::ManifestCreate(req);
    cli.EndProgress();
    if (!r) return cli.Fail(r.error());
    PrintList(cli, *r, f->json, f->no_trunc);
  });

  CLI::App* ann = m->add_subcommand("annotate", "Set the platform fields of one entry");
  ann->add_option("list", f->list, "The list")->required();
  ann->add_option("source", f->source, "The entry: the image as given to create, or repo@digest")
      ->required();
  auto* o_os = ann->add_option("--os", f->os, "Operating system (linux, windows ...)");
  auto* o_arch = ann->add_option("--arch", f->arch,
                                 "Architecture (amd64, arm64, arm, 386 ...; aliases such "
                                 "as aarch64 or armhf are normalised)");
  auto* o_var = ann->add_option("--variant", f->variant, "Variant (v5, v6, v7, v8 ...)");
  auto* o_osv = ann->add_option("--os-version", f->os_version, "OS version (Windows images)");
  ann->add_option("--os-features", f->os_features, "OS features, comma-separated")->delimiter(',');
  ann->add_option("--annotation", f->annotations,
                  "KEY=VALUE annotation on the entry (makes the list an OCI index)")
      ->allow_extra_args(false);
  ann->add_flag("--json", f->json, "Print JSON");
  ann->add_flag("--no-trunc", f->no_trunc, "Show whole digests");
  SetExamples(ann, {"anyarch manifest annotate 127.0.0.1:5000/app:1 127.0.0.1:5000/busybox:arm "
                    "--arch arm --variant v7"});
  ann->callback([&cli, f, o_os, o_arch, o_var, o_osv] {
    bool ok = true;
    ops::ManifestAnnotateRequest req{.list = f->list,
                                     .source = f->source,
                                     .os = {},
                                     .arch = {},
                                     .variant = {},
                                     .os_version = {},
                                     .os_features = f->os_features,
                                     .annotations = ParseAnnotations(cli, f->annotations, ok),
                                     .store_root = cli.StoreRoot()};
    if (!ok) return;
    if (o_os->count()) req.os = f->os;
    if (o_arch->count()) req.arch = f->arch;
    if (o_var->count()) req.variant = f->variant;
    if (o_osv->count()) req.os_version = f->os_version;
    auto r = ops::ManifestAnnotate(req);
    if (!r) return cli.Fail(r.error());
    PrintList(cli, *r, f->json, f->no_trunc);
  });

  CLI::App* ins = m->add_subcommand(
      "inspect", "Print the index a local list would push, or a remote image's manifest or index");
  ins->add_option("list", f->list, "A local list, else a registry reference (or any location)")
      ->required();
  ins->add_flag("--json", f->json, "Print JSON (the index itself is JSON: the same output)");
  SetExamples(ins, {"anyarch manifest inspect 127.0.0.1:5000/app:1",
                    "anyarch --insecure manifest inspect 127.0.0.1:5000/busybox:latest"});
  ins->callback([&cli, f] {
    auto idx = ops::ManifestInspect(f->list, cli.Env());
    if (!idx) return cli.Fail(idx.error());
    cli.out() << idx->bytes << "\n";
  });

  CLI::App* ls = m->add_subcommand("ls", "List the local manifest lists");
  ls->add_flag("--json", f->json, "Print JSON");
  ls->add_flag("--no-trunc", f->no_trunc, "Show whole digests");
  SetExamples(
      ls, {"anyarch manifest ls", "anyarch manifest ls --no-trunc", "anyarch manifest ls --json"});
  ls->callback([&cli, f] {
    auto all = ops::ManifestListAll(cli.StoreRoot());
    if (!all) return cli.Fail(all.error());
    if (f->json) {
      OrderedJson arr = OrderedJson::array();
      for (const auto& l : *all) {
        arr.push_back(ListJson(l));
      }
      cli.out() << arr.dump(2) << "\n";
      return;
    }
    Table table({"LIST", "PLATFORM", "DIGEST", "SOURCE"});
    for (const auto& l : *all) AddEntries(table, l, f->no_trunc, true);
    cli.out() << table.Render(cli.OutStyle());
  });

  CLI::App* push = m->add_subcommand("push", "Push a local list to its registry (or DEST)");
  push->add_option("list", f->list, "The list")->required();
  push->add_option("destination", f->destination, "Where to push (default: the list's name)");
  push->add_flag("--purge", f->purge, "Remove the local list after a successful push");
  push->add_flag("--json", f->json, "Print JSON");
  AddTransferFlags(push, f->transfer, true);
  SetExamples(push, {"anyarch manifest push 127.0.0.1:5000/app:1",
                     "anyarch manifest push --purge 127.0.0.1:5000/app:1 127.0.0.1:5000/app:2"});
  push->callback([&cli, f] {
    ops::ManifestPushRequest req{
        .list = f->list, .destination = f->destination, .purge = f->purge, .env = {}};
    if (!TransferEnv(cli, f->transfer, req.env)) return;
    auto r = ops::ManifestPush(req);
    cli.EndProgress();
    if (!r) return cli.Fail(r.error());
    if (f->json) {
      cli.out() << OrderedJson{{"destination", r->destination},
                               {"digest", r->digest},
                               {"mediaType", r->media_type},
                               {"children_copied", r->children_copied},
                               {"blobs_mounted", r->blobs_mounted},
                               {"blobs_copied", r->blobs_copied},
                               {"blobs_skipped", r->blobs_skipped}}
                       .dump(2)
                << "\n";
      return;
    }
    cli.out() << "pushed " << r->destination << "@" << r->digest << " (" << r->children_copied
              << " images copied from other repositories: " << r->blobs_mounted
              << " blobs mounted, " << r->blobs_copied << " copied)\n";
  });

  CLI::App* rm = m->add_subcommand("rm", "Delete local manifest lists");
  rm->add_option("lists", f->lists, "The lists")->required();
  rm->add_flag("--json", f->json, "Print JSON");
  SetExamples(rm, {"anyarch manifest create 127.0.0.1:5000/tmp:1 127.0.0.1:5000/busybox:amd64 && "
                   "anyarch manifest rm 127.0.0.1:5000/tmp:1"});
  rm->callback([&cli, f] {
    if (!cli.Check(ops::ManifestRemove(cli.StoreRoot(), f->lists))) return;
    if (f->json) cli.out() << OrderedJson{{"removed", f->lists}}.dump(2) << "\n";
  });

  CLI::App* merge = m->add_subcommand(
      "merge",
      "Build an index from existing images and indexes and push it, like docker buildx imagetools\n"
      "create: the children of every source are flattened into one index (an OCI index unless\n"
      "every child is Docker schema 2), children in other repositories are copied into the\n"
      "target's (blobs mounted within one registry), and nothing is kept locally.");
  merge->add_option("-t,--tag", f->targets, "Where to push the index (repeatable)")
      ->required()
      ->allow_extra_args(false);
  merge->add_option("sources", f->sources, "Images or indexes")->required();
  merge->add_option("--platform", f->platforms, "Keep only these platforms, comma-separated");
  merge->add_option("--annotation", f->annotations, "KEY=VALUE on the new index (makes it OCI)")
      ->allow_extra_args(false);
  merge->add_flag("--dry-run", f->dry_run, "Print the index without pushing anything");
  merge->add_flag("--json", f->json, "Print JSON");
  SetExamples(merge, {"anyarch manifest merge -t 127.0.0.1:5000/app:3 127.0.0.1:5000/app:1 "
                      "127.0.0.1:5000/busybox:s390x",
                      "anyarch manifest merge --dry-run --platform linux/arm64 -t "
                      "127.0.0.1:5000/app:4 127.0.0.1:5000/busybox:latest"});
  AddTransferFlags(merge, f->transfer, true);
  merge->callback([&cli, f] {
    bool ok = true;
    ops::ManifestMergeRequest req{.targets = f->targets,
                                  .sources = f->sources,
                                  .platforms = {},
                                  .annotations = ParseAnnotations(cli, f->annotations, ok),
                                  .dry_run = f->dry_run,
                                  .env = {}};
    if (!ok) return;
    if (!f->platforms.empty()) {
      auto ps = platform::ParseList(f->platforms);
      if (!ps) return cli.Fail(ps.error().With("--platform"));
      req.platforms = *ps;
    }
    if (!TransferEnv(cli, f->transfer, req.env)) return;
    auto r = ops::ManifestMerge(req);
    cli.EndProgress();
    if (!r) return cli.Fail(r.error());
    if (f->dry_run && !f->json) {
      cli.out() << r->index.bytes << "\n";
      return;
    }
    if (f->json) {
      cli.out() << OrderedJson{{"targets", r->targets},
                               {"digest", r->index.digest.ToString()},
                               {"mediaType", r->index.media_type},
                               {"platforms", r->platforms},
                               {"children_copied", r->children_copied},
                               {"blobs_mounted", r->blobs_mounted},
                               {"blobs_copied", r->blobs_copied},
                               {"blobs_skipped", r->blobs_skipped}}
                       .dump(2)
                << "\n";
      return;
    }
    for (const auto& t : r->targets) {
      cli.out() << "pushed " << t << "@" << r->index.digest.ToString() << "\n";
    }
    cli.out() << "  platforms: " << Join(r->platforms, ", ") << "\n"
              << "  children:  " << r->children_copied << " copied from other repositories ("
              << r->blobs_mounted << " blobs mounted, " << r->blobs_copied << " copied, "
              << r->blobs_skipped << " already there)\n";
  });
  SetExamples(m, {"anyarch manifest ls"});
}

}  // namespace

void RegisterTransferCommands(CLI::App& app, Cli& cli) {
  RegisterManifestCommands(app, cli);
  auto cf = std::make_shared<CopyFlags>();
  CLI::App* copy = app.add_subcommand(
      "copy",
      "Copy an image or a multi-platform index between registries, OCI layouts (oci:DIR[:TAG]),\n"
      "archives (oci-archive:FILE[:TAG], docker-archive:FILE[:REF]) and the local store\n"
      "(local:REF), in any direction. --all copies every platform and keeps the index bytes (same\n"
      "digest); --platform copies a subset into a new index; with neither, only this host's image\n"
      "is copied (as skopeo does). Blobs the destination has are skipped, blobs in another\n"
      "repository of the destination registry are mounted, the rest stream from source to\n"
      "destination, verified; the name is set last.");
  copy->add_option("source", cf->source, "Where the image is")->required();
  copy->add_option("destination", cf->destination, "Where it goes")->required();
  copy->add_flag("-a,--all", cf->all, "Copy every platform of an index");
  copy->add_option("--platform", cf->platforms, "Copy these platforms only, comma-separated");
  copy->add_flag("--json", cf->json, "Print JSON");
  AddTransferFlags(copy, cf->transfer, true);
  SetExamples(
      copy,
      {"anyarch copy --all 127.0.0.1:5000/busybox:latest 127.0.0.1:5000/mirror/busybox:1",
       "anyarch copy --all 127.0.0.1:5000/busybox:latest oci:./copy:latest",
       "anyarch copy --platform linux/arm64,linux/arm/v7 oci:./busybox:latest local:busybox:arm",
       "anyarch copy --platform linux/arm64 local:busybox:arm "
       "docker-archive:busybox.tar:busybox:arm64"});
  copy->callback([&cli, cf] { RunCopy(cli, *cf, cf->source, cf->destination); });

  auto pf = std::make_shared<CopyFlags>();
  CLI::App* pull = app.add_subcommand(
      "pull",
      "Copy an image from a registry into the local store (local:REF). Default: this\n"
      "host's platform; --platform picks others, --all-platforms the whole index.");
  pull->add_option("reference", pf->source, "The image, e.g. 127.0.0.1:5000/busybox:latest")
      ->required();
  pull->add_flag("-a,--all-platforms", pf->all, "Pull every platform of an index");
  pull->add_option("--platform", pf->platforms, "Pull these platforms, comma-separated");
  pull->add_flag("--json", pf->json, "Print JSON");
  SetExamples(pull, {"anyarch pull --platform linux/arm64 127.0.0.1:5000/busybox:latest",
                     "anyarch pull --all-platforms 127.0.0.1:5000/busybox:latest",
                     "anyarch pull --platform linux/arm/v7 127.0.0.1:5000/busybox:latest"});
  AddTransferFlags(pull, pf->transfer, false);
  pull->callback([&cli, pf] {
    ops::PullRequest req{.reference = pf->source, .all = pf->all};
    if (!ParsePlatformFlag(cli, *pf, req.platforms)) return;
    if (!TransferEnv(cli, pf->transfer, req.env)) return;
    auto r = ops::Pull(req);
    cli.EndProgress();
    if (!r) return cli.Fail(r.error());
    PrintCopy(cli, *r, pf->json);
  });

  auto uf = std::make_shared<CopyFlags>();
  CLI::App* push = app.add_subcommand(
      "push",
      "Copy an image (every platform) from the local store to a registry: to REF itself,\n"
      "or to DEST when given. A tag that holds an index is not replaced by fewer platforms\n"
      "unless --force is given.");
  push->add_option("reference", uf->source, "The image in the local store")->required();
  push->add_option("destination", uf->destination, "Where to push (default: REF)");
  push->add_flag("--force", uf->force,
                 "Replace the destination's index even when that loses platforms");
  push->add_flag("--json", uf->json, "Print JSON");
  SetExamples(push, {"anyarch push 127.0.0.1:5000/busybox:latest",
                     "anyarch push 127.0.0.1:5000/busybox:latest 127.0.0.1:5000/busybox:2"});
  AddTransferFlags(push, uf->transfer, true);
  push->callback([&cli, uf] {
    ops::PushRequest req{.source = uf->source, .destination = uf->destination, .force = uf->force};
    if (!TransferEnv(cli, uf->transfer, req.env)) return;
    auto r = ops::Push(req);
    cli.EndProgress();
    if (!r) return cli.Fail(r.error());
    PrintCopy(cli, *r, uf->json);
  });

  auto f = std::make_shared<InspectFlags>();
  CLI::App* inspect = app.add_subcommand(
      "inspect",
      "Show an image or index: its media type and digest, each platform's manifest, and with\n"
      "--platform the selected image's layers and config. Works on every transport. --raw prints\n"
      "exactly the bytes the source holds (their sha256 is the digest).");
  inspect->add_option("image", f->location, "A registry reference, oci:DIR[:TAG], local:REF ...")
      ->required();
  inspect->add_option("--platform", f->platform, "Select one platform's image from an index");
  inspect->add_flag("--raw", f->raw, "Print the manifest or index exactly as served");
  inspect->add_flag("--json", f->json, "Print JSON");
  SetExamples(inspect, {"anyarch inspect 127.0.0.1:5000/busybox:latest",
                        "anyarch inspect --raw 127.0.0.1:5000/busybox:latest | sha256sum",
                        "anyarch inspect --platform linux/arm/v7 --json oci:./busybox:latest"});
  inspect->callback([&cli, f] { RunInspect(cli, *f); });

  struct TagsFlags {
    std::string repository;
    bool json = false;
  };
  auto tf = std::make_shared<TagsFlags>();
  CLI::App* tags = app.add_subcommand(
      "tags", "List the tags of a registry repository (every page, following the Link header)");
  tags->add_option("repository", tf->repository, "e.g. 127.0.0.1:5000/busybox")->required();
  tags->add_flag("--json", tf->json, "Print JSON");
  SetExamples(tags, {"anyarch tags 127.0.0.1:5000/busybox"});
  tags->callback([&cli, tf] {
    auto r = ops::ListTags(tf->repository, cli.Env());
    cli.EndProgress();
    if (!r) return cli.Fail(r.error());
    if (tf->json) {
      cli.out() << OrderedJson{{"repository", r->repository}, {"tags", r->tags}}.dump(2) << "\n";
      return;
    }
    for (const auto& t : r->tags) cli.out() << t << "\n";
  });
}

}  // namespace anyarch::cli

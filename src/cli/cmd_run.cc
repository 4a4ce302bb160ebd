#include <iostream>

#include "base/json.h"
#include "cli/app.h"
#include "ops/verify.h"

namespace anyarch::cli {
namespace {

struct VerifyFlags {
  std::string location;
  std::string platforms;
  bool json = false;
};

void RunVerify(Cli& cli, const VerifyFlags& f) {
  ops::VerifyRequest req{.location = f.location};
  if (!f.platforms.empty()) {
    auto ps = platform::ParseList(f.platforms);
    if (!ps) return cli.Fail(ps.error().With("--platform"));
    req.platforms = *ps;
  }
  auto r = ops::Verify(req);
  if (!r) return cli.Fail(r.error());
  if (f.json) {
    OrderedJson j;
    j["source"] = r->source;
    j["ok"] = r->ok();
    OrderedJson arr = OrderedJson::array();
    for (const auto& p : r->platforms) {
      OrderedJson pj;
      pj["platform"] = p.platform.ToString();
      pj["manifest"] = p.manifest_digest;
      pj["files"] = p.files;
      pj["elf_files"] = p.elf_files;
      OrderedJson ms = OrderedJson::array();
      for (const auto& m : p.mismatches) {
        ms.push_back({{"path", m.path},
                      {"kind", m.kind},
                      {"found", m.found},
                      {"expected", m.expected},
                      {"detail", m.detail}});
      }
      pj["mismatches"] = ms;
      arr.push_back(pj);
    }
    j["platforms"] = arr;
    cli.out() << j.dump(2) << "\n";
  } else {
    for (const auto& p : r->platforms) {
      cli.out() << p.platform.ToString() << " " << p.manifest_digest.substr(0, 19) << ": "
                << p.files << " files, " << p.elf_files << " ELF, "
                << (p.mismatches.empty() ? "ok"
                                         : std::to_string(p.mismatches.size()) + " mismatch(es)")
                << "\n";
      for (const auto& m : p.mismatches) {
        cli.out() << "  " << m.kind << " " << (m.path.empty() ? "(image config)" : m.path)
                  << ": found " << m.found << ", expected " << m.expected << " (" << m.detail
                  << ")\n";
      }
    }
  }
  if (!r->ok()) cli.exit_code = kExitFailure;
}

}  // namespace

void RegisterRunCommands(CLI::App& app, Cli& cli) {
  auto vf = std::make_shared<VerifyFlags>();
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Check that every ELF file in each platform's image is built for that platform, and that\n"
      "every dynamically linked program's interpreter exists in the image. Streams the layers in\n"
      "order without unpacking them, applying whiteouts and opaque directories, so what is "
      "checked\n"
      "is the filesystem a container would see. Reports every mismatch (path, found platform,\n"
      "expected platform) and exits 1 if there is any. This catches the amd64 binary that slipped\n"
      "into an arm64 image before anyone runs it.");
  verify
      ->add_option("image", vf->location,
                   "The image: oci:DIR[:TAG] (other transports: see docs/run.md)")
      ->required();
  verify->add_option("--platform", vf->platforms,
                     "Only these platforms, comma-separated (default: all)");
  verify->add_flag("--json", vf->json, "Print JSON");
  verify->footer(
      "\nExamples:\n"
      "  anyarch verify oci:./layout:1.0\n"
      "  anyarch verify --platform linux/arm64 oci:./layout:1.0 --json\n");
  verify->callback([&cli, vf] { RunVerify(cli, *vf); });
}

}  // namespace anyarch::cli

#include <algorithm>
#include <iostream>

#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "ops/lint.h"

namespace anyarch::cli {
namespace {

struct LintFlags {
  std::string file;
  std::string context = ".";
  std::string platforms;
  std::vector<std::string> build_args;
  std::string target;
  std::string build_platform;
  bool plan = false;
  bool steps = false;
  bool json = false;
  bool no_fail = false;
};

void RunLint(Cli& cli, const LintFlags& f) {
  ops::LintRequest req;
  req.dockerfile = f.file;
  req.context = f.context;
  req.target = f.target;
  req.plan = f.plan;
  if (!f.build_platform.empty()) {
    auto b = platform::Parse(f.build_platform);
    if (!b) return cli.Fail(b.error().With("--build-platform"));
    req.build_platform = *b;
  }
  if (!f.platforms.empty()) {
    auto ps = platform::ParseList(f.platforms);
    if (!ps) return cli.Fail(ps.error().With("--platform"));
    req.platforms = *ps;
  }
  for (const auto& kv : f.build_args) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return cli.Fail(Error(ErrorCode::kInvalid, "--build-arg \"" + kv + "\" must be KEY=VALUE"));
    }
    req.build_args[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto report = ops::Lint(req);
  if (!report) return cli.Fail(report.error());

  if (f.plan) {
    cli.out() << (f.json ? dockerfile::PlansToJson(report->plans) + "\n"
                         : dockerfile::PlansToText(report->plans, {.steps = f.steps}));
    return;
  }
  if (f.json) {
    OrderedJson arr = OrderedJson::array();
    for (const auto& w : report->warnings) {
      arr.push_back({{"rule", w.rule},
                     {"buildkit_rule", dockerfile::BuildKitRuleName(w.rule)},
                     {"severity", w.error ? "error" : "warning"},
                     {"file", report->dockerfile},
                     {"line", w.pos.line},
                     {"column", w.pos.column},
                     {"message", w.message}});
    }
    cli.out() << arr.dump(2) << "\n";
  } else {
    for (const auto& w : report->warnings) {
      cli.out() << report->dockerfile;
      if (w.pos.line > 0) cli.out() << ":" << w.pos.line << ":" << w.pos.column;
      cli.out() << (w.error ? ": error [" : ": warning [") << w.rule << "] " << w.message << "\n";
    }
    if (report->warnings.empty()) {
      std::vector<std::string> names;
      for (const auto& p : report->platforms) names.push_back(p.ToString());
      cli.err() << report->dockerfile << ": no problems found for " << Join(names, ", ") << "\n";
    }
  }
  // --no-fail keeps warnings from failing, not errors (# check=error=true, a base image that
  // cannot run on a target platform).
  bool errors = std::any_of(report->warnings.begin(), report->warnings.end(),
                            [](const dockerfile::LintWarning& w) { return w.error; });
  if ((!report->warnings.empty() && !f.no_fail) || errors) cli.exit_code = kExitFailure;
}

}  // namespace

void RegisterDockerfileCommands(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<LintFlags>();
  CLI::App* lint = app.add_subcommand(
      "lint",
      "Check a Dockerfile for the traps of multi-platform builds and other mistakes.\n"
      "Parses the file (every instruction and flag, heredocs, directives), evaluates it for each\n"
      "target platform (ARG scoping, build args, automatic platform ARGs, stage graph) and "
      "reports\n"
      "each finding with its rule name, line and column. Exits 1 when there are findings (unless\n"
      "--no-fail) or when the file does not parse, 0 when it is clean. Without --platform the "
      "file\n"
      "is checked as a build for linux/amd64 and linux/arm64.");
  lint->add_option("-f,--file", flags->file, "The Dockerfile (default: CONTEXT/Dockerfile)");
  lint->add_option("context", flags->context, "Build context directory (for .dockerignore)");
  lint->add_option("--platform", flags->platforms,
                   "Target platforms, comma-separated (default: linux/amd64,linux/arm64)");
  lint->add_option("--build-arg", flags->build_args, "Build argument KEY=VALUE (repeatable)");
  lint->add_option("--target", flags->target, "Stage to build (default: the last stage)");
  lint->add_option("--build-platform", flags->build_platform,
                   "Platform of the building machine, for $BUILDPLATFORM (default: this host)");
  lint->add_flag("--plan", flags->plan,
                 "Print the build plan per platform (stages, where each runs, dependencies) "
                 "instead of the findings");
  lint->add_flag("--steps", flags->steps,
                 "With --plan: also list every instruction of every stage with its expanded "
                 "arguments");
  lint->add_flag("--json", flags->json, "Print JSON instead of text");
  lint->add_flag("--no-fail", flags->no_fail, "Exit 0 even when there are findings");
  lint->footer(
      "\nRules: hardcoded-arch, arch-specific-base, pinned-platform, undeclared-arg,\n"
      "undefined-arg-in-from, json-form, apt-get-yes, unused-stage, maintainer,\n"
      "empty-continuation, unused-build-arg\n"
      "(see docs/dockerfile.md). \"# check=skip=RULE,...\" and \"# check=error=true\" in the\n"
      "Dockerfile are honoured, with anyarch's or BuildKit's rule names.\n\n"
      "Examples:\n"
      "  anyarch lint                                   # ./Dockerfile, amd64 + arm64\n"
      "  anyarch lint -f build/Dockerfile.app --platform linux/amd64,linux/arm64,linux/arm/v7 .\n"
      "  anyarch lint --plan --platform linux/amd64,linux/arm64\n"
      "  anyarch lint --json | jq '.[].rule'\n");
  lint->callback([&cli, flags] { RunLint(cli, *flags); });
}

}  // namespace anyarch::cli

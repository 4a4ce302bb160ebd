#include "ops/lint.h"

#include <filesystem>

#include "dockerfile/dockerignore.h"
#include "dockerfile/parser.h"

namespace anyarch::ops {

std::vector<platform::Platform> DefaultLintPlatforms() {
  return {*platform::Parse("linux/amd64"), *platform::Parse("linux/arm64")};
}

Result<LintReport> Lint(const LintRequest& request) {
  LintReport report;
  report.dockerfile = request.dockerfile.empty()
                          ? (std::filesystem::path(request.context) / "Dockerfile").string()
                          : request.dockerfile;
  report.platforms = request.platforms.empty() ? DefaultLintPlatforms() : request.platforms;
  ANYARCH_TRY(auto df, dockerfile::ParseFile(report.dockerfile));
  report.parsed = std::make_shared<dockerfile::Dockerfile>(std::move(df));
  ANYARCH_TRY(auto ignore, dockerfile::IgnoreMatcher::ForBuild(request.context, report.dockerfile));
  report.dockerignore = ignore.source();
  platform::Platform build = request.build_platform.value_or(platform::Host());
  dockerfile::LintOptions lo{.platforms = report.platforms,
                             .build = build,
                             .build_args = request.build_args,
                             .target_stage = request.target};
  ANYARCH_TRY(report.warnings, dockerfile::Lint(*report.parsed, lo));
  if (request.plan) {
    dockerfile::EvalOptions eo{
        .build = build, .build_args = request.build_args, .target_stage = request.target};
    ANYARCH_TRY(report.plans, dockerfile::EvaluateAll(*report.parsed, report.platforms, eo));
  }
  return report;
}

}  // namespace anyarch::ops

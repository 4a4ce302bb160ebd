// anyarch lint: parse, evaluate and check a Dockerfile; optionally the per-platform plan.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "dockerfile/ast.h"
#include "dockerfile/evaluate.h"
#include "dockerfile/lint.h"
#include "platform/platform.h"

namespace anyarch::ops {

struct LintRequest {
  std::string dockerfile;  // path; empty: <context>/Dockerfile
  std::string context = ".";
  std::vector<platform::Platform> platforms;  // empty: linux/amd64 and linux/arm64
  std::map<std::string, std::string> build_args;
  std::string target;
  std::optional<platform::Platform> build_platform;  // default: this machine
  bool plan = false;                                 // also evaluate the plan for every platform
};

struct LintReport {
  std::string dockerfile;    // the path read
  std::string dockerignore;  // the ignore file that applies, if any
  std::vector<dockerfile::LintWarning> warnings;
  std::vector<platform::Platform> platforms;
  // Set when request.plan. Holds pointers into `parsed`, so the report keeps it alive.
  std::shared_ptr<dockerfile::Dockerfile> parsed;
  std::vector<dockerfile::Plan> plans;
};

// Default targets when none are given: lint assumes a multi-platform build, which is what
// anyarch is for.
std::vector<platform::Platform> DefaultLintPlatforms();

// kNotFound when the Dockerfile does not exist; kInvalid with file:line:column for a syntax or
// evaluation error, or a malformed .dockerignore.
Result<LintReport> Lint(const LintRequest& request);

}  // namespace anyarch::ops

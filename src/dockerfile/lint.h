// Dockerfile checks, with the traps of multi-architecture builds first. Each finding has a rule
// name, a position and a message that says what to do instead.
//
// Rules:
//   hardcoded-arch      an architecture name (amd64, x86_64, aarch64, arm64, armhf ...) in ADD,
//                       COPY or RUN of a build for several platforms, in an instruction that does
//                       not look at TARGETARCH & co.: every platform gets the same binary. In RUN
//                       only files count (URLs, paths, archive and package file names), not
//                       package names or target triples.
//   arch-specific-base  FROM an architecture's own repository (arm64v8/..., amd64/...); an error
//                       when that architecture cannot run on a platform the stage is built for.
//   pinned-platform     FROM --platform=<literal> in a build for several platforms.
//   undeclared-arg      a variable that is an ARG (global, automatic or later in the stage) used
//                       where the stage has not declared it, itself or in the stage it is built
//                       on: it expands to nothing. Only text that is expanded counts (by the
//                       frontend, or by the RUN shell); checked for every platform's stages.
//   undefined-arg-in-from  a variable in FROM that is no global or automatic ARG.
//   json-form           CMD, ENTRYPOINT or RUN that looks like a JSON array (['a'], ["a", [a, b])
//                       but is not valid JSON, so Docker runs it as a shell command; not a
//                       test command (RUN [ "$X" = "true" ] && ...).
//   apt-get-yes         apt-get install without -y (the build stops at the prompt).
//   unused-stage        a stage the target needs for no target platform (it is never built).
//   maintainer          MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors.
//   empty-continuation  an empty line inside a continued instruction (deprecated syntax).
//   unused-build-arg    a --build-arg no ARG consumes.
// BuildKit's names for the same checks (BuildKitRuleName) are accepted wherever a rule is named.
//
// The "# check=" directive is honoured as BuildKit's build checks read it:
//   # check=skip=RULE[,RULE...]   do not report these rules (anyarch or BuildKit names, any
//                                 case; "all" skips every rule)
//   # check=error=true            every finding is an error (lint fails even with --no-fail)
// several settings separated by ";": "# check=skip=JSONArgsRecommended;error=true". An unknown
// setting or a bad boolean is an error, as in BuildKit. arch-specific-base is an error anyway
// when the base image cannot run on a platform the stage is built for.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dockerfile/ast.h"
#include "dockerfile/evaluate.h"
#include "platform/platform.h"

namespace anyarch::dockerfile {

struct LintWarning {
  std::string rule;
  Position pos;
  std::string message;
  bool error = false;  // fails the build: # check=error=true, or a base that cannot work
};

// BuildKit's name for an anyarch rule ("empty-continuation" -> "NoEmptyContinuation"), or
// empty when BuildKit has no such check.
std::string BuildKitRuleName(const std::string& rule);

struct CheckDirective {
  std::set<std::string> skip;  // lowercase, anyarch or BuildKit names
  bool skip_all = false;
  bool error = false;
  bool experimental_all = false;
  std::set<std::string> experimental;

  // True when `rule` (an anyarch name) is skipped.
  bool Skips(const std::string& rule) const;
};

// The "# check=" directive of `df` (defaults when there is none). kInvalid with the line for
// an unknown setting or a bad boolean.
Result<CheckDirective> ParseCheckDirective(const Dockerfile& df);

struct LintOptions {
  std::vector<platform::Platform> platforms;  // the build's targets
  platform::Platform build;
  std::map<std::string, std::string> build_args;
  std::string target_stage;
};

// Runs every rule, evaluating the file for every platform in `options`, and applies the
// "# check=" directive. Evaluation errors (bad --target, malformed expansion, invalid FROM) and
// a malformed directive are returned as errors.
Result<std::vector<LintWarning>> Lint(const Dockerfile& df, const LintOptions& options);

}  // namespace anyarch::dockerfile

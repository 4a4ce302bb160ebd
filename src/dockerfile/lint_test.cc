#include "dockerfile/lint.h"

#include <gtest/gtest.h>

#include "dockerfile/parser.h"

namespace anyarch::dockerfile {
namespace {

std::vector<LintWarning> LintText(const std::string& text,
                                  std::vector<std::string> platforms = {"linux/amd64",
                                                                        "linux/arm64"},
                                  std::map<std::string, std::string> build_args = {}) {
  auto df = Parse(text);
  EXPECT_TRUE(df) << df.error().ToString();
  LintOptions o;
  for (const auto& p : platforms) o.platforms.push_back(*platform::Parse(p));
  o.build = *platform::Parse("linux/amd64");
  o.build_args = build_args;
  auto r = Lint(*df, o);
  EXPECT_TRUE(r) << r.error().ToString();
  return r ? *r : std::vector<LintWarning>{};
}

std::vector<std::string> Rules(const std::vector<LintWarning>& ws) {
  std::vector<std::string> out;
  for (const auto& w : ws) out.push_back(w.rule + "@" + std::to_string(w.pos.line));
  return out;
}

TEST(Lint, CleanMultiPlatformFileIsSilent) {
  auto ws = LintText(
      "# syntax=docker/dockerfile:1\n"
      "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
      "ARG TARGETOS TARGETARCH\n"
      "WORKDIR /src\n"
      "COPY go.mod go.sum ./\n"
      "RUN --mount=type=cache,target=/go/pkg/mod go mod download\n"
      "COPY . .\n"
      "RUN GOOS=$TARGETOS GOARCH=$TARGETARCH CGO_ENABLED=0 go build -o /out/app ./cmd/app\n"
      "FROM alpine:3.19\n"
      "ARG TARGETARCH\n"
      "ADD https://example.com/tool-linux-${TARGETARCH}.tar.gz /tmp/\n"
      "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates\n"
      "RUN case \"$(uname -m)\" in x86_64) echo amd64 ;; aarch64) echo arm64 ;; esac\n"
      "COPY --from=build /out/app /usr/local/bin/app\n"
      "USER 65532:65532\n"
      "ENTRYPOINT [\"/usr/local/bin/app\"]\n");
  EXPECT_TRUE(ws.empty()) << ::testing::PrintToString(Rules(ws));
}

TEST(Lint, HardcodedArchitectures) {
  auto ws = LintText(
      "FROM debian\n"
      "ADD https://example.com/node-v20-linux-x64.tar.xz /opt/\n"  // "x64" is not in the list
      "ADD https://example.com/tool_Linux_x86_64.tar.gz /opt/\n"
      "RUN curl -L https://example.com/kubectl/linux/amd64/kubectl -o /k\n"
      "COPY bin/aarch64/app /app\n"
      "RUN echo armhf > /arch\n"  // a bare word, not a file: not reported
      "RUN echo not-an-arch-amd64ish\n");
  EXPECT_EQ(Rules(ws),
            (std::vector<std::string>{"hardcoded-arch@3", "hardcoded-arch@4", "hardcoded-arch@5"}));
  EXPECT_NE(ws[0].message.find("x86_64"), std::string::npos);
  EXPECT_NE(ws[0].message.find("${TARGETARCH}"), std::string::npos);
  // Single-platform builds are not warned.
  EXPECT_TRUE(LintText("FROM debian\nADD https://e.com/x-amd64.tgz /\n", {"linux/amd64"}).empty());
}

// In RUN, only files are checked: URLs, paths and archive or package names. Package names,
// target triples and dpkg architectures are how cross-compilation is written.
TEST(Lint, HardcodedArchInRunOnlyInFiles) {
  struct Case {
    std::string run;
    bool reported;
  };
  const Case cases[] = {
      {"RUN apt-get install -y gcc-aarch64-linux-gnu g++-x86-64-linux-gnu", false},
      {"RUN rustup target add aarch64-unknown-linux-musl x86_64-unknown-linux-musl", false},
      {"RUN dpkg --add-architecture arm64 && dpkg --add-architecture armhf", false},
      {"RUN cargo build --target aarch64-unknown-linux-gnu", false},
      {"RUN CC=aarch64-linux-gnu-gcc make", false},
      {"RUN echo armhf > /arch", false},
      {"RUN curl -fsSLO https://example.com/v1/tool-linux-amd64.tar.gz", true},
      {"RUN wget \"https://example.com/dl?arch=arm64&os=linux\"", true},
      {"RUN tar xzf tool_linux_arm64.tar.gz -C /usr/local", true},
      {"RUN dpkg -i pkg_1.0_amd64.deb", true},
      {"RUN cp /usr/lib/x86_64-linux-gnu/libz.so.1 /out/", true},
      {"RUN [\"curl\", \"-o\", \"/k\", \"https://dl.k8s.io/v1/bin/linux/amd64/kubectl\"]", true},
      {"RUN <<EOF\ncurl -LO https://example.com/x86_64/tool\nEOF", true},
      {"RUN case \"$(uname -m)\" in x86_64) curl -O https://e.com/amd64/t ;; esac", false},
  };
  for (const auto& c : cases) {
    auto ws = LintText("FROM debian\n" + c.run + "\n");
    std::vector<std::string> want;
    if (c.reported) want.push_back("hardcoded-arch@2");
    EXPECT_EQ(Rules(ws), want) << c.run;
  }
}

TEST(Lint, ArchSpecificBaseAndPinnedPlatform) {
  auto ws = LintText(
      "FROM arm64v8/alpine:3.19 AS a\n"
      "FROM amd64/debian AS b\n"
      "FROM ghcr.io/amd64/tool AS c\n"  // another registry: not Docker Hub's arch repositories
      "FROM --platform=linux/amd64 alpine AS d\n"
      "FROM --platform=$BUILDPLATFORM alpine AS e\n"
      "FROM scratch\nCOPY --from=a / /a\nCOPY --from=b / /b\nCOPY --from=c / /c\nCOPY --from=d / "
      "/d\n"
      "COPY --from=e / /e\n");
  EXPECT_EQ(Rules(ws), (std::vector<std::string>{"arch-specific-base@1", "arch-specific-base@2",
                                                 "pinned-platform@4"}));
  EXPECT_NE(ws[0].message.find("\"alpine:3.19\""), std::string::npos) << ws[0].message;
  // One platform: pinning is fine.
  EXPECT_TRUE(LintText("FROM --platform=linux/amd64 alpine\n", {"linux/amd64"}).empty());
}

TEST(Lint, UndeclaredArgs) {
  auto ws = LintText(
      "ARG VERSION=1\n"
      "FROM alpine\n"
      "RUN echo $VERSION\n"     // global, not redeclared
      "RUN echo $TARGETARCH\n"  // automatic, not declared
      "RUN echo $LATER\n"       // declared below
      "ARG LATER=x\n"
      "ENV FROM_ENV=1\n"
      "RUN echo $FROM_ENV $HOME $http_proxy\n"  // env, shell variables and proxy args are fine
      "ARG VERSION\n"
      "RUN echo $VERSION\n");
  EXPECT_EQ(Rules(ws),
            (std::vector<std::string>{"undeclared-arg@3", "undeclared-arg@4", "undeclared-arg@5"}));
  EXPECT_NE(ws[0].message.find("global ARG"), std::string::npos) << ws[0].message;
  EXPECT_NE(ws[1].message.find("ARG TARGETARCH"), std::string::npos);
  EXPECT_NE(ws[2].message.find("later"), std::string::npos);
}

TEST(Lint, JsonFormAptMaintainerUnusedStage) {
  auto ws = LintText(
      "FROM alpine AS unused\n"
      "RUN true\n"
      "FROM debian\n"
      "MAINTAINER me\n"
      "RUN apt-get update && apt-get install curl\n"
      "RUN apt-get install -yq curl && apt-get -y install git\n"
      "RUN apt-get --assume-yes install x; DEBIAN_FRONTEND=noninteractive apt-get install -qq y\n"
      "RUN <<EOF\napt-get install vim\nEOF\n"
      "CMD ['nginx', '-g', 'daemon off;']\n"
      "ENTRYPOINT [\"/bin/app\"\n");
  EXPECT_EQ(Rules(ws), (std::vector<std::string>{"unused-stage@1", "maintainer@4", "apt-get-yes@5",
                                                 "apt-get-yes@8", "json-form@11", "json-form@12"}));
}

// A stage built on another sees the ARGs that stage declared and its ENV.
TEST(Lint, ChildStagesSeeTheirParentsArgs) {
  struct Case {
    std::string text;
    std::vector<std::string> rules;
  };
  const Case cases[] = {
      {"FROM alpine AS base\nARG TARGETARCH\nENV GOARCH=$TARGETARCH\n"
       "FROM base\nRUN echo $TARGETARCH $GOARCH\n",
       {}},
      {"ARG V=1\nFROM alpine AS a\nARG V\nFROM a AS b\nFROM b\nRUN echo $V\n", {}},
      // An earlier stage that is not the base passes nothing on.
      {"FROM alpine AS a\nARG TARGETARCH\nFROM alpine\nCOPY --from=a /x /x\nRUN echo $TARGETARCH\n",
       {"undeclared-arg@5"}},
  };
  for (const auto& c : cases) EXPECT_EQ(Rules(LintText(c.text)), c.rules) << c.text;
}

// Per-architecture stages (FROM base-${TARGETARCH}) are used by some platform; each platform's
// stage graph is checked.
TEST(Lint, EveryPlatformIsEvaluated) {
  struct Case {
    std::string text;
    std::vector<std::string> rules;
  };
  const Case cases[] = {
      {"FROM alpine AS base-amd64\nRUN a\nFROM alpine AS base-arm64\nRUN b\n"
       "FROM base-${TARGETARCH}\nRUN c\n",
       {}},
      {"FROM alpine AS base-amd64\nFROM alpine AS base-riscv64\nFROM alpine AS base-arm64\n"
       "FROM base-${TARGETARCH}\n",
       {"unused-stage@2"}},
      {"FROM alpine AS tools-amd64\nFROM alpine AS tools-arm64\nFROM alpine\nARG TARGETARCH\n"
       "COPY --from=tools-${TARGETARCH} /t /t\n",
       {}},
      // TARGETARCH is declared in the amd64 parent only: arm64 builds get an empty value.
      {"FROM alpine AS base-amd64\nARG TARGETARCH\nFROM alpine AS base-arm64\n"
       "FROM base-${TARGETARCH}\nRUN echo $TARGETARCH\n",
       {"undeclared-arg@5"}},
  };
  for (const auto& c : cases) EXPECT_EQ(Rules(LintText(c.text)), c.rules) << c.text;
}

// undeclared-arg looks at what is expanded: by the frontend (unquoted COPY/ADD heredocs) or by
// the shell of RUN (its command, heredocs it runs or reads unquoted), not at quoted bodies.
TEST(Lint, VariablesInHeredocs) {
  struct Case {
    std::string text;
    std::vector<std::string> rules;
  };
  const Case cases[] = {
      {"COPY <<'EOF' /x\n$TARGETARCH\nEOF", {}},
      {"COPY <<\"EOF\" /x\n${TARGETARCH}\nEOF", {}},
      {"COPY <<EOF /x\n$TARGETARCH\nEOF", {"undeclared-arg@2"}},
      {"ADD <<-EOF /x\n\t'$TARGETARCH'\n\tEOF", {"undeclared-arg@2"}},
      {"RUN <<EOF\necho $TARGETARCH\nEOF", {"undeclared-arg@2"}},
      {"RUN <<'EOF'\necho $TARGETARCH\nEOF", {"undeclared-arg@2"}},
      {"RUN cat <<EOF > /x\n$TARGETARCH\nEOF", {"undeclared-arg@2"}},
      {"RUN python3 <<'EOF'\nprint('$TARGETARCH')\nEOF", {}},
      {"RUN <<EOF\n#!/usr/bin/env python3\nprint('$TARGETARCH')\nEOF", {}},
      {"RUN <<EOF\n#!/bin/bash\necho $TARGETARCH\nEOF", {"undeclared-arg@2"}},
      {"RUN [\"echo\", \"$TARGETARCH\"]", {}},
      {"RUN [\"sh\", \"-c\", \"echo $TARGETARCH\"]", {"undeclared-arg@2"}},
      {"CMD echo $TARGETARCH", {}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Rules(LintText("FROM alpine\n" + c.text + "\n")), c.rules) << c.text;
  }
}

TEST(Lint, AptGetInExecForm) {
  auto ws = LintText(
      "FROM debian\n"
      "RUN [\"apt-get\", \"install\", \"curl\"]\n"
      "RUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n"
      "RUN [\"/bin/sh\", \"-c\", \"apt-get update && apt-get install curl\"]\n"
      "RUN [\"/usr/bin/apt-get\", \"install\", \"x\"]\n"
      "RUN [\"bash\", \"-c\", \"apt-get install --yes x\"]\n"
      "ONBUILD RUN [\"apt-get\", \"install\", \"y\"]\n");
  EXPECT_EQ(Rules(ws), (std::vector<std::string>{"apt-get-yes@2", "apt-get-yes@4", "apt-get-yes@5",
                                                 "apt-get-yes@7"}));
}

// FROM sees only global ARGs and the automatic platform ARGs; anything else expands to nothing.
TEST(Lint, UndefinedArgInFrom) {
  auto ws = LintText(
      "ARG TAG=3.19\n"
      "FROM ${REGISTRY}golang:1.22 AS build\n"
      "FROM --platform=$BUILDPLATFORM alpine${FLAVOR}:$TAG AS tools\n"
      "FROM alpine:$TAG\n"
      "ARG LATE=1\n"
      "COPY --from=build /a /a\nCOPY --from=tools /b /b\n");
  EXPECT_EQ(Rules(ws),
            (std::vector<std::string>{"undefined-arg-in-from@2", "undefined-arg-in-from@3"}));
  EXPECT_NE(ws[0].message.find("$REGISTRY"), std::string::npos) << ws[0].message;
  EXPECT_EQ(ws[1].pos.column, 32);
  // When the reference it leaves is not valid, evaluation (and so lint) fails at the image.
  auto df = Parse("FROM alpine:$NOPE\n");
  ASSERT_TRUE(df);
  LintOptions o{.platforms = {*platform::Parse("linux/amd64")},
                .build = *platform::Parse("linux/amd64")};
  auto r = Lint(*df, o);
  ASSERT_FALSE(r);
  EXPECT_NE(
      r.error().message().find("Dockerfile:1:6: FROM \"alpine:$NOPE\" expands to \"alpine:\""),
      std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("$NOPE is not declared"), std::string::npos);
}

TEST(Lint, EmptyContinuationAndUnusedBuildArg) {
  auto ws =
      LintText("FROM alpine\nRUN a \\\n\n  b\n", {"linux/amd64", "linux/arm64"}, {{"UNUSED", "1"}});
  EXPECT_EQ(Rules(ws), (std::vector<std::string>{"unused-build-arg@0", "empty-continuation@3"}));
}

}  // namespace
}  // namespace anyarch::dockerfile

namespace anyarch::dockerfile {
namespace {

// The json-form rule fires on exec form gone wrong, never on a test(1) command.
TEST(Lint, JsonFormOnlyForArrayLookAlikes) {
  const struct {
    std::string line;
    bool fires;
  } cases[] = {
      {"CMD ['nginx', '-g', 'daemon off;']", true},
      {"CMD ['app']", true},
      {"ENTRYPOINT [\"/bin/app\"", true},
      {"RUN [a, b]", true},
      {"RUN [ \"${X}\" = \"true\" ] && echo yes", false},
      {"RUN [ -f /etc/os-release ] || exit 1", false},
      {"RUN [ -n \"$A\" ]", false},
      {"CMD [ \"$A\" = \"b\" ]", false},
  };
  for (const auto& c : cases) {
    auto ws = LintText("FROM alpine\n" + c.line + "\n");
    bool fired = false;
    for (const auto& w : ws) fired = fired || w.rule == "json-form";
    EXPECT_EQ(fired, c.fires) << c.line;
  }
}

// "# check=" as BuildKit's build checks read it: skip by anyarch or BuildKit name, error=true.
TEST(Lint, CheckDirective) {
  const std::string body =
      "FROM alpine\n"
      "MAINTAINER me\n"
      "RUN apt-get install curl\n";
  const struct {
    std::string directive;
    std::vector<std::string> rules;
    bool errors;
  } cases[] = {
      {"", {"maintainer@2", "apt-get-yes@3"}, false},
      {"# check=skip=maintainer\n", {"apt-get-yes@4"}, false},
      {"# check=skip=MaintainerDeprecated\n", {"apt-get-yes@4"}, false},
      {"# check=skip=maintainerdeprecated,apt-get-yes\n", {}, false},
      {"# check=skip=all\n", {}, false},
      {"# check=error=true\n", {"maintainer@3", "apt-get-yes@4"}, true},
      {"# check=skip=apt-get-yes;error=true\n", {"maintainer@3"}, true},
      {"# check = skip=JSONArgsRecommended ; error=false\n",
       {"maintainer@3", "apt-get-yes@4"},
       false},
  };
  for (const auto& c : cases) {
    auto ws = LintText(c.directive + body);
    EXPECT_EQ(Rules(ws), c.rules) << c.directive;
    for (const auto& w : ws) EXPECT_EQ(w.error, c.errors) << c.directive << w.rule;
  }
  for (const char* bad : {"# check=error=maybe\n", "# check=colour=blue\n"}) {
    auto df = Parse(std::string(bad) + body);
    ASSERT_TRUE(df);
    LintOptions o{.platforms = {*platform::Parse("linux/amd64")},
                  .build = *platform::Parse("linux/amd64")};
    auto r = Lint(*df, o);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("# check="), std::string::npos) << r.error().message();
  }
  EXPECT_EQ(BuildKitRuleName("empty-continuation"), "NoEmptyContinuation");
  EXPECT_EQ(BuildKitRuleName("undefined-arg-in-from"), "UndefinedArgInFrom");
  EXPECT_EQ(BuildKitRuleName("apt-get-yes"), "");
}

// A per-architecture base image that cannot run on a platform being linted is an error naming
// the stage and the fix; the plan marks the stage.
TEST(Lint, ArchitecturePinnedBaseForTheWrongPlatform) {
  const std::string text =
      "FROM arm64v8/alpine:3.19 AS tools\nRUN true\nFROM alpine\nCOPY --from=tools /bin/busybox "
      "/x\n";
  auto amd = LintText(text, {"linux/amd64"});
  ASSERT_EQ(Rules(amd), (std::vector<std::string>{"arch-specific-base@1"}));
  EXPECT_TRUE(amd[0].error);
  EXPECT_NE(amd[0].message.find("stage \"tools\""), std::string::npos) << amd[0].message;
  EXPECT_NE(amd[0].message.find("cannot run on linux/amd64"), std::string::npos) << amd[0].message;
  EXPECT_NE(amd[0].message.find("\"alpine:3.19\""), std::string::npos) << amd[0].message;
  // For arm64 alone it can run: a warning that the image is single-architecture, not an error.
  auto arm = LintText(text, {"linux/arm64"});
  ASSERT_EQ(Rules(arm), (std::vector<std::string>{"arch-specific-base@1"}));
  EXPECT_FALSE(arm[0].error);
  // The plan says which stage cannot work.
  auto df = Parse(text);
  ASSERT_TRUE(df);
  auto plans = EvaluateAll(*df, {*platform::Parse("linux/amd64")},
                           {.build = *platform::Parse("linux/amd64")});
  ASSERT_TRUE(plans);
  EXPECT_NE(PlansToText(*plans).find(
                "stage 0 \"tools\": from arm64v8/alpine:3.19, runs on linux/amd64 (target), WRONG "
                "PLATFORM: base image arm64v8/alpine:3.19 holds linux/arm64 only"),
            std::string::npos)
      << PlansToText(*plans);
}

}  // namespace
}  // namespace anyarch::dockerfile

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
      "RUN echo armhf > /arch\n"
      "RUN echo not-an-arch-amd64ish\n");
  EXPECT_EQ(Rules(ws), (std::vector<std::string>{"hardcoded-arch@3", "hardcoded-arch@4",
                                                 "hardcoded-arch@5", "hardcoded-arch@6"}));
  EXPECT_NE(ws[0].message.find("x86_64"), std::string::npos);
  EXPECT_NE(ws[0].message.find("${TARGETARCH}"), std::string::npos);
  // Single-platform builds are not warned.
  EXPECT_TRUE(LintText("FROM debian\nADD https://e.com/x-amd64.tgz /\n", {"linux/amd64"}).empty());
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

TEST(Lint, EmptyContinuationAndUnusedBuildArg) {
  auto ws =
      LintText("FROM alpine\nRUN a \\\n\n  b\n", {"linux/amd64", "linux/arm64"}, {{"UNUSED", "1"}});
  EXPECT_EQ(Rules(ws), (std::vector<std::string>{"unused-build-arg@0", "empty-continuation@3"}));
}

}  // namespace
}  // namespace anyarch::dockerfile

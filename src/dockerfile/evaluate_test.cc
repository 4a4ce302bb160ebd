#include "dockerfile/evaluate.h"

#include <gtest/gtest.h>

#include "dockerfile/parser.h"
#include "dockerfile/syntax_error.h"

namespace anyarch::dockerfile {
namespace {

platform::Platform P(const char* s) { return *platform::Parse(s); }

EvalOptions Opts(const char* target = "linux/arm64") {
  return EvalOptions{.target = P(target), .build = P("linux/amd64")};
}

Result<Plan> Eval(const std::string& text, EvalOptions o = Opts()) {
  auto df = Parse(text);
  if (!df) return Unexpected(df.error());
  // The plan points into the Dockerfile; keep it alive for the test.
  static std::vector<std::unique_ptr<Dockerfile>> keep;
  keep.push_back(std::make_unique<Dockerfile>(std::move(*df)));
  return Evaluate(*keep.back(), o);
}

TEST(Evaluate, GlobalArgsInFromOnly) {
  auto p = Eval(
      "ARG BASE=alpine\nARG TAG=3.19\nFROM ${BASE}:${TAG} AS a\nRUN x\n"
      "FROM a\nARG TAG\nLABEL t=$TAG b=$BASE\n");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->stages[0].base, "alpine:3.19");
  // Stage 1 redeclared TAG (gets the global value) but not BASE (empty).
  const auto& label = p->stages[1].steps.back();
  ASSERT_EQ(label.words.size(), 2u);
  EXPECT_EQ(label.words[0], "t=3.19");
  EXPECT_EQ(label.words[1], "b=");
}

TEST(Evaluate, BuildArgsOverride) {
  EvalOptions o = Opts();
  o.build_args = {{"TAG", "edge"}, {"V", "9"}, {"NOPE", "1"}, {"HTTP_PROXY", "http://p"}};
  auto p = Eval("ARG TAG=3.19\nFROM alpine:$TAG\nARG V=1\nENV V=$V\n", o);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->stages[0].base, "alpine:edge");
  EXPECT_EQ(p->stages[0].steps.back().words[0], "V=9");
  // NOPE is unused; proxy args never count as unused.
  EXPECT_EQ(p->unused_build_args, std::vector<std::string>{"NOPE"});
}

TEST(Evaluate, AutomaticPlatformArgs) {
  auto p = Eval(
      "FROM --platform=$BUILDPLATFORM golang AS build\nARG TARGETOS TARGETARCH TARGETVARIANT\n"
      "ENV GOOS=$TARGETOS GOARCH=$TARGETARCH V=$TARGETVARIANT\n"
      "FROM alpine\nARG TARGETPLATFORM BUILDARCH\nLABEL p=$TARGETPLATFORM b=$BUILDARCH\n",
      Opts("linux/arm/v7"));
  ASSERT_TRUE(p) << p.error().ToString();
  auto& env = p->stages[0].steps[1].words;
  EXPECT_EQ(env[0], "GOOS=linux");
  EXPECT_EQ(env[1], "GOARCH=arm");
  EXPECT_EQ(env[2], "V=v7");
  EXPECT_EQ(p->stages[0].platform.ToString(), "linux/amd64");
  EXPECT_EQ(p->stages[0].mode, StageMode::kBuildPerTarget);
  EXPECT_EQ(p->stages[1].steps[1].words[0], "p=linux/arm/v7");
  EXPECT_EQ(p->stages[1].steps[1].words[1], "b=amd64");
  EXPECT_EQ(p->stages[1].platform.ToString(), "linux/arm/v7");
  // Without redeclaring, the automatic args are empty inside a stage.
  auto q = Eval("FROM alpine\nLABEL a=$TARGETARCH\n");
  EXPECT_EQ(q->stages[0].steps[0].words[0], "a=");
}

TEST(Evaluate, BuildPlatformStageWithoutTargetArgsIsShared) {
  auto p = Eval(
      "FROM --platform=$BUILDPLATFORM node:20 AS web\nRUN npm ci && npm run build\n"
      "FROM nginx\nCOPY --from=web /dist /usr/share/nginx/html\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->stages[0].mode, StageMode::kBuildShared);
  EXPECT_EQ(p->stages[1].mode, StageMode::kTarget);
  ASSERT_EQ(p->stages[1].deps.size(), 1u);
  EXPECT_EQ(p->stages[1].deps[0].stage, 0);
  EXPECT_EQ(p->stages[1].deps[0].via, "COPY --from");
}

TEST(Evaluate, PinnedPlatform) {
  auto p =
      Eval("FROM --platform=linux/amd64 debian AS tools\nFROM alpine\nCOPY --from=tools /x /x\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->stages[0].mode, StageMode::kPinned);
  EXPECT_EQ(p->stages[0].platform.ToString(), "linux/amd64");
}

TEST(Evaluate, EnvUsesValuesFromBeforeTheInstruction) {
  auto p = Eval("FROM x\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n");
  ASSERT_TRUE(p);
  auto& s = p->stages[0].steps;
  EXPECT_EQ(s[1].words[1], "def=hello");
  EXPECT_EQ(s[2].words[0], "ghi=bye");
}

TEST(Evaluate, EnvOverridesArg) {
  auto p = Eval("FROM x\nARG V=arg\nENV V=env\nWORKDIR /$V\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->stages[0].steps.back().words[0], "/env");
}

TEST(Evaluate, DependenciesAndTargetPruning) {
  std::string df =
      "FROM alpine AS base\nRUN a\n"
      "FROM base AS build\nRUN --mount=type=bind,from=deps,target=/d b\n"
      "FROM alpine AS deps\nRUN c\n"
      "FROM base AS test\nCOPY --from=1 /x /x\n"
      "FROM scratch AS final\nCOPY --from=build /out /\nCOPY --from=busybox:1.36 /bin/sh /sh\n";
  // RUN --mount from=deps references a later stage: an error.
  auto bad = Eval(df);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("defined later"), std::string::npos)
      << bad.error().message();
  EXPECT_EQ(ErrorPosition(bad.error()).line, 4);

  std::string good =
      "FROM alpine AS base\nRUN a\n"
      "FROM alpine AS deps\nRUN c\n"
      "FROM base AS build\nRUN --mount=type=bind,from=deps,target=/d b\n"
      "FROM base AS test\nCOPY --from=2 /x /x\n"
      "FROM scratch AS final\nCOPY --from=build /out /\nCOPY --from=busybox:1.36 /bin/sh /sh\n";
  auto p = Eval(good);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->target_index, 4);
  EXPECT_TRUE(p->stages[0].needed);
  EXPECT_TRUE(p->stages[1].needed);
  EXPECT_TRUE(p->stages[2].needed);
  EXPECT_FALSE(p->stages[3].needed);
  EXPECT_EQ(p->stages[4].external_images, std::vector<std::string>{"busybox:1.36"});
  EXPECT_EQ(p->stages[2].base_stage, 0);

  EvalOptions o = Opts();
  o.target_stage = "TEST";
  auto t = Eval(good, o);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->target_index, 3);
  EXPECT_FALSE(t->stages[4].needed);
  // test copies from build (index 2), which mounts from deps (1), which all need base (0).
  EXPECT_TRUE(t->stages[2].needed);
  EXPECT_TRUE(t->stages[1].needed);
  EXPECT_TRUE(t->stages[0].needed);

  o.target_stage = "nope";
  auto n = Eval(good, o);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("base, deps, build, test, final"), std::string::npos);
}

TEST(Evaluate, Errors) {
  struct Case {
    std::string text, mentions;
    int line;
  };
  const Case cases[] = {
      {"RUN x\nFROM y\n", "only ARG may come before FROM", 1},
      {"ARG A\n", "no FROM instruction", 1},
      {"ARG IMG\nFROM $IMG\n", "expands to an empty image name", 2},
      {"FROM x AS a\nFROM y AS A\n", "duplicate stage name", 2},
      {"FROM x\nCOPY --from=0 a b\n", "refers to the stage it is in", 2},
      {"FROM x\nCOPY --from=5 a b\n", "no earlier stage with index 5", 2},
      {"FROM --platform=linux/amd46 x\n", "unknown architecture", 1},
      {"FROM x\nWORKDIR ${A:?set A}\n", "set A", 2},
  };
  for (const auto& c : cases) {
    auto r = Eval(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message().find(c.mentions), std::string::npos) << r.error().message();
    EXPECT_EQ(ErrorPosition(r.error()).line, c.line) << r.error().message();
  }
}

TEST(Evaluate, PlanTextIsDeterministic) {
  auto df = Parse(
      "FROM --platform=$BUILDPLATFORM golang AS b\nRUN go build\nFROM alpine\nCOPY --from=b /a "
      "/a\n");
  ASSERT_TRUE(df);
  auto plans = EvaluateAll(*df, {P("linux/amd64"), P("linux/arm64")}, Opts());
  ASSERT_TRUE(plans);
  std::string text = PlansToText(*plans);
  EXPECT_EQ(text,
            "platform linux/amd64 (built on linux/amd64), target stage 1\n"
            "  stage 0 \"b\": from golang, runs on linux/amd64 (build-shared), 1 instructions\n"
            "  stage 1: from alpine, runs on linux/amd64 (target), needs 0 via COPY --from, 1 "
            "instructions\n"
            "platform linux/arm64 (built on linux/amd64), target stage 1\n"
            "  stage 0 \"b\": from golang, runs on linux/amd64 (build-shared), 1 instructions\n"
            "  stage 1: from alpine, runs on linux/arm64 (target), needs 0 via COPY --from, 1 "
            "instructions\n");
  EXPECT_NE(PlansToJson(*plans).find("\"mode\": \"build-shared\""), std::string::npos);
}

}  // namespace
}  // namespace anyarch::dockerfile

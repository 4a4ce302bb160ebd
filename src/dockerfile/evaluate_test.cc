#include "dockerfile/evaluate.h"

#include <gtest/gtest.h>

#include <map>

#include "dockerfile/mounts.h"
#include "dockerfile/parser.h"
#include "dockerfile/run.h"
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
  // RUN --mount from=deps references a later stage: an error, as in BuildKit ("cannot mount
  // from stage ..., stage needs to be defined before current command").
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

// Every error points at the line and column of the problem: the "$" or quote of a bad
// expansion (in arguments, flags, heredoc bodies, on continuation lines), the flag of a bad
// --from, the image of a bad FROM.
TEST(Evaluate, Errors) {
  struct Case {
    std::string text, mentions;
    int line, column;
  };
  const Case cases[] = {
      {"RUN x\nFROM y\n", "only ARG may come before FROM", 1, 1},
      {"ARG A\n", "no FROM instruction", 1, 1},
      {"ARG IMG\nFROM $IMG\n", "expands to an empty image name; ARG IMG has no value", 2, 6},
      {"FROM $NOPE AS a\n", "expands to an empty image name; $NOPE is not declared", 1, 6},
      {"FROM x AS a\nFROM y AS A\n", "duplicate stage name", 2, 1},
      {"FROM x\nCOPY --from=0 a b\n", "refers to the stage it is in", 2, 6},
      {"FROM x\nCOPY --from=5 a b\n", "invalid stage index 5", 2, 6},
      {"FROM x AS a\nCOPY --from=b /x /y\nFROM y AS b\n", "defined later", 2, 6},
      {"FROM x\nCOPY --chown=1 --from=1 /x /y\nFROM y\n", "defined later", 2, 16},
      {"FROM --platform=linux/amd46 x\n", "unknown architecture", 1, 6},
      // Malformed or failed expansions.
      {"FROM x\nWORKDIR ${A:?set A}\n", "set A", 2, 9},
      {"FROM x\nWORKDIR /a/${A:?set A}\n", "A: set A", 2, 12},
      {"FROM x\nCOPY --chown=${U:?x} a b\n", "U: x", 2, 14},
      {"FROM x\nCOPY --chown=u \\\n  --chmod=6${M a b\n", "missing '}'", 3, 12},
      {"FROM x\nCOPY a \\\n  ${B:?b} /c\n", "B: b", 3, 3},
      {"FROM x\nADD [\"${S:?s}\", \"/d\"]\n", "S: s", 2, 5},
      {"FROM x\nENV A=1 \\\n    B=\"open\n", "unterminated double quote", 3, 7},
      {"FROM x\nENV LEGACY one ${T:?t}\n", "T: t", 2, 16},
      {"FROM x\nLABEL a=${b\n", "missing '}'", 2, 9},
      {"FROM x\nARG A=1 B=${A}${C:?c}\n", "C: c", 2, 15},
      {"FROM x\nUSER ${U:?who}\n", "U: who", 2, 6},
      {"FROM x\nEXPOSE 80 ${P:?port}\n", "P: port", 2, 11},
      {"FROM x\nVOLUME /a ${V:%x}\n", "unsupported modifier", 2, 11},
      {"FROM x\nSTOPSIGNAL ${S:?sig}\n", "S: sig", 2, 12},
      {"FROM x\nRUN --mount=type=bind,from=${S:?s},target=/x true\n", "S: s", 2, 28},
      {"FROM x\nCOPY <<EOF /a\nline one\n  ${X:?x}\nEOF\n", "X: x", 4, 3},
      {"FROM x\nCOPY <<-EOF /a\n\t\t${X:?x}\nEOF\n", "X: x", 3, 3},
      {"ARG V=${X:?need-X}\nFROM alpine\n", "X: need-X", 1, 7},
      {"FROM ${IMG:?no-image}\n", "IMG: no-image", 1, 6},
      {"FROM --platform=${P:?p} x\n", "P: p", 1, 17},
      {"FROM a \\\n  AS b\nFROM --platform=linux/amd64 \\\n ${I:?i}\n", "I: i", 4, 2},
      // Invalid image references after expansion.
      {"FROM alpine:$NOPE\n", "expands to \"alpine:\", which is not a valid image reference", 1, 6},
      {"ARG T\nFROM --platform=$BUILDPLATFORM \\\n  golang:$T\n", "ARG T has no value", 3, 3},
      {"FROM x\nCOPY --from=img- a b\n", "not a valid image reference", 2, 6},
      // An empty --from names nothing.
      {"FROM x\nARG E\nCOPY --from=$E a b\n", "--from=$E expands to an empty string", 3, 6},
      {"FROM x\nCOPY --from=${E} a b\n", "expands to an empty string", 2, 6},
      {"FROM x\nRUN --mount=from=$E,target=/m true\n", "from=$E expands to an empty string", 2, 5},
  };
  for (const auto& c : cases) {
    auto r = Eval(c.text);
    ASSERT_FALSE(r) << c.text << PlansToText({*r}, {.steps = true});
    EXPECT_NE(r.error().message().find(c.mentions), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find("offset"), std::string::npos) << r.error().message();
    Position p = ErrorPosition(r.error());
    EXPECT_EQ(p.line, c.line) << r.error().message();
    EXPECT_EQ(p.column, c.column) << r.error().message();
  }
}

// A stage built FROM another stage starts with its ENV and its declared ARGs (BuildKit copies
// the parent's state); unrelated earlier stages pass nothing on.
TEST(Evaluate, ChildStagesInheritArgsAndEnv) {
  struct Case {
    std::string text;
    std::vector<std::string> last_words;  // of the last instruction
  };
  const Case cases[] = {
      {"FROM alpine AS base\nARG TARGETARCH\nENV GOARCH=$TARGETARCH\n"
       "FROM base\nLABEL g=$GOARCH t=$TARGETARCH\n",
       {"g=arm64", "t=arm64"}},
      {"FROM alpine AS a\nARG V=1\nENV E=e\nFROM a AS b\nRUN true\nFROM b\nLABEL v=$V e=$E\n",
       {"v=1", "e=e"}},
      {"FROM alpine AS a\nENV X=1\nARG Y=2\nFROM alpine\nLABEL x=$X y=$Y\n", {"x=", "y="}},
      // Redeclaring without a value keeps the inherited value, unless a global one exists.
      {"FROM alpine AS a\nARG V=1\nFROM a\nARG V\nLABEL v=$V\n", {"v=1"}},
      {"ARG V=g\nFROM alpine AS a\nARG V=1\nFROM a\nARG V\nLABEL v=$V\n", {"v=g"}},
      {"FROM alpine AS a\nARG V=1\nFROM a\nARG V=2\nLABEL v=$V\n", {"v=2"}},
      // The child's own ENV still wins over an inherited ARG.
      {"FROM alpine AS a\nARG V=arg\nFROM a\nENV V=env\nWORKDIR /$V\n", {"/env"}},
  };
  for (const auto& c : cases) {
    auto p = Eval(c.text);
    ASSERT_TRUE(p) << c.text << ": " << p.error().ToString();
    EXPECT_EQ(p->stages.back().steps.back().words, c.last_words) << c.text;
  }
  // The probe from the audit: an inherited ENV built from an ARG in COPY --from.
  auto p = Eval(
      "FROM alpine AS base\nARG TARGETARCH\nENV GOARCH=$TARGETARCH\n"
      "FROM base\nCOPY --from=img-$GOARCH /a /b\n");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->stages[1].external_images, std::vector<std::string>{"img-arm64"});
  EXPECT_EQ(p->stages[1].env.at("GOARCH"), "arm64");
  EXPECT_EQ(p->stages[1].args.at("TARGETARCH"), "arm64");
}

// "ARG X" with no default, no --build-arg and no global value leaves X unset, not empty.
TEST(Evaluate, ArgWithoutValueIsUnset) {
  struct Case {
    std::string text;
    std::map<std::string, std::string> build_args;
    std::vector<std::string> last_words;
  };
  const Case cases[] = {
      {"FROM x\nARG X\nLABEL a=${X-d} b=${X:-e} c=${X+set}\n", {}, {"a=d", "b=e", "c="}},
      {"ARG X\nFROM x\nARG X\nLABEL a=${X-d}\n", {}, {"a=d"}},
      {"FROM x\nARG X\nLABEL a=${X-d} b=${X:-e} c=${X+set}\n", {{"X", ""}}, {"a=", "b=e", "c=set"}},
      {"FROM x\nARG X=\nLABEL a=${X-d}\n", {}, {"a="}},
      {"FROM x\nARG X\nARG X\n", {}, {"X"}},
  };
  for (const auto& c : cases) {
    EvalOptions o = Opts();
    o.build_args = c.build_args;
    auto p = Eval(c.text, o);
    ASSERT_TRUE(p) << c.text << ": " << p.error().ToString();
    EXPECT_EQ(p->stages.back().steps.back().words, c.last_words) << c.text;
  }
}

// FROM resolves stages by name only; a number is an image. COPY --from takes an index.
TEST(Evaluate, FromResolvesStagesByNameOnly) {
  auto p = Eval("FROM alpine\nRUN true\nFROM 0\nCOPY --from=0 /a /b\n");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->stages[1].base, "0");
  EXPECT_EQ(p->stages[1].base_stage, -1);
  ASSERT_EQ(p->stages[1].deps.size(), 1u);
  EXPECT_EQ(p->stages[1].deps[0].via, "COPY --from");
  auto named = Eval("FROM alpine AS Build\nFROM build\n");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->stages[1].base_stage, 0);
}

// What the frontend expands, instruction by instruction (after ARG A=alpha, ARG M=644,
// ENV P=/usr), and what it leaves to the shell or to later.
TEST(Evaluate, WhatIsExpanded) {
  struct Case {
    std::string instruction;
    bool expanded;
    std::vector<std::string> words;
    std::vector<std::pair<std::string, std::string>> flags;
  };
  const Case cases[] = {
      {"RUN echo $A", false, {}, {}},
      {"RUN [\"echo\", \"$A\"]", false, {}, {}},
      {"CMD echo $A", false, {}, {}},
      {"CMD [\"$A\"]", false, {}, {}},
      {"ENTRYPOINT [\"/bin/$A\"]", false, {}, {}},
      {"ENTRYPOINT exec $A", false, {}, {}},
      {"HEALTHCHECK --interval=5s CMD curl $A", false, {}, {}},
      {"SHELL [\"/bin/$A\", \"-c\"]", false, {}, {}},
      {"MAINTAINER $A", false, {}, {}},
      {"ONBUILD COPY $A /b", false, {}, {}},
      {"RUN --mount=type=cache,id=$A,target=$P/cache --network=none make $A",
       false,
       {},
       {{"mount", "type=cache,id=alpha,target=/usr/cache"}, {"network", "none"}}},
      {"EXPOSE 80 ${PORT:-8080}/$A", true, {"80", "8080/alpha"}, {}},
      {"VOLUME $P/data /$A", true, {"/usr/data", "/alpha"}, {}},
      {"VOLUME [\"$P/data\"]", true, {"/usr/data"}, {}},
      {"USER $A:${A}", true, {"alpha:alpha"}, {}},
      {"STOPSIGNAL SIG${S:-TERM}", true, {"SIGTERM"}, {}},
      {"WORKDIR $P/src", true, {"/usr/src"}, {}},
      {"ENV B=$A/x C=\"$P $A\"", true, {"B=alpha/x", "C=/usr alpha"}, {}},
      {"ENV D $A and $P", true, {"D=alpha and /usr"}, {}},
      {"LABEL l=$A \"k $A\"=v", true, {"l=alpha", "k alpha=v"}, {}},
      {"ARG B=$A-b", true, {"B=alpha-b"}, {}},
      {"ADD --chown=$A --chmod=$M --checksum=sha256:$A $P/a.tgz /opt/$A/",
       true,
       {"/usr/a.tgz", "/opt/alpha/"},
       {{"chown", "alpha"}, {"chmod", "644"}, {"checksum", "sha256:alpha"}}},
      {"COPY --from=img-$A --chown=$A:$A --chmod=$M --exclude=*.$A a $P/b",
       true,
       {"a", "/usr/b"},
       {{"from", "img-alpha"}, {"chown", "alpha:alpha"}, {"chmod", "644"}, {"exclude", "*.alpha"}}},
      {"COPY [\"$P/a b\", \"/$A/\"]", true, {"/usr/a b", "/alpha/"}, {}},
      {"COPY '$A' \\$A \"$A\" /d/", true, {"$A", "$A", "alpha", "/d/"}, {}},
  };
  for (const auto& c : cases) {
    auto p = Eval("FROM x\nARG A=alpha\nARG M=644\nENV P=/usr\n" + c.instruction + "\n");
    ASSERT_TRUE(p) << c.instruction << ": " << p.error().ToString();
    const Step& st = p->stages[0].steps.back();
    EXPECT_EQ(st.expanded, c.expanded) << c.instruction;
    EXPECT_EQ(st.words, c.words) << c.instruction;
    EXPECT_EQ(st.flags, c.flags) << c.instruction;
  }
}

// COPY/ADD heredocs become files: unquoted ones are expanded in raw mode (quotes kept), quoted
// ones are not, and the markers are not paths. RUN heredocs are left to the shell.
TEST(Evaluate, HeredocBodies) {
  auto p = Eval(
      "FROM x\nARG A=alpha\n"
      "COPY --chmod=755 <<EOF <<'Q' /dst/\n$A \"$A\" '$A' \\$A ${B:-b}\nEOF\n$A\nQ\n"
      "ADD <<-\"T\" /t\n\t$A\n\tT\n"
      "RUN <<EOF\necho $A\nEOF\n");
  ASSERT_TRUE(p) << p.error().ToString();
  const auto& steps = p->stages[0].steps;
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[1].words, std::vector<std::string>{"/dst/"});
  using Files = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(steps[1].heredocs, (Files{{"EOF", "alpha \"alpha\" 'alpha' $A b\n"}, {"Q", "$A\n"}}));
  EXPECT_EQ(steps[2].words, std::vector<std::string>{"/t"});
  EXPECT_EQ(steps[2].heredocs, (Files{{"T", "$A\n"}}));
  EXPECT_FALSE(steps[3].expanded);
  EXPECT_TRUE(steps[3].heredocs.empty());
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
  EXPECT_NE(PlansToJson(*plans).find("\"instruction\": \"COPY\""), std::string::npos);
}

TEST(Evaluate, PlanTextWithSteps) {
  auto df = Parse(
      "FROM --platform=$BUILDPLATFORM golang AS b\nARG TARGETARCH\n"
      "RUN --mount=type=cache,target=/c go build -o /out/$TARGETARCH\n"
      "FROM alpine\nARG TARGETARCH\nCOPY --from=b /out/$TARGETARCH /app\n"
      "COPY <<EOF /etc/arch\n$TARGETARCH\nEOF\n");
  ASSERT_TRUE(df);
  auto plans = EvaluateAll(*df, {P("linux/arm64")}, Opts());
  ASSERT_TRUE(plans);
  EXPECT_EQ(PlansToText(*plans, {.steps = true}),
            "platform linux/arm64 (built on linux/amd64), target stage 1\n"
            "  stage 0 \"b\": from golang, runs on linux/amd64 (build-per-target), 2 "
            "instructions\n"
            "    2 ARG [\"TARGETARCH=arm64\"]\n"
            "    3 RUN --mount=type=cache,target=/c (not expanded) [cache target=/c id=/c "
            "sharing=shared source=/ rw mode=0755 uid=0 gid=0]\n"
            "  stage 1: from alpine, runs on linux/arm64 (target), needs 0 via COPY --from, 3 "
            "instructions\n"
            "    5 ARG [\"TARGETARCH=arm64\"]\n"
            "    6 COPY --from=b [\"/out/arm64\",\"/app\"]\n"
            "    7 COPY [\"/etc/arch\"] <<EOF \"arm64\\n\"\n");
}

}  // namespace
}  // namespace anyarch::dockerfile

namespace anyarch::dockerfile {
namespace {

// RUN --mount with BuildKit's defaults: each case is one RUN (in a stage with ARG P=/a,b) and
// the working directory, and the mount it gives.
TEST(Mounts, DefaultsLikeBuildKit) {
  struct Want {
    MountType type;
    std::string target, source, from, id, sharing;
    bool readonly;
    bool required = false;
    std::uint32_t mode = 0, uid = 0, gid = 0;
    std::uint64_t size = 0;
    std::string env = "";
  };
  const struct {
    std::string mount;
    std::string workdir;
    Want want;
  } cases[] = {
      {"type=bind,source=src", "/app", {MountType::kBind, "/app", "/src", "", "", "", true}},
      {"source=src", "/srv/", {MountType::kBind, "/srv", "/src", "", "", "", true}},
      {"target=rel", "/w", {MountType::kBind, "/w/rel", "/", "", "", "", true}},
      {"type=bind,target=/x,rw", "/", {MountType::kBind, "/x", "/", "", "", "", false}},
      {"type=bind,target=/x,readwrite=true", "/", {MountType::kBind, "/x", "/", "", "", "", false}},
      {"type=bind,target=/x,from=base,src=/out",
       "/",
       {MountType::kBind, "/x", "/out", "base", "", "", true}},
      {"type=bind,target=$P", "/", {MountType::kBind, "/a,b", "/", "", "", "", true}},
      {"type=bind,\\\"target=/c,d\\\"", "/", {MountType::kBind, "/c,d", "/", "", "", "", true}},
      {"type=cache,target=/root/.cache",
       "/",
       {MountType::kCache, "/root/.cache", "/", "", "/root/.cache", "shared", false, false, 0755}},
      {"type=cache,target=cache/",
       "/w",
       {MountType::kCache, "/w/cache", "/", "", "cache", "shared", false, false, 0755}},
      {"type=cache,target=/c,id=go,sharing=locked,ro",
       "/",
       {MountType::kCache, "/c", "/", "", "go", "locked", true, false, 0755}},
      {"type=cache,target=/c,uid=1000,gid=1001,mode=0700",
       "/",
       {MountType::kCache, "/c", "/", "", "/c", "shared", false, false, 0700, 1000, 1001}},
      {"type=tmpfs,target=/t,size=64m",
       "/",
       {MountType::kTmpfs, "/t", "", "", "", "", false, false, 0, 0, 0, 64u << 20}},
      {"type=tmpfs,target=/t,size=16383p",  // the largest size in p that fits 64 bits
       "/",
       {MountType::kTmpfs, "/t", "", "", "", "", false, false, 0, 0, 0, 16383ull << 50}},
      {"type=tmpfs,target=t", "/w", {MountType::kTmpfs, "/w/t", "", "", "", "", false}},
      {"type=secret,id=tok",
       "/w",
       {MountType::kSecret, "/run/secrets/tok", "", "", "tok", "", true, false, 0400}},
      {"type=secret,target=/etc/x.key",
       "/",
       {MountType::kSecret, "/etc/x.key", "", "", "x.key", "", true, false, 0400}},
      {"type=secret,source=aws,target=/root/.aws/credentials,required",
       "/",
       {MountType::kSecret, "/root/.aws/credentials", "", "", "aws", "", true, true, 0400}},
      {"type=secret,id=t,env=TOKEN",
       "/",
       {MountType::kSecret, "", "", "", "t", "", true, false, 0400, 0, 0, 0, "TOKEN"}},
      {"type=secret,id=t,required=false,mode=0440,uid=1",
       "/",
       {MountType::kSecret, "/run/secrets/t", "", "", "t", "", true, false, 0440, 1}},
      {"type=ssh",
       "/",
       {MountType::kSsh, "/run/buildkit/ssh_agent.0", "", "", "default", "", true, false, 0600}},
      {"type=ssh,id=gh,target=/s,required",
       "/",
       {MountType::kSsh, "/s", "", "", "gh", "", true, true, 0600}},
  };
  for (const auto& c : cases) {
    std::string text =
        "FROM alpine AS base\nFROM alpine\nARG P=/a,b\nRUN --mount=" + c.mount + " true\n";
    auto p = Eval(text);
    ASSERT_TRUE(p) << c.mount << ": " << p.error().ToString();
    const Step& run = p->stages[1].steps.back();
    auto ms = ParseMounts(run, c.workdir);
    ASSERT_TRUE(ms) << c.mount << ": " << ms.error().ToString();
    ASSERT_EQ(ms->size(), 1u);
    const MountSpec& m = ms->front();
    const Want& w = c.want;
    EXPECT_EQ(m.type, w.type) << c.mount;
    EXPECT_EQ(m.target, w.target) << c.mount;
    if (w.type == MountType::kBind || w.type == MountType::kCache) {
      EXPECT_EQ(m.source, w.source) << c.mount;
    }
    EXPECT_EQ(m.from, w.from) << c.mount;
    EXPECT_EQ(m.id, w.id) << c.mount;
    EXPECT_EQ(m.sharing, w.sharing) << c.mount;
    EXPECT_EQ(m.readonly, w.readonly) << c.mount;
    EXPECT_EQ(m.required, w.required) << c.mount;
    EXPECT_EQ(m.mode, w.mode) << c.mount;
    EXPECT_EQ(m.uid, w.uid) << c.mount;
    EXPECT_EQ(m.gid, w.gid) << c.mount;
    EXPECT_EQ(m.size, w.size) << c.mount;
    EXPECT_EQ(m.env, w.env) << c.mount;
  }
  // Two ssh mounts get their own sockets.
  auto two = Eval("FROM alpine\nRUN --mount=type=ssh --mount=type=ssh,id=b true\n");
  ASSERT_TRUE(two);
  auto ms = ParseMounts(two->stages[0].steps.back(), "/");
  ASSERT_TRUE(ms);
  ASSERT_EQ(ms->size(), 2u);
  EXPECT_EQ((*ms)[1].target, "/run/buildkit/ssh_agent.1");
}

// Mount options BuildKit refuses; the error names the option, and the line.
TEST(Mounts, ErrorsLikeBuildKit) {
  const struct {
    std::string mount;
    std::string workdir;
    std::string mentions;
  } cases[] = {
      {"type=bind", "/", "cannot cover /"},
      {"type=cache,target=/", "/w", "cannot cover /"},
      {"type=bind,target=..", "/", "cannot cover /"},
      {"required,type=secret,id=x", "/", "only for secret and ssh"},
      // Found by options_fuzz: "required" accepted for ssh, then type= made it a cache mount.
      {"type=ssh,required,type=cache,target=/c", "/", "only for secret and ssh mounts, not cache"},
      {"type=secret,id=x,required=true,type=bind,target=/b", "/", "only for secret and ssh"},
      {"type=bind,target=/x,mode=0644", "/", "mode is not allowed for bind"},
      {"type=tmpfs,target=/x,uid=1", "/", "uid is not allowed for tmpfs"},
      {"type=tmpfs,target=/t,size=lots", "/", "size takes"},
      // Found writing options_fuzz: a size past 2^64 bytes was converted from double (UB).
      {"type=tmpfs,target=/t,size=99999999999999999999999999p", "/", "size takes"},
      {"type=tmpfs,target=/t,size=16384p", "/", "size takes"},
      {"type=cache,target=/t,size=1m", "/", "size is only for tmpfs"},
      {"type=secret", "/", "needs id=, source= or target="},
      {"type=secret,source=a,id=b", "/", "source and id cannot both be set"},
      {"type=secret,id=a,from=x", "/", "takes no from="},
      {"type=ssh,source=x", "/", "takes no source="},
      {"type=bind,target=/x,sharing=shared", "/", "sharing is only for cache"},
      {"type=cache,target=/c,sharing=bad", "/", "sharing takes"},
      {"type=cache,target=/c,mode=999", "/", "octal"},
      {"type=cache,target=/c,uid=-1", "/", "uid takes a number"},
      {"type=bind,target=/x,ro=maybe", "/", "ro takes true or false"},
      {"type=bind,target", "/", "must be a key=value pair"},
      {"type=bind,target=/x,env=A", "/", "env is only for secret"},
      {"type=bind,\\\"target=/x", "/", "quote"},
  };
  for (const auto& c : cases) {
    std::string text = "FROM alpine\nRUN --mount=" + c.mount + " true\n";
    auto p = Eval(text);
    Result<std::vector<MountSpec>> ms = p ? ParseMounts(p->stages[0].steps.back(), c.workdir)
                                          : Result<std::vector<MountSpec>>(Unexpected(p.error()));
    ASSERT_FALSE(ms) << c.mount;
    const std::string msg = ms.error().message();
    EXPECT_NE(msg.find(c.mentions), std::string::npos) << c.mount << ": " << msg;
    // Every error says where: the evaluator's file:line:column, or ParseMounts' "line 2".
    EXPECT_TRUE(msg.find(":2:") != std::string::npos || msg.find("line 2") != std::string::npos)
        << msg;
  }
}

TEST(Mounts, NetworkAndSecurity) {
  auto p = Eval(
      "FROM alpine\nRUN true\nRUN --network=none --security=insecure true\nRUN --network=host "
      "true\n");
  ASSERT_TRUE(p) << p.error().ToString();
  const auto& steps = p->stages[0].steps;
  EXPECT_EQ(*ParseNetwork(steps[0]), RunNetwork::kDefault);
  EXPECT_EQ(*ParseSecurity(steps[0]), RunSecurity::kSandbox);
  EXPECT_EQ(*ParseNetwork(steps[1]), RunNetwork::kNone);
  EXPECT_EQ(*ParseSecurity(steps[1]), RunSecurity::kInsecure);
  EXPECT_EQ(*ParseNetwork(steps[2]), RunNetwork::kHost);
  Step bad = steps[0];
  bad.flags.emplace_back("network", "bridge");
  EXPECT_FALSE(ParseNetwork(bad));
}

}  // namespace
}  // namespace anyarch::dockerfile

#include <gtest/gtest.h>

#include "build/steps.h"
#include "dockerfile/parser.h"

namespace anyarch::build {
namespace {

// Applies every step of the Dockerfile's last stage to a scratch image and returns its config.
class MetaTest : public ::testing::Test {
 protected:
  Json Apply(const std::string& text, Status* failed = nullptr) {
    auto df = dockerfile::Parse(text);
    if (!df) {
      if (failed) *failed = Unexpected(df.error());
      EXPECT_TRUE(failed) << df.error().ToString();
      return Json();
    }
    df_ = std::move(*df);
    platform::Platform p{.os = "linux", .architecture = "arm64"};
    auto plan = dockerfile::Evaluate(df_, {.target = p, .build = p});
    EXPECT_TRUE(plan) << (plan ? "" : plan.error().ToString());
    plan_ = std::move(*plan);
    StageEnv env{.request = request_,
                 .snapshots = snapshots_,
                 .resolver = resolver_,
                 .fetcher = fetcher_,
                 .context = context_,
                 .platform = p,
                 .target = p,
                 .events = events_,
                 .created = "2026-01-01T00:00:00Z"};
    ImageState state = ScratchState();
    for (const auto& step : plan_.stages.back().steps) {
      if (!IsMetaKind(step.inst->kind)) continue;
      auto s = ApplyMeta(env, state, step);
      if (!s) {
        if (failed) *failed = s;
        return Json();
      }
    }
    args_ = env.args;
    return state.config;
  }
  BuildRequest request_;
  SnapshotStore snapshots_;
  transport::Transports transports_{transport::Env{}};
  Resolver resolver_{transports_, {}};
  Fetcher fetcher_{snapshots_, nullptr};
  SourceTree context_;
  NullEventSink events_;
  dockerfile::Dockerfile df_;
  dockerfile::Plan plan_;
  std::map<std::string, std::string> args_;
};

TEST_F(MetaTest, CmdAndEntrypointInShellAndExecForm) {
  Json c = Apply("FROM scratch\nCMD echo hi\nENTRYPOINT [\"/bin/tool\", \"-v\"]\n");
  EXPECT_EQ(c["config"]["Entrypoint"], Json({"/bin/tool", "-v"}));
  // CMD set in this stage survives a later ENTRYPOINT.
  EXPECT_EQ(c["config"]["Cmd"], Json({"/bin/sh", "-c", "echo hi"}));
  Json s = Apply("FROM scratch\nSHELL [\"/bin/bash\", \"-eu\", \"-c\"]\nCMD make\n");
  EXPECT_EQ(s["config"]["Cmd"], Json({"/bin/bash", "-eu", "-c", "make"}));
  EXPECT_EQ(s["config"]["Shell"], Json({"/bin/bash", "-eu", "-c"}));
}

TEST_F(MetaTest, EnvLabelUserStopsignalVolumeExpose) {
  Json c = Apply(
      "FROM scratch\nENV A=1 B=\"two words\"\nENV A=3\nLABEL org.x=y k=v\nUSER app:app\n"
      "STOPSIGNAL SIGTERM\nVOLUME /data /logs\nVOLUME [\"/a\", \"/b\"]\n"
      "EXPOSE 80 53/UDP 443/tcp\nMAINTAINER someone\n");
  // A variable set again moves to the end, as BuildKit writes it.
  EXPECT_EQ(c["config"]["Env"], Json({"B=two words", "A=3"}));
  EXPECT_EQ(c["config"]["Labels"], Json({{"org.x", "y"}, {"k", "v"}}));
  EXPECT_EQ(c["config"]["User"], "app:app");
  EXPECT_EQ(c["config"]["StopSignal"], "SIGTERM");
  EXPECT_TRUE(c["config"]["Volumes"].contains("/data"));
  EXPECT_TRUE(c["config"]["Volumes"].contains("/logs"));
  EXPECT_TRUE(c["config"]["Volumes"].contains("/a"));
  EXPECT_TRUE(c["config"]["Volumes"].contains("/b"));
  EXPECT_TRUE(c["config"]["ExposedPorts"].contains("80/tcp"));
  EXPECT_TRUE(c["config"]["ExposedPorts"].contains("53/udp"));
  EXPECT_TRUE(c["config"]["ExposedPorts"].contains("443/tcp"));
  EXPECT_EQ(c["author"], "someone");
  // Every instruction but ARG has a history entry, all empty layers.
  for (const auto& h : c["history"]) EXPECT_EQ(h["empty_layer"], true);
}

TEST_F(MetaTest, ArgsReachRunButNotTheConfig) {
  Json c = Apply("FROM scratch\nARG V=1\nARG W\nENV X=$V\n");
  EXPECT_EQ(args_["V"], "1");
  EXPECT_EQ(args_.count("W"), 0u) << "an ARG without a value stays unset";
  EXPECT_EQ(c["config"]["Env"], Json({"X=1"}));
}

TEST_F(MetaTest, Healthcheck) {
  Json c = Apply(
      "FROM scratch\nHEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --retries=3 "
      "CMD curl -f http://localhost/\n");
  const Json& h = c["config"]["Healthcheck"];
  EXPECT_EQ(h["Test"], Json({"CMD-SHELL", "curl -f http://localhost/"}));
  EXPECT_EQ(h["Interval"], 30000000000LL);
  EXPECT_EQ(h["Timeout"], 90000000000LL);
  EXPECT_EQ(h["StartPeriod"], 500000000LL);
  EXPECT_EQ(h["Retries"], 3);
  Json none = Apply("FROM scratch\nHEALTHCHECK NONE\n");
  EXPECT_EQ(none["config"]["Healthcheck"]["Test"], Json({"NONE"}));
  Json exec = Apply("FROM scratch\nHEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n");
  EXPECT_EQ(exec["config"]["Healthcheck"]["Test"], Json({"CMD", "/bin/check", "-q"}));
}

TEST_F(MetaTest, OnbuildKeepsTheTrigger) {
  Json c = Apply("FROM scratch\nONBUILD RUN echo child\nONBUILD COPY . /app\n");
  EXPECT_EQ(c["config"]["OnBuild"], Json({"RUN echo child", "COPY . /app"}));
}

TEST_F(MetaTest, BadValuesNameTheLine) {
  Status failed = Ok();
  Apply("FROM scratch\nEXPOSE eighty\n", &failed);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message().find("Dockerfile:2"), std::string::npos)
      << failed.error().message();
  // The frontend already refuses a bad duration, naming line and column.
  failed = Ok();
  Apply("FROM scratch\nHEALTHCHECK --interval=soon CMD true\n", &failed);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().ToString().find("Dockerfile:2:"), std::string::npos);
}

}  // namespace
}  // namespace anyarch::build

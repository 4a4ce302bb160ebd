#include "build/cache_key.h"

#include <gtest/gtest.h>

namespace anyarch::build {
namespace {

platform::Platform P(const char* arch, const char* variant = "") {
  return {.os = "linux", .architecture = arch, .variant = variant};
}

TEST(CacheKey, EveryInputChangesTheKey) {
  Digest parent = Sha256Of("parent");
  Json def = {{"kind", "RUN"}, {"args", {"/bin/sh", "-c", "make"}}, {"env", {"A=1"}}};
  Digest k = StepKey(parent, P("arm64"), def);
  EXPECT_EQ(k, StepKey(parent, P("arm64"), def)) << "deterministic";
  EXPECT_NE(k, StepKey(Sha256Of("other"), P("arm64"), def)) << "parent";
  EXPECT_NE(k, StepKey(parent, P("amd64"), def)) << "architecture";
  EXPECT_NE(StepKey(parent, P("arm", "v7"), def), StepKey(parent, P("arm", "v6"), def))
      << "variant";
  Json env = def;
  env["env"] = {"A=2"};
  EXPECT_NE(k, StepKey(parent, P("arm64"), env)) << "environment";
  Json args = def;
  args["args"] = {"/bin/sh", "-c", "make all"};
  EXPECT_NE(k, StepKey(parent, P("arm64"), args)) << "instruction";
  Json mounts = def;
  mounts["mounts"] = {"type=cache,target=/root/.cache"};
  EXPECT_NE(k, StepKey(parent, P("arm64"), mounts)) << "mounts";
}

TEST(CacheKey, KeyOrderDoesNotMatter) {
  Json a = {{"x", 1}, {"y", 2}};
  Json b;
  b["y"] = 2;
  b["x"] = 1;
  EXPECT_EQ(StepKey({}, P("amd64"), a), StepKey({}, P("amd64"), b));
}

TEST(CacheKey, BaseKeys) {
  EXPECT_NE(BaseKey("sha256:aa", P("amd64")), BaseKey("sha256:bb", P("amd64")));
  EXPECT_NE(BaseKey("sha256:aa", P("amd64")), BaseKey("sha256:aa", P("arm64")));
  EXPECT_NE(BaseKey("", P("amd64")), BaseKey("sha256:aa", P("amd64")));
}

}  // namespace
}  // namespace anyarch::build

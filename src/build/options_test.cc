// The build's option strings: --output and --secret in buildx's syntax, and what is refused.
#include <gtest/gtest.h>

#include "build/build.h"

namespace anyarch::build {
namespace {

TEST(OptionsTest, Outputs) {
  auto o = ParseOutput("type=oci,dest=out.tar");
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_EQ(o->type, "oci");
  EXPECT_EQ(o->dest, "out.tar");
  auto dir = ParseOutput("some/dir");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->type, "local");
  EXPECT_EQ(dir->dest, "some/dir");
  auto reg = ParseOutput("type=registry,push-by-digest=true");
  ASSERT_TRUE(reg);
  EXPECT_TRUE(reg->push_by_digest);
  EXPECT_FALSE(ParseOutput("type=oci,dest=x,bogus=1"));
}

TEST(OptionsTest, Secrets) {
  auto f = ParseSecret("id=tok,src=./token");
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ(f->id, "tok");
  EXPECT_EQ(f->src, "./token");
  auto e = ParseSecret("id=tok,env=TOKEN");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->env, "TOKEN");
  auto typed = ParseSecret("type=env,id=GITHUB_TOKEN");
  ASSERT_TRUE(typed);
  EXPECT_EQ(typed->env, "GITHUB_TOKEN");
  EXPECT_TRUE(typed->src.empty());
  auto named = ParseSecret("id=npmrc");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->src, "npmrc");  // buildx: a file named like the id
  EXPECT_EQ(ParseSecret("src=./f").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(ParseSecret("id=x,type=bogus").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(ParseSecret("id=x,what=1").error().code(), ErrorCode::kInvalid);
}

}  // namespace
}  // namespace anyarch::build

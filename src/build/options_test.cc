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

namespace anyarch::build {
namespace {

TEST(ParseCacheSpec, BuildxSyntax) {
  auto r = ParseCacheSpec("type=registry,ref=127.0.0.1:5000/app:cache,mode=max", true);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->type, "registry");
  EXPECT_EQ(r->location, "127.0.0.1:5000/app:cache");
  EXPECT_TRUE(r->max);
  auto local = ParseCacheSpec("type=local,dest=/tmp/c", true);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->location, "oci:/tmp/c:cache");
  EXPECT_FALSE(local->max) << "mode=min is the default, as in buildx";
  auto bare = ParseCacheSpec("reg.example/app:cache", false);
  ASSERT_TRUE(bare) << "a bare reference is a registry cache for --cache-from";
  EXPECT_EQ(bare->location, "reg.example/app:cache");
  EXPECT_TRUE(ParseCacheSpec("type=local,src=d", false));
  auto inl = ParseCacheSpec("type=inline", true);
  ASSERT_TRUE(inl);
  EXPECT_EQ(inl->type, "inline");
  EXPECT_TRUE(inl->location.empty());
}

TEST(ParseCacheSpec, RefusalsSayWhy) {
  struct Case {
    const char* text;
    bool to;
    const char* says;
  } cases[] = {
      {"type=local,src=d", true, "dest=DIR"},
      {"type=local,dest=d", false, "src=DIR"},
      {"type=registry", true, "ref=REF"},
      {"type=inline,mode=max", true, "mode=max cannot be inline"},
      {"type=inline", false, "type must be registry"},
      {"type=registry,ref=r/x,mode=all", true, "expected min or max"},
      {"type=registry,ref=r/x,color=red", true, "unknown key color"},
      {"type=registry,ref=oci:/x", true, "registry reference"},
      {"type=local,dest=a:b", true, "may not contain ':'"},
      {"reg.example/app:cache", true, "not KEY=VALUE"},
  };
  for (const auto& c : cases) {
    auto r = ParseCacheSpec(c.text, c.to);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalid) << c.text;
    EXPECT_NE(r.error().message().find(c.says), std::string::npos)
        << c.text << ": " << r.error().message();
  }
}

}  // namespace
}  // namespace anyarch::build

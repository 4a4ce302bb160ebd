#include "registry/wire.h"

#include <gtest/gtest.h>

#include "registry/credentials.h"

namespace anyarch::registry {
namespace {

TEST(ErrorBody, FirstEntryOrNothing) {
  auto e = ParseErrorBody(
      R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}},)"
      R"({"code":"OTHER"}]})");
  EXPECT_EQ(e.code, "MANIFEST_UNKNOWN");
  EXPECT_EQ(e.message, "manifest unknown");
  for (const char* body : {"<html>502</html>", "", "[]", R"({"errors":{}})", R"({"errors":[]})",
                           R"({"errors":[7]})", R"({"errors":[{"code":1,"message":[]}]})"}) {
    auto none = ParseErrorBody(body);
    EXPECT_EQ(none.code, "") << body;
    EXPECT_EQ(none.message, "") << body;
  }
}

TEST(TokenResponse, TokenAndClampedLifetime) {
  struct Case {
    const char* body;
    const char* token;
    std::int64_t expires_in;
  } cases[] = {
      {R"({"token":"t","expires_in":300})", "t", 300},
      {R"({"access_token":"a","token":"t"})", "a", 60},  // OAuth2's name first
      {R"({"token":"t","expires_in":5})", "t", 60},      // the spec's minimum
      {R"({"token":"t","expires_in":-7})", "t", 60},
      {R"({"token":"t","expires_in":1e300})", "t", kMaxTokenLifetime},
      {R"({"token":"t","expires_in":18446744073709551615})", "t", kMaxTokenLifetime},
      {R"({"token":"t","expires_in":"300"})", "t", 60},
      {R"({"token":"t","expires_in":120.9})", "t", 120},
  };
  for (const auto& c : cases) {
    auto t = ParseTokenResponse(c.body, "the token server");
    ASSERT_TRUE(t) << c.body << ": " << t.error().ToString();
    EXPECT_EQ(t->token, c.token) << c.body;
    EXPECT_EQ(t->expires_in, c.expires_in) << c.body;
  }
  auto garbage = ParseTokenResponse(std::string_view("\x00\xff<html>", 8), "the token server");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(garbage.error().message().find("the token server sent no JSON"), std::string::npos);
  for (const char* body : {R"({"token":""})", R"({"token":7})", R"({"expires_in":300})"}) {
    auto none = ParseTokenResponse(body, "the token server");
    ASSERT_FALSE(none) << body;
    EXPECT_EQ(none.error().code(), ErrorCode::kUnauthorized) << body;
  }
}

TEST(NextLink, FindsRelNextAmongSeveral) {
  struct Case {
    const char* header;
    std::optional<std::string> want;
  } cases[] = {
      {R"(</v2/a/tags/list?last=b&n=2>; rel="next")", "/v2/a/tags/list?last=b&n=2"},
      {R"(</p>; rel="prev", </n>; rel="next")", "/n"},
      {R"(</n>; rel="next last")", "/n"},
      {R"(</n>;rel=NEXT)", "/n"},
      {R"(<a,b>; title="x, <y>"; rel=next)", "a,b"},
      {R"(</p>; rel="prev")", std::nullopt},
      {R"(</p>; title="next")", std::nullopt},  // "next" outside rel does not count
      {R"(</p; rel="next")", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(NextLink(c.header), c.want) << c.header;
}

TEST(ContentRange, OrderedAndWithinTheTotal) {
  auto r = ParseContentRange("bytes 100-199/1000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 100u);
  EXPECT_EQ(r->last, 199u);
  EXPECT_EQ(r->total, 1000u);
  auto star = ParseContentRange(" Bytes 0-0/* ");
  ASSERT_TRUE(star);
  EXPECT_FALSE(star->total);
  for (const char* bad : {"bytes 5-4/10", "bytes 0-10/10", "bytes -1-2/3", "bytes 1-2", "1-2/3",
                          "bytes 18446744073709551616-1/2", "bytes 1 -2/3", "bytes */10", ""}) {
    EXPECT_FALSE(ParseContentRange(bad)) << bad;
  }
}

TEST(HelperOutput, SecretOrNothingAndNoSecretInErrors) {
  auto c = ParseHelperOutput(R"({"ServerURL":"r","Username":"u","Secret":"s3cr3t"})", "h", "r");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->username, "u");
  EXPECT_EQ((*c)->secret, "s3cr3t");
  auto empty = ParseHelperOutput(R"({"Username":"u"})", "h", "r");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(*empty);
  auto bad = ParseHelperOutput("s3cr3t is not JSON", "h", "r");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(bad.error().message().find("s3cr3t"), std::string::npos);
}

TEST(ConfigJson, AuthsAndHelpersWithoutRunningAnything) {
  auto cfg = *ParseJson(
      R"({"auths":{"https://r.example/v1/":{"auth":"dTpzM2NyM3Q="},"q":{"auth":"bm9jb2xvbg=="}},)"
      R"("credHelpers":{"h.example":"pass"},"credsStore":"desktop"})",
      "config.json");
  auto c = FromAuths(cfg, "r.example", "config.json");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->username, "u");
  EXPECT_EQ((*c)->secret, "s3cr3t");
  auto bad = FromAuths(cfg, "q", "config.json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(bad.error().message().find("bm9jb2xvbg"), std::string::npos);
  EXPECT_EQ(HelperFor(cfg, "h.example"), "pass");
  EXPECT_EQ(HelperFor(cfg, "other.example"), "desktop");
}

}  // namespace
}  // namespace anyarch::registry

#include "registry/auth.h"

#include <gtest/gtest.h>

namespace anyarch::registry {
namespace {

TEST(Challenge, Parses) {
  struct Case {
    std::string header, scheme, realm, service, scope;
  } cases[] = {
      {R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull")",
       "bearer", "https://auth.example/token", "registry.example", "repository:a/b:pull"},
      {R"(Basic realm="Registry Realm")", "basic", "Registry Realm", "", ""},
      {R"(bearer realm=https://x/t, service=svc)", "bearer", "https://x/t", "svc", ""},
      {R"(Bearer realm="a\"b",scope="repository:x:pull,push")", "bearer", "a\"b", "",
       "repository:x:pull,push"},
  };
  for (const auto& c : cases) {
    auto ch = ParseChallenge(c.header);
    ASSERT_TRUE(ch) << c.header;
    EXPECT_EQ(ch->scheme, c.scheme) << c.header;
    EXPECT_EQ(ch->params["realm"], c.realm) << c.header;
    EXPECT_EQ(ch->params["service"], c.service) << c.header;
    EXPECT_EQ(ch->params["scope"], c.scope) << c.header;
  }
  EXPECT_FALSE(ParseChallenge("   "));
  EXPECT_EQ(RepositoryScope("a/b", false), "repository:a/b:pull");
  EXPECT_EQ(RepositoryScope("a/b", true), "repository:a/b:pull,push");
}

}  // namespace
}  // namespace anyarch::registry

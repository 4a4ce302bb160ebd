#include "ref/reference.h"

#include <gtest/gtest.h>

namespace anyarch::ref {
namespace {

const std::string kHex(64, 'a');

struct Good {
  std::string input, registry, repository, tag, familiar;
};

TEST(ReferenceParse, Good) {
  const Good cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "busybox:1.36"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "busybox:latest"},
      {"index.docker.io/library/busybox:x", "docker.io", "library/busybox", "x", "busybox:x"},
      {"myorg/app:v1", "docker.io", "myorg/app", "v1", "myorg/app:v1"},
      {"localhost/app", "localhost", "app", "latest", "localhost/app:latest"},
      {"localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", "localhost:5000/a/b/c:t"},
      {"127.0.0.1:5000/busybox:latest", "127.0.0.1:5000", "busybox", "latest",
       "127.0.0.1:5000/busybox:latest"},
      {"[::1]:5000/app:1", "[::1]:5000", "app", "1", "[::1]:5000/app:1"},
      {"ghcr.io/o/r", "ghcr.io", "o/r", "latest", "ghcr.io/o/r:latest"},
      {"Reg.Example/app", "Reg.Example", "app", "latest", "Reg.Example/app:latest"},
      {"a__b/c-d/e.f/g---h:T_9.x-y", "docker.io", "a__b/c-d/e.f/g---h", "T_9.x-y",
       "a__b/c-d/e.f/g---h:T_9.x-y"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.input);
    ASSERT_TRUE(r) << c.input << ": " << r.error().ToString();
    EXPECT_EQ(r->registry, c.registry) << c.input;
    EXPECT_EQ(r->repository, c.repository) << c.input;
    EXPECT_EQ(r->tag, c.tag) << c.input;
    EXPECT_EQ(r->Familiar(), c.familiar) << c.input;
    // The normalised form parses to the same reference.
    auto again = Parse(r->ToString());
    ASSERT_TRUE(again) << r->ToString();
    EXPECT_EQ(*again, *r);
  }
}

TEST(ReferenceParse, Digests) {
  auto r = Parse("busybox@sha256:" + kHex);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tag, "");
  ASSERT_TRUE(r->digest);
  EXPECT_EQ(r->Identifier(), "sha256:" + kHex);
  auto both = Parse("127.0.0.1:5000/x:1@sha256:" + kHex);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->tag, "1");
  EXPECT_EQ(both->ToString(), "127.0.0.1:5000/x:1@sha256:" + kHex);
  auto notag = Parse("busybox", {.default_tag = false});
  ASSERT_TRUE(notag);
  EXPECT_EQ(notag->tag, "");
  EXPECT_EQ(notag->Identifier(), "latest");
}

struct Bad {
  std::string input, mentions;
};

TEST(ReferenceParse, BadNamesThePart) {
  const Bad cases[] = {
      {"", "empty"},
      {"Busybox", "lowercase"},
      {"myorg/App", "lowercase"},
      {"busybox:", "invalid tag"},
      {"busybox:-x", "invalid tag"},
      {"busybox:" + std::string(129, 'a'), "invalid tag"},
      {"busybox:a@b", "bad digest"},
      {"busybox@sha256:abc", "bad digest"},
      {"bad_host:5000x/app", "invalid registry host"},
      {"reg.example:/app", "invalid registry host"},
      {"reg..example/app", "invalid registry host"},
      {"a//b", "empty path component"},
      {"a/b/", "empty path component"},
      {"_a", "invalid repository path component"},
      {"a..b", "invalid repository path component"},
      {"a___b", "invalid repository path component"},
      {"reg.example/", "repository name is missing"},
      {":tag", "repository name is missing"},
      {"docker://busybox", "no scheme"},
      {"busy box", "space"},
      {std::string(250, 'a') + "/" + std::string(10, 'b'), "longer than 255"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.input);
    ASSERT_FALSE(r) << c.input << " parsed as " << r->ToString();
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
    EXPECT_NE(r.error().message().find(c.mentions), std::string::npos)
        << c.input << " -> " << r.error().message();
  }
}

TEST(Reference, Helpers) {
  auto r = *Parse("busybox:1");
  EXPECT_EQ(r.ApiHost(), "registry-1.docker.io");
  EXPECT_EQ(r.Name(), "docker.io/library/busybox");
  EXPECT_EQ(r.WithTag("2").Familiar(), "busybox:2");
  EXPECT_EQ(r.WithRepository("library/other").Familiar(), "other:1");
  EXPECT_EQ(Parse("127.0.0.1:5000/a")->ApiHost(), "127.0.0.1:5000");
}

}  // namespace
}  // namespace anyarch::ref

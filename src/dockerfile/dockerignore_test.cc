#include "dockerfile/dockerignore.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/fs.h"

namespace anyarch::dockerfile {
namespace {

TEST(CleanPath, Table) {
  EXPECT_EQ(CleanPath("/a//b/./c/"), "a/b/c");
  EXPECT_EQ(CleanPath("a/../b"), "b");
  EXPECT_EQ(CleanPath("../../a"), "a");
  EXPECT_EQ(CleanPath(""), ".");
  EXPECT_EQ(CleanPath("./"), ".");
}

struct Case {
  std::string path;
  bool excluded;
};

TEST(DockerIgnore, DockerSemantics) {
  auto m = IgnoreMatcher::Parse(
      "# comment\n"
      "  node_modules  \n"
      "*.md\n"
      "!README.md\n"
      "/build\n"
      "**/*.log\n"
      "docs/**/draft-*\n"
      "tmp/?.txt\n"
      "[ab]*.bak\n"
      "secrets/\n"
      "!secrets/public.pem\n");
  ASSERT_TRUE(m) << m.error().ToString();
  const Case cases[] = {
      {"node_modules", true},
      {"node_modules/x/index.js", true},  // below an excluded directory
      {"src/node_modules", false},        // patterns are anchored at the root
      {"CHANGES.md", true},
      {"README.md", false},      // exception
      {"docs/guide.md", false},  // '*' does not cross '/'
      {"build/out.o", true},
      {"a/b/c/debug.log", true},  // '**' matches any number of directories
      {"debug.log", true},        // ... including none
      {"docs/draft-1.txt", true},
      {"docs/x/y/draft-2.txt", true},
      {"docs/final.txt", false},
      {"tmp/a.txt", true},
      {"tmp/ab.txt", false},
      {"a1.bak", true},
      {"c1.bak", false},
      {"secrets/key", true},
      {"secrets/public.pem", false},
      {"./node_modules", true},
      {"Dockerfile", false},
  };
  for (const auto& c : cases) EXPECT_EQ(m->Excluded(c.path), c.excluded) << c.path;
}

TEST(DockerIgnore, LastMatchWins) {
  auto m = IgnoreMatcher::Parse("!keep.txt\n*.txt\n");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->Excluded("keep.txt"));
  auto n = IgnoreMatcher::Parse("*\n!src\n");
  EXPECT_FALSE(n->Excluded("src/main.go"));
  EXPECT_TRUE(n->Excluded("Makefile"));
}

TEST(DockerIgnore, MalformedPatterns) {
  auto a = IgnoreMatcher::Parse("ok\n[unterminated\n");
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find(":2:"), std::string::npos) << a.error().message();
  EXPECT_FALSE(IgnoreMatcher::Parse("!\n"));
  EXPECT_FALSE(IgnoreMatcher::Parse("trailing\\\n"));
}

TEST(DockerIgnore, DockerfileSpecificFileWins) {
  auto dir = TempDir::Create("dockerignore-test");
  ASSERT_TRUE(dir);
  auto ctx = dir->path();
  ASSERT_TRUE(WriteFileAtomic(ctx / ".dockerignore", "*.a\n"));
  ASSERT_TRUE(WriteFileAtomic(ctx / "app.Dockerfile.dockerignore", "*.b\n"));
  auto general = IgnoreMatcher::ForBuild(ctx.string(), (ctx / "Dockerfile").string());
  ASSERT_TRUE(general);
  EXPECT_TRUE(general->Excluded("x.a"));
  EXPECT_EQ(general->source(), (ctx / ".dockerignore").string());
  auto specific = IgnoreMatcher::ForBuild(ctx.string(), (ctx / "app.Dockerfile").string());
  ASSERT_TRUE(specific);
  EXPECT_TRUE(specific->Excluded("x.b"));
  EXPECT_FALSE(specific->Excluded("x.a"));
  auto none = IgnoreMatcher::ForBuild((ctx / "nowhere").string(), "");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->Excluded("anything"));
}

}  // namespace
}  // namespace anyarch::dockerfile

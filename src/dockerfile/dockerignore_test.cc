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

// "**" as moby/patternmatcher compiles it: it crosses '/' also inside a component.
TEST(DockerIgnore, DoubleStarAnywhere) {
  struct Case {
    std::string pattern;
    std::string path;
    bool excluded;
  };
  const Case cases[] = {
      // A leading "**" followed by text: every path that ends in the text.
      {"**.go", "main.go", true},
      {"**.go", "cmd/app/main.go", true},
      {"**.go", "main.go.txt", false},
      {"**.go", "go", false},
      {"**.go", "cmd/main.go/x", true},  // below an excluded directory
      {"**/*.go", "cmd/app/main.go", true},
      {"**/*.go", "main.go", true},
      {"**/vendor", "a/b/vendor/x", true},
      {"**/vendor", "vendor", true},
      {"**/vendor", "myvendor", false},
      // Inside the pattern, "**" is "any directories": a/**.go is a/ + directories + ".go".
      {"a/**.go", "a/.go", true},
      {"a/**.go", "a/b/c/.go", true},
      {"a/**.go", "a/b/c.go", false},
      {"a/**/b", "a/b", true},
      {"a/**/b", "a/x/y/b", true},
      {"a/**/b", "a/x/yb", false},
      {"a**/*.txt", "a/file.txt", true},
      {"a**/*.txt", "a/dir/dir/file.txt", true},
      {"**/dir2/*", "dir/dir2/file", true},
      {"**/.foo", "bar.foo", false},
      {"**/.foo", ".foo", true},
      {"a/**b", "a/x/b", true},
      // A trailing "**": everything below; after plain text, a prefix.
      {"a/**", "a/x/y", true},
      {"a/**", "a", false},
      {"foo**", "foobar/x", true},
      {"foo**", "xfoo", false},
      {"a*/**", "ab/c/d", true},
      {"**", "anything/at/all", true},
      // '*' and '?' stay within a component.
      {"a/*.go", "a/b/c.go", false},
      {"a?c", "a/c", false},
      // Character classes, as in Go's regexp: '^' negates, '!' is a member.
      {"[^a]b", "xb", true},
      {"[^a]b", "ab", false},
      {"[!a]b", "!b", true},
      {"[!a]b", "xb", false},
      {"[a-c]x", "bx", true},
      {"\\*x", "*x", true},
      {"\\*x", "ax", false},
  };
  for (const auto& c : cases) {
    auto m = IgnoreMatcher::Parse(c.pattern + "\n");
    ASSERT_TRUE(m) << c.pattern << ": " << m.error().ToString();
    EXPECT_EQ(m->Excluded(c.path), c.excluded) << c.pattern << " vs " << c.path;
  }
}

// Patterns are cleaned like Go's filepath.Clean: one that climbs out of the context matches
// nothing; a rooted one cannot climb above the root.
TEST(DockerIgnore, PatternsOutsideTheContextMatchNothing) {
  struct Case {
    std::string pattern;
    std::string text;  // cleaned
    std::string path;
    bool excluded;
  };
  const Case cases[] = {
      {"../foo", "../foo", "foo", false}, {"x/../../foo", "../foo", "foo", false},
      {"../*", "../*", "foo", false},     {"/../foo", "foo", "foo", true},
      {"a/../foo", "foo", "foo", true},   {"./foo/", "foo", "foo/x", true},
  };
  for (const auto& c : cases) {
    auto m = IgnoreMatcher::Parse(c.pattern + "\n");
    ASSERT_TRUE(m) << c.pattern;
    ASSERT_EQ(m->patterns().size(), 1u);
    EXPECT_EQ(m->patterns()[0].text, c.text) << c.pattern;
    EXPECT_EQ(m->Excluded(c.path), c.excluded) << c.pattern << " vs " << c.path;
  }
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

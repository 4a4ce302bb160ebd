#include "build/source_tree.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace anyarch::build {
namespace {

namespace fs = std::filesystem;

class SourceTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::Create("tree-test");
    ASSERT_TRUE(t);
    tmp_ = std::move(*t);
    root_ = tmp_.path() / "ctx";
    fs::create_directories(root_ / "src/sub");
    Write("src/a.go", "package a");
    Write("src/b.go", "package b");
    Write("src/sub/c.txt", "c");
    Write("README.md", "readme");
  }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }
  SourceTree Open(const dockerfile::IgnoreMatcher* ignore = nullptr) {
    auto t = SourceTree::Open(root_.string(), "the build context", ignore);
    EXPECT_TRUE(t);
    return std::move(*t);
  }
  TempDir tmp_;
  fs::path root_;
};

TEST_F(SourceTreeTest, MatchesPathsAndWildcards) {
  auto t = Open();
  auto one = t.Match("src/a.go");
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, std::vector<std::string>{"src/a.go"});
  auto glob = t.Match("src/*.go");
  ASSERT_TRUE(glob);
  EXPECT_EQ(*glob, (std::vector<std::string>{"src/a.go", "src/b.go"}));
  auto dir = t.Match("./src/../src/");
  ASSERT_TRUE(dir);
  EXPECT_EQ(*dir, std::vector<std::string>{"src"});
  auto root = t.Match(".");
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, std::vector<std::string>{""});
  auto none = t.Match("nope/*.c");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(t.Match("missing.txt"));
}

TEST_F(SourceTreeTest, ExcludedPathsDoNotExistAndSayWhy) {
  auto ignore = dockerfile::IgnoreMatcher::Parse("*.md\nsrc/sub\n");
  ASSERT_TRUE(ignore);
  auto t = Open(&*ignore);
  auto r = t.Match("README.md");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("excluded by"), std::string::npos) << r.error().message();
  auto glob = t.Match("*");
  ASSERT_TRUE(glob);
  EXPECT_EQ(*glob, std::vector<std::string>{"src"});
  // The excluded subdirectory does not count in the hash of its parent.
  auto with = t.Hash("src");
  Write("src/sub/c.txt", "changed");
  auto after = t.Hash("src");
  ASSERT_TRUE(with && after);
  EXPECT_EQ(*with, *after);
}

TEST_F(SourceTreeTest, HashIgnoresTimesAndNamesOfTheTopButNotContent) {
  auto t = Open();
  auto h1 = t.Hash("src");
  ASSERT_TRUE(h1);
  // Touching changes nothing.
  struct timespec times[2] = {{1000, 0}, {2000, 0}};
  ::utimensat(AT_FDCWD, (root_ / "src/a.go").c_str(), times, 0);
  auto h2 = t.Hash("src");
  ASSERT_TRUE(h2);
  EXPECT_EQ(*h1, *h2);
  // The same content under another top name hashes the same (the name is not in a file's hash).
  Write("copy.go", "package a");
  auto a = t.Hash("src/a.go");
  auto c = t.Hash("copy.go");
  ASSERT_TRUE(a && c);
  EXPECT_EQ(*a, *c);
  // Content and mode count; a renamed entry inside the directory counts.
  Write("src/b.go", "package bb");
  auto h3 = t.Hash("src");
  ASSERT_TRUE(h3);
  EXPECT_NE(*h2, *h3);
  ::chmod((root_ / "src/a.go").c_str(), 0600);
  auto h4 = t.Hash("src");
  ASSERT_TRUE(h4);
  EXPECT_NE(*h3, *h4);
  fs::rename(root_ / "src/b.go", root_ / "src/z.go");
  auto h5 = t.Hash("src");
  ASSERT_TRUE(h5);
  EXPECT_NE(*h4, *h5);
}

TEST_F(SourceTreeTest, SymlinksNeverLeaveTheTree) {
  fs::create_symlink("/etc", root_ / "hostetc");
  fs::create_symlink("../../../../../../etc/passwd", root_ / "climb");
  auto t = Open();
  // Named sources resolve inside the tree: /etc here is the context's own (missing) etc.
  EXPECT_FALSE(t.Match("hostetc/passwd"));
  EXPECT_FALSE(t.Match("climb"));
  // Inside a directory, links are hashed as links (their target text), never followed.
  auto h = t.Hash("");
  ASSERT_TRUE(h) << h.error().ToString();
}

TEST(MatchPattern, GoFilepathMatchRules) {
  EXPECT_TRUE(MatchPattern("*.go", "a.go"));
  EXPECT_FALSE(MatchPattern("*.go", "dir/a.go"));
  EXPECT_TRUE(MatchPattern("a?c", "abc"));
  EXPECT_TRUE(MatchPattern("[a-c]x", "bx"));
  EXPECT_FALSE(MatchPattern("[!a-c]x", "bx"));
  EXPECT_TRUE(MatchPattern("\\*", "*"));
}

}  // namespace
}  // namespace anyarch::build

#include "layer/copy_up.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "base/fs.h"

namespace anyarch::layer {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& s, mode_t mode = 0644) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
  ::chmod(p.c_str(), mode);
}

// Gives `to` the mtime (and atime) of `from`, as a copy-up does.
void SameTimes(const fs::path& from, const fs::path& to) {
  struct stat st {};
  ASSERT_EQ(::lstat(from.c_str(), &st), 0);
  const struct timespec t[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, to.c_str(), t, AT_SYMLINK_NOFOLLOW), 0);
}

struct Trees {
  TempDir dir = *TempDir::Create("copy-up-test");
  fs::path lower = dir.path() / "lower", upper = dir.path() / "upper";
  Trees() {
    fs::create_directories(lower);
    fs::create_directories(upper);
  }
  // The same file in both, the upper one a faithful copy.
  void CopyUp(const std::string& rel, const std::string& content, mode_t mode = 0644) {
    Write(lower / rel, content, mode);
    Write(upper / rel, content, mode);
    SameTimes(lower / rel, upper / rel);
  }
};

TEST(DropSpuriousCopyUps, DropsOnlyFilesThatDidNotChange) {
  Trees t;
  t.CopyUp("etc/same", "unchanged\n");
  t.CopyUp("etc/bytes", "aaaa\n");
  Write(t.upper / "etc/bytes", "bbbb\n");  // same size, same mtime, other bytes
  SameTimes(t.lower / "etc/bytes", t.upper / "etc/bytes");
  t.CopyUp("etc/mode", "x\n");
  ::chmod((t.upper / "etc/mode").c_str(), 0600);
  t.CopyUp("etc/time", "x\n");
  Write(t.upper / "etc/new", "new\n");
  SameTimes(t.lower / "etc", t.upper / "etc");
  SameTimes(t.lower, t.upper);
  struct stat before {};
  ASSERT_EQ(::stat((t.upper / "etc").c_str(), &before), 0);
  {  // a later mtime on etc/time
    const struct timespec later[2] = {{0, UTIME_OMIT}, {before.st_mtim.tv_sec + 100, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (t.upper / "etc/time").c_str(), later, 0), 0);
  }
  auto r = DropSpuriousCopyUps(t.upper.string(), t.lower.string());
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->files_dropped, 1u);
  EXPECT_FALSE(fs::exists(t.upper / "etc/same"));
  for (const char* kept : {"etc/bytes", "etc/mode", "etc/time", "etc/new"})
    EXPECT_TRUE(fs::exists(t.upper / kept)) << kept;
  struct stat after {};
  ASSERT_EQ(::stat((t.upper / "etc").c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec) << "the directory's mtime is put back";
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST(DropSpuriousCopyUps, DropsDirectoriesOnlyCopiedUp) {
  Trees t;
  t.CopyUp("a/b/f", "same\n");
  SameTimes(t.lower / "a/b", t.upper / "a/b");
  SameTimes(t.lower / "a", t.upper / "a");
  t.CopyUp("c/f", "same\n");  // c's mtime in upper differs (made now, lower's set back)
  const struct timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (t.lower / "c").c_str(), old, 0), 0);
  auto r = DropSpuriousCopyUps(t.upper.string(), t.lower.string());
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->files_dropped, 2u);
  EXPECT_FALSE(fs::exists(t.upper / "a")) << "a and a/b held only a copy-up";
  EXPECT_TRUE(fs::is_directory(t.upper / "c")) << "c's mtime differs from below: a change";
  EXPECT_FALSE(fs::exists(t.upper / "c/f"));
}

TEST(DropSpuriousCopyUps, KeepsHardLinksAndPathsThroughSymlinksBelow) {
  Trees t;
  t.CopyUp("h", "linked\n");
  ASSERT_EQ(::link((t.upper / "h").c_str(), (t.upper / "h2").c_str()), 0);
  // Below, "s" is a symlink to a directory holding f; above, "s" is a real directory with the
  // same f: the paths are not the same file, so nothing is compared through the link.
  Write(t.lower / "real/f", "via link\n");
  fs::create_directory_symlink("real", t.lower / "s");
  Write(t.upper / "s/f", "via link\n");
  SameTimes(t.lower / "real/f", t.upper / "s/f");
  auto r = DropSpuriousCopyUps(t.upper.string(), t.lower.string());
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->files_dropped, 0u);
  EXPECT_TRUE(fs::exists(t.upper / "h"));
  EXPECT_TRUE(fs::exists(t.upper / "s/f"));
}

}  // namespace
}  // namespace anyarch::layer

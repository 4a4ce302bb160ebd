#include "build/stat_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

#include "base/fs.h"

namespace anyarch::build {
namespace {

namespace fs = std::filesystem;

struct stat StatOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0);
  return st;
}

TEST(StatCache, RemembersAcrossLoadsAndSeesEveryChange) {
  auto dir = *TempDir::Create("statcache-test");
  fs::path store = dir.path() / "store", ctx = dir.path() / "ctx";
  fs::create_directories(ctx);
  std::ofstream(ctx / "f") << "aaaa";
  const std::int64_t later = std::time(nullptr) + 10;  // as if read 10 s after the last change
  Digest d = Sha256Of("aaaa");
  {
    StatCache c = StatCache::Load(store.string(), ctx.string());
    EXPECT_FALSE(c.Find(StatOf(ctx / "f")));
    c.Remember(StatOf(ctx / "f"), d, later);
    ASSERT_TRUE(c.Save());
  }
  StatCache c = StatCache::Load(store.string(), ctx.string());
  auto hit = c.Find(StatOf(ctx / "f"));
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, d);
  // Same size, and the old mtime put back: ctime still moves, so it is a miss.
  struct stat before = StatOf(ctx / "f");
  std::ofstream(ctx / "f") << "bbbb";
  const struct timespec t[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, (ctx / "f").c_str(), t, 0), 0);
  struct stat after = StatOf(ctx / "f");
  ASSERT_EQ(after.st_size, before.st_size);
  if (after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
      after.st_ctim.tv_nsec == before.st_ctim.tv_nsec)
    GTEST_SKIP() << "the filesystem's ctime did not move within this test";
  EXPECT_FALSE(c.Find(after));
  // Another context has a cache of its own.
  StatCache other = StatCache::Load(store.string(), (dir.path()).string());
  EXPECT_FALSE(other.Find(before));
}

TEST(StatCache, RacilyCleanFilesAreNotRemembered) {
  auto dir = *TempDir::Create("statcache-test");
  std::ofstream(dir.path() / "f") << "x";
  StatCache c = StatCache::Load((dir.path() / "store").string(), dir.path().string());
  c.Remember(StatOf(dir.path() / "f"), Sha256Of("x"), std::time(nullptr));  // read just now
  EXPECT_FALSE(c.Find(StatOf(dir.path() / "f")));
}

TEST(StatCache, MalformedFileIsAnEmptyCache) {
  auto dir = *TempDir::Create("statcache-test");
  StatCache first = StatCache::Load((dir.path() / "store").string(), dir.path().string());
  first.Remember(StatOf(dir.path()), Sha256Of("d"), std::time(nullptr) + 10);
  ASSERT_TRUE(first.Save());
  for (const auto& e : fs::recursive_directory_iterator(dir.path() / "store"))
    if (e.is_regular_file())
      std::ofstream(e.path()) << "1 2 x\ngarbage line\n9 9 9 9 9 9 9 9 nope\n";
  StatCache c = StatCache::Load((dir.path() / "store").string(), dir.path().string());
  EXPECT_FALSE(c.Find(StatOf(dir.path())));
}

}  // namespace
}  // namespace anyarch::build

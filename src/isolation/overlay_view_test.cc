#include "isolation/overlay_view.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "base/fs.h"

namespace anyarch::isolation {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(OverlayView, WritesLandInTheUpperAndMountsVanish) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto t = TempDir::Create("ovl-test");
  ASSERT_TRUE(t);
  fs::path lower = t->path() / "lower", upper = t->path() / "upper", work = t->path() / "work";
  for (const auto& d : {lower, upper, work}) fs::create_directories(d);
  std::ofstream(lower / "base.txt") << "base";
  std::string seen;
  auto st = WithOverlay({.lowers = {lower.string()}, .upper = upper.string(), .work = work.string()},
                        [&](const std::string& merged) -> Status {
                          seen = Read(fs::path(merged) / "base.txt");
                          std::ofstream(fs::path(merged) / "new.txt") << "new";
                          fs::remove(fs::path(merged) / "base.txt");
                          return Ok();
                        });
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(seen, "base");
  EXPECT_EQ(Read(upper / "new.txt"), "new");
  struct stat wh {};
  ASSERT_EQ(::lstat((upper / "base.txt").c_str(), &wh), 0);
  EXPECT_TRUE(S_ISCHR(wh.st_mode)) << "a removal is a whiteout in the upper";
  EXPECT_EQ(Read(lower / "base.txt"), "base") << "the lower is never changed";
  // The mount was private to the worker thread: nothing is mounted here.
  std::string mounts = Read("/proc/self/mounts");
  EXPECT_EQ(mounts.find(upper.string()), std::string::npos);
}

TEST(OverlayView, SeveralReadOnlyViews) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto t = TempDir::Create("ovl-test");
  ASSERT_TRUE(t);
  fs::path a = t->path() / "a", b = t->path() / "b", c = t->path() / "c";
  for (const auto& d : {a, b, c}) fs::create_directories(d);
  std::ofstream(a / "f") << "top";
  std::ofstream(b / "f") << "bottom";
  std::ofstream(b / "g") << "only-b";
  std::ofstream(c / "h") << "c";
  std::vector<std::string> got;
  auto st = WithOverlays({{.lowers = {a.string(), b.string()}}, {.lowers = {c.string()}}},
                         [&](const std::vector<std::string>& m) -> Status {
                           got = {Read(fs::path(m[0]) / "f"), Read(fs::path(m[0]) / "g"),
                                  Read(fs::path(m[1]) / "h")};
                           std::ofstream probe(fs::path(m[1]) / "x");
                           EXPECT_FALSE(probe.good()) << "a view without upper is read-only";
                           return Ok();
                         });
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(got, (std::vector<std::string>{"top", "only-b", "c"}));
}

TEST(OverlayView, ErrorsFromTheCallbackComeBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto t = TempDir::Create("ovl-test");
  ASSERT_TRUE(t);
  auto st = WithOverlay({.lowers = {t->path().string()}},
                        [](const std::string&) -> Status { return MakeError(ErrorCode::kIo, "boom"); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "boom");
  EXPECT_FALSE(WithOverlay({}, [](const std::string&) { return Ok(); }));
}

}  // namespace
}  // namespace anyarch::isolation

// User lookup in an image: names, numbers and groups, malformed input, symlinks out of it.
#include "rootfs/user.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/fs.h"

namespace anyarch::rootfs {
namespace {

namespace fs = std::filesystem;

class UserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("user-test");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
    root_ = dir_.path() / "rootfs";
    fs::create_directories(root_ / "etc");
  }
  void Write(const std::string& rel, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(root_ / rel, text));
  }
  TempDir dir_;
  fs::path root_;
};

TEST_F(UserTest, NamesNumbersAndGroups) {
  Write("etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\n"
        "# a comment\n"
        "app:x:1000:1001::/home/app:/bin/sh\n"
        "nobody:x:65534:65534::/:/bin/false\n");
  Write("etc/group", "root:x:0:\nstaff:x:50:app\n");
  auto ids = [&](const std::string& spec) {
    auto r = ResolveUser(root_, spec);
    EXPECT_TRUE(r) << spec << ": " << r.error().ToString();
    return r ? std::make_pair(r->uid, r->gid) : std::make_pair(~0u, ~0u);
  };
  EXPECT_EQ(ids(""), std::make_pair(0u, 0u));
  EXPECT_EQ(ids("app"), std::make_pair(1000u, 1001u));
  EXPECT_EQ(ids("app:staff"), std::make_pair(1000u, 50u));
  EXPECT_EQ(ids("app:7"), std::make_pair(1000u, 7u));
  // A number takes the gid of the passwd entry with that uid, else 0 (as Docker does).
  EXPECT_EQ(ids("1000"), std::make_pair(1000u, 1001u));
  EXPECT_EQ(ids("4242"), std::make_pair(4242u, 0u));
  EXPECT_EQ(ids("4242:4243"), std::make_pair(4242u, 4243u));
  EXPECT_EQ(ids("4294967294"), std::make_pair(4294967294u, 0u));
  EXPECT_EQ(ResolveUser(root_, "bob").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ResolveUser(root_, "app:wheel").error().code(), ErrorCode::kNotFound);
}

TEST_F(UserTest, SupplementaryGroupsStartWithThePrimaryGid) {
  Write("etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\n"
        "app:x:1000:1001::/home/app:/bin/sh\n");
  Write("etc/group",
        "root:x:0:\nwheel:x:10:root\nstaff:x:50:bob,app\ndev:x:60:app\napp:x:1001:app\n");
  auto groups = [&](const std::string& spec) {
    auto r = ResolveUser(root_, spec);
    EXPECT_TRUE(r) << spec << ": " << r.error().ToString();
    return r ? r->groups : std::vector<unsigned>{};
  };
  EXPECT_EQ(groups(""), (std::vector<unsigned>{0, 10}));
  EXPECT_EQ(groups("app"), (std::vector<unsigned>{1001, 50, 60}));
  EXPECT_EQ(groups("1000"), (std::vector<unsigned>{1001, 50, 60}));
  // An explicit group is the only one (memberships count only in the implicit form).
  EXPECT_EQ(groups("app:staff"), (std::vector<unsigned>{50}));
  EXPECT_EQ(groups("4242"), (std::vector<unsigned>{0}));
}

TEST_F(UserTest, MalformedInputIsAnErrorNotACrash) {
  Write("etc/passwd",
        "bob:x:abc:100::/:/bin/sh\n"
        "eve:x:1001:99999999999999999999::/:/bin/sh\n"
        "short:x\n"
        "app:x:1000:1000::/:/bin/sh\n");
  Write("etc/group", "bad:x:-1:\n");
  for (const char* spec : {"99999999999999999999", "4294967295", "0:99999999999999999999"}) {
    auto r = ResolveUser(root_, spec);
    ASSERT_FALSE(r) << spec;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalid) << spec;
    EXPECT_NE(r.error().message().find("is not a valid"), std::string::npos) << r.error().message();
  }
  auto bob = ResolveUser(root_, "bob");
  ASSERT_FALSE(bob);
  EXPECT_EQ(bob.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(bob.error().message().find("invalid uid \"abc\""), std::string::npos)
      << bob.error().message();
  EXPECT_EQ(ResolveUser(root_, "eve").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(ResolveUser(root_, "short").error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(ResolveUser(root_, "app:bad").error().code(), ErrorCode::kInvalid);
  // Other users' broken lines do not matter.
  auto app = ResolveUser(root_, "app");
  ASSERT_TRUE(app) << app.error().ToString();
  EXPECT_EQ(app->uid, 1000u);
  EXPECT_EQ(ResolveUser(root_, "1000")->gid, 1000u);
}

// /etc/passwd as an absolute symlink: it means the image's file, never the host's.
TEST_F(UserTest, SymlinksResolveInsideTheImage) {
  fs::path host = dir_.path() / "host";
  fs::create_directories(host);
  ASSERT_TRUE(WriteFileAtomic(host / "passwd", "evil:x:4242:4242::/:/bin/sh\n"));
  fs::create_symlink(host / "passwd", root_ / "etc/passwd");
  EXPECT_EQ(ResolveUser(root_, "evil").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ResolveUser(root_, "4242")->gid, 0u);
  for (bool openat2 : {true, false}) {
    SCOPED_TRACE(openat2 ? "openat2" : "fallback");
    auto r = ReadFileInRoot(root_, "etc/passwd", 1 << 20, openat2);
    ASSERT_FALSE(r);
  }
  // A link that stays inside the image is followed where the kernel allows it.
  fs::remove(root_ / "etc/passwd");
  fs::create_directories(root_ / "usr/share");
  ASSERT_TRUE(WriteFileAtomic(root_ / "usr/share/passwd", "app:x:7:8::/:/bin/sh\n"));
  fs::create_symlink("/usr/share/passwd", root_ / "etc/passwd");
  auto app = ResolveUser(root_, "app");
  ASSERT_TRUE(app) << app.error().ToString();
  EXPECT_EQ(app->gid, 8u);
  auto strict = ReadFileInRoot(root_, "etc/passwd", 1 << 20, false);
  ASSERT_FALSE(strict);
  EXPECT_NE(strict.error().message().find("symbolic links"), std::string::npos);
  // A symlinked directory on the way, pointing out of the image.
  fs::remove(root_ / "etc/passwd");
  fs::rename(root_ / "etc", root_ / "etc.orig");
  fs::create_symlink(host, root_ / "etc");
  EXPECT_EQ(ResolveUser(root_, "evil").error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(ReadFileInRoot(root_, "etc/passwd", 1 << 20, false));
  // A fifo does not hang the lookup.
  fs::remove(root_ / "etc");
  fs::create_directories(root_ / "etc");
  ASSERT_EQ(::mkfifo((root_ / "etc/passwd").c_str(), 0644), 0);
  EXPECT_EQ(ResolveUser(root_, "app").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ReadFileInRoot(root_, "etc/passwd", 1 << 20).error().code(), ErrorCode::kInvalid);
}

}  // namespace
}  // namespace anyarch::rootfs

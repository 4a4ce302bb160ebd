// anyarch run's pieces that need no namespaces: the snapshot cache (diff_id checks, nothing
// published on failure) and user lookup in the image (malformed input, symlinks out of it).
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "base/fs.h"
#include "base/io.h"
#include "image/media_types.h"
#include "ops/run.h"
#include "ops/snapshot.h"
#include "ops/user.h"

namespace anyarch::ops {
namespace {

namespace fs = std::filesystem;

// A tar of regular files (path -> content).
std::string MakeTar(const std::map<std::string, std::string>& files) {
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& [path, data] : files) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, path.c_str());
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_size(ae, static_cast<la_int64_t>(data.size()));
    archive_write_header(a, ae);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

class MemorySource final : public image::ImageSource {
 public:
  image::Descriptor Add(const std::string& bytes) {
    image::Descriptor d;
    d.media_type = "application/vnd.oci.image.layer.v1.tar";
    d.digest = Sha256Of(bytes);
    d.size = static_cast<std::int64_t>(bytes.size());
    blobs_[d.digest] = bytes;
    return d;
  }
  std::string Describe() const override { return "memory"; }
  Result<image::RawManifest> GetRootManifest() override {
    return MakeError(ErrorCode::kNotFound, "no manifest");
  }
  Result<image::RawManifest> GetManifest(const image::Descriptor&) override {
    return MakeError(ErrorCode::kNotFound, "no manifest");
  }
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& d) override {
    auto it = blobs_.find(d.digest);
    if (it == blobs_.end()) return MakeError(ErrorCode::kNotFound, "no blob");
    return std::unique_ptr<Reader>(std::make_unique<VerifyingReader>(
        std::make_unique<StringReader>(it->second), d.digest, d.size, d.digest.ToString()));
  }

 private:
  std::map<Digest, std::string> blobs_;
};

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("snapshot-test");
    ASSERT_TRUE(d);
    store_ = std::move(*d);
  }
  // Lists <store>/snapshots, hidden entries included.
  std::vector<std::string> Snapshots() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(store_.path() / "snapshots", ec))
      names.push_back(e.path().filename().string());
    return names;
  }
  TempDir store_;
};

TEST_F(SnapshotTest, LayersThatAreNotTheirDiffIdsAreNeverCached) {
  MemorySource src;
  std::string good = MakeTar({{"etc/os-release", "good\n"}});
  std::string evil = MakeTar({{"etc/os-release", "evil\n"}});
  image::Manifest m;
  m.layers.push_back(src.Add(MakeTar({{"bin/sh", "shell"}})));
  m.layers.push_back(src.Add(evil));
  image::ImageConfig cfg;
  // The config claims the good layer: the blob digest matches the manifest, yet the content is
  // not what the chain ID names.
  cfg.diff_ids = {Sha256Of(MakeTar({{"bin/sh", "shell"}})), Sha256Of(good)};
  std::vector<std::string> skipped;
  auto r = UnpackSnapshot(src, m, cfg, store_.path().string(), DiscardReporter(), skipped);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDigestMismatch);
  std::string msg = r.error().ToString();
  EXPECT_NE(msg.find("layer 2 (" + m.layers[1].digest.ToString() + ")"), std::string::npos) << msg;
  EXPECT_NE(msg.find(Sha256Of(good).ToString()), std::string::npos) << msg;  // expected
  EXPECT_NE(msg.find(Sha256Of(evil).ToString()), std::string::npos) << msg;  // got
  // Nothing under the chain ID, and no half-built directory left either.
  EXPECT_EQ(Snapshots(), std::vector<std::string>{});

  // The same chain with the right content is unpacked and published under the chain ID.
  MemorySource ok;
  image::Manifest m2;
  m2.layers.push_back(ok.Add(MakeTar({{"bin/sh", "shell"}})));
  m2.layers.push_back(ok.Add(good));
  auto r2 = UnpackSnapshot(ok, m2, cfg, store_.path().string(), DiscardReporter(), skipped);
  ASSERT_TRUE(r2) << r2.error().ToString();
  EXPECT_EQ(*r2, store_.path() / "snapshots" / ChainId(cfg.diff_ids).hex() / "rootfs");
  EXPECT_EQ(*ReadFile(*r2 / "etc/os-release"), "good\n");
  EXPECT_EQ(Snapshots(), std::vector<std::string>{ChainId(cfg.diff_ids).hex()});
}

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
}  // namespace anyarch::ops

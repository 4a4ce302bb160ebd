// The snapshot cache: layers are checked against their diff_ids and nothing is published on
// failure.
#include "rootfs/snapshot.h"

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
#include "rootfs/chain_id.h"

namespace anyarch::rootfs {
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

}  // namespace
}  // namespace anyarch::rootfs

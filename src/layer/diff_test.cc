#include "layer/diff.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "base/fs.h"
#include "base/io.h"
#include "layer/tar_stream.h"

namespace anyarch::layer {
namespace {

namespace fs = std::filesystem;

void WriteText(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

struct Seen {
  Entry entry;
  std::string content;
};

std::vector<Seen> ReadLayer(const fs::path& blob) {
  auto r = FileReader::Open(blob);
  EXPECT_TRUE(r) << r.error().ToString();
  std::vector<Seen> out;
  auto st = WalkTar(**r, [&](const Entry& e, const EntryReader& read) -> Status {
    Seen s{e, {}};
    if (e.type == EntryType::kFile) {
      char buf[4096];
      for (;;) {
        ANYARCH_TRY(auto n, read(buf, sizeof buf));
        if (n == 0) break;
        s.content.append(buf, n);
      }
    }
    out.push_back(std::move(s));
    return Ok();
  });
  EXPECT_TRUE(st) << st.error().ToString();
  return out;
}

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::Create("diff-test");
    ASSERT_TRUE(t);
    tmp_ = std::move(*t);
    upper_ = tmp_.path() / "upper";
    blobs_ = tmp_.path() / "blobs";
    fs::create_directories(upper_);
    fs::create_directories(blobs_);
  }
  TempDir tmp_;
  fs::path upper_, blobs_;
};

TEST_F(DiffTest, WritesSortedEntriesWithWhiteoutsLinksAndModes) {
  fs::create_directories(upper_ / "etc");
  WriteText(upper_ / "etc/b.conf", "b\n");
  WriteText(upper_ / "etc/a.conf", "a\n");
  ::chown((upper_ / "etc/a.conf").c_str(), 1000, 1001);
  ::chmod((upper_ / "etc/a.conf").c_str(), 04755);  // after chown, which clears setuid
  fs::create_hard_link(upper_ / "etc/a.conf", upper_ / "etc/z-link");
  fs::create_symlink("../etc/a.conf", upper_ / "etc/sym");
  ASSERT_EQ(::mknod((upper_ / "gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  fs::create_directories(upper_ / "opaque");
  WriteText(upper_ / "opaque/new", "n");
  bool have_trusted = ::setxattr((upper_ / "opaque").c_str(), "trusted.overlay.opaque", "y", 1,
                                 0) == 0;
  ::setxattr((upper_ / "etc/b.conf").c_str(), "user.note", "hi", 2, 0);

  auto blob = WriteLayer(upper_, blobs_, {});
  ASSERT_TRUE(blob) << blob.error().ToString();
  EXPECT_TRUE(fs::exists(blobs_ / blob->digest.hex()));
  EXPECT_EQ(blob->media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  auto seen = ReadLayer(blobs_ / blob->digest.hex());
  std::vector<std::string> paths;
  std::map<std::string, Seen> by;
  for (auto& s : seen) {
    std::string p = s.entry.path;
    if (s.entry.whiteout) p = "WH:" + p;
    if (s.entry.opaque) p = "OPQ:" + p;
    paths.push_back(p);
    by[p] = s;
  }
  std::vector<std::string> want = {"etc",       "etc/a.conf", "etc/b.conf", "etc/sym",
                                   "etc/z-link", "WH:gone",    "opaque"};
  if (have_trusted) want.push_back("OPQ:opaque");
  want.push_back("opaque/new");
  EXPECT_EQ(paths, want);
  EXPECT_EQ(by["etc/a.conf"].entry.mode & 07777, 04755u);
  EXPECT_EQ(by["etc/a.conf"].entry.uid, 1000);
  EXPECT_EQ(by["etc/a.conf"].entry.gid, 1001);
  EXPECT_EQ(by["etc/a.conf"].content, "a\n");
  EXPECT_EQ(by["etc/z-link"].entry.type, EntryType::kHardlink);
  EXPECT_EQ(by["etc/z-link"].entry.link, "etc/a.conf");
  EXPECT_EQ(by["etc/sym"].entry.type, EntryType::kSymlink);
  EXPECT_EQ(by["etc/sym"].entry.link, "../etc/a.conf");
}

TEST_F(DiffTest, DiffIdIsTheUncompressedTarAndDigestTheBlob) {
  WriteText(upper_ / "f", std::string(100000, 'x'));
  auto blob = WriteLayer(upper_, blobs_, {});
  ASSERT_TRUE(blob);
  auto file = blobs_ / blob->digest.hex();
  auto digest = Sha256OfFile(file);
  ASSERT_TRUE(digest);
  EXPECT_EQ(*digest, blob->digest);
  EXPECT_EQ(static_cast<std::int64_t>(fs::file_size(file)), blob->size);
  EXPECT_LT(blob->size, 10000);  // compressed
  auto in = FileReader::Open(file);
  ASSERT_TRUE(in);
  auto plain = Decompress(**in);
  ASSERT_TRUE(plain);
  auto bytes = ReadAll(**plain);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(Sha256Of(*bytes), blob->diff_id);
  EXPECT_EQ(bytes->size() % 512, 0u);
  EXPECT_LT(bytes->size(), 100000u + 4 * 512);  // no 10 KiB record padding
}

TEST_F(DiffTest, SourceDateEpochMakesIdenticalBlobs) {
  WriteText(upper_ / "a", "same");
  fs::create_directories(upper_ / "d");
  auto one = WriteLayer(upper_, blobs_, {.source_date_epoch = 1000});
  ASSERT_TRUE(one);
  // Touch everything: only the mtimes change, and they are clamped.
  ::utimensat(AT_FDCWD, (upper_ / "a").c_str(), nullptr, 0);
  ::utimensat(AT_FDCWD, (upper_ / "d").c_str(), nullptr, 0);
  auto two = WriteLayer(upper_, blobs_, {.source_date_epoch = 1000});
  ASSERT_TRUE(two);
  EXPECT_EQ(one->digest, two->digest);
  EXPECT_EQ(one->diff_id, two->diff_id);
  auto seen = ReadLayer(blobs_ / one->digest.hex());
  ASSERT_FALSE(seen.empty());
}

TEST_F(DiffTest, ZstdAndUncompressed) {
  WriteText(upper_ / "a", std::string(5000, 'z'));
  auto z = WriteLayer(upper_, blobs_, {.compress = {.compression = Compression::kZstd}});
  ASSERT_TRUE(z) << z.error().ToString();
  EXPECT_EQ(z->media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  auto plain = WriteLayer(upper_, blobs_, {.compress = {.compression = Compression::kNone}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->digest, plain->diff_id);
  EXPECT_EQ(z->diff_id, plain->diff_id);
  auto seen = ReadLayer(blobs_ / z->digest.hex());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].content, std::string(5000, 'z'));
}

TEST_F(DiffTest, EmptyUpperIsAnEmptyDiff) {
  EXPECT_TRUE(IsEmptyDiff(upper_));
  WriteText(upper_ / "x", "");
  EXPECT_FALSE(IsEmptyDiff(upper_));
}

}  // namespace
}  // namespace anyarch::layer

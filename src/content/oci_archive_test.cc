// oci-archive: round trips, tags, blobs written once.
#include "content/oci_archive.h"

#include <gtest/gtest.h>

#include "content/layout.h"

#include "support/archive_fixtures.h"

namespace anyarch::content {
namespace {

namespace fs = std::filesystem;
using namespace fixtures;  // NOLINT: the archive fixtures of these tests

// ---------------------------------------------------------------------------------------------
// oci-archive

struct OciCase {
  const char* name;
  Comp comp;
  bool docker;
  std::string tag;
};

TEST_F(ArchiveTest, OciArchiveRoundTrip) {
  const OciCase cases[] = {
      {"docker-gzip", Comp::kGzip, true, "v1"},
      {"oci-plain", Comp::kNone, false, ""},
      {"oci-zstd", Comp::kZstd, false, "latest"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TestImage im = MakeImage(c.name, c.comp, c.docker);
    fs::path file = Path(std::string(c.name) + ".tar");
    {
      auto sink = OpenOciArchiveSink(file, c.tag);
      ASSERT_TRUE(sink) << sink.error().ToString();
      auto st = WriteImage(**sink, im);
      ASSERT_TRUE(st) << st.error().ToString();
    }
    auto src = OpenOciArchiveSource(file, c.tag);
    ASSERT_TRUE(src) << src.error().ToString();
    EXPECT_EQ((*src)->Describe(),
              "oci-archive:" + file.string() + (c.tag.empty() ? "" : ":" + c.tag));
    auto root = (*src)->GetRootManifest();
    ASSERT_TRUE(root) << root.error().ToString();
    EXPECT_EQ(root->bytes, im.manifest.bytes);
    EXPECT_EQ(root->digest, im.manifest.digest);
    EXPECT_EQ(root->media_type, im.manifest.media_type);
    EXPECT_EQ(ReadBlob(**src, im.config_desc).value_or("?"), im.config);
    for (std::size_t i = 0; i < im.layers.size(); ++i) {
      EXPECT_EQ(ReadBlob(**src, im.layer_descs[i]).value_or("?"), im.layers[i]);
    }
    // The file is what the format says: deterministic entries and an index naming the tag.
    auto entries = ListTar(file);
    EXPECT_EQ(entries["oci-layout"].data, R"({"imageLayoutVersion":"1.0.0"})");
    ASSERT_TRUE(entries.contains("blobs/sha256/" + im.manifest.digest.hex()));
    for (const auto& [name, e] : entries) {
      EXPECT_EQ(e.mode, 0644u) << name;
      EXPECT_EQ(e.uid, 0) << name;
      EXPECT_EQ(e.gid, 0) << name;
      EXPECT_EQ(e.mtime, 0) << name;
    }
    auto index = image::ParseIndex(*image::MakeRawManifest(entries["index.json"].data));
    ASSERT_TRUE(index);
    ASSERT_EQ(index->manifests.size(), 1u);
    EXPECT_EQ(index->manifests[0].digest, im.manifest.digest);
    if (c.tag.empty()) {
      EXPECT_TRUE(index->manifests[0].annotations.empty());
    } else {
      EXPECT_EQ(index->manifests[0].annotations.at(kRefNameAnnotation), c.tag);
    }
  }
}

TEST_F(ArchiveTest, OciArchiveIndexRoundTrip) {
  TestImage amd = MakeImage("amd", Comp::kGzip, false, 1, "amd64");
  TestImage arm = MakeImage("arm", Comp::kGzip, false, 1, "arm64");
  auto ad = amd.manifest.ToDescriptor();
  ad.platform = platform::Platform{.os = "linux", .architecture = "amd64"};
  auto rd = arm.manifest.ToDescriptor();
  rd.platform = platform::Platform{.os = "linux", .architecture = "arm64"};
  auto index = image::BuildIndex(image::kOciIndex, {ad, rd});
  ASSERT_TRUE(index);
  fs::path file = Path("multi.tar");
  {
    auto sink = OpenOciArchiveSink(file, "multi");
    ASSERT_TRUE(sink);
    ASSERT_TRUE(PutImage(**sink, amd));
    ASSERT_TRUE(PutImage(**sink, arm));
    // Children before parents: the archive never holds a dangling reference.
    image::RawManifest orphan = *image::BuildIndex(
        image::kOciIndex, {image::Descriptor{.media_type = std::string(image::kOciManifest),
                                             .digest = Sha256Of("nothing"),
                                             .size = 7}});
    auto bad = (*sink)->PutManifest(orphan);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), ErrorCode::kNotFound);
    ASSERT_TRUE((*sink)->PutManifest(*index));
    ASSERT_TRUE((*sink)->Tag(*index));
    auto st = (*sink)->Commit();
    ASSERT_TRUE(st) << st.error().ToString();
  }
  auto src = OpenOciArchiveSource(file, "");
  ASSERT_TRUE(src) << src.error().ToString();
  auto root = (*src)->GetRootManifest();
  ASSERT_TRUE(root);
  EXPECT_EQ(root->bytes, index->bytes);
  EXPECT_EQ(root->media_type, image::kOciIndex);
  auto child = (*src)->GetManifest(rd);
  ASSERT_TRUE(child);
  EXPECT_EQ(child->bytes, arm.manifest.bytes);
  EXPECT_EQ(ReadBlob(**src, arm.layer_descs[0]).value_or("?"), arm.layers[0]);
}

TEST_F(ArchiveTest, OciArchiveTagLookup) {
  fs::path file = Path("a.tar");
  {
    auto sink = OpenOciArchiveSink(file, "v1");
    ASSERT_TRUE(sink);
    ASSERT_TRUE(WriteImage(**sink, MakeImage("t", Comp::kGzip, false, 1)));
  }
  auto missing = OpenOciArchiveSource(file, "v2");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().ToString().find("\"v2\""), std::string::npos);
  EXPECT_NE(missing.error().ToString().find("v1"), std::string::npos);
  EXPECT_NE(missing.error().ToString().find(file.string()), std::string::npos);

  auto nofile = OpenOciArchiveSource(Path("absent.tar"), "");
  ASSERT_FALSE(nofile);
  EXPECT_EQ(nofile.error().code(), ErrorCode::kNotFound);

  WriteBytes(Path("notlayout.tar"), MakeTar({{"hello.txt", 'f', "hi"}}));
  auto notlayout = OpenOciArchiveSource(Path("notlayout.tar"), "");
  ASSERT_FALSE(notlayout);
  EXPECT_EQ(notlayout.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(notlayout.error().ToString().find("oci-layout"), std::string::npos);
}

TEST_F(ArchiveTest, DuplicateBlobsAreWrittenOnce) {
  TestImage im = MakeImage("dup", Comp::kGzip, false, 1);
  fs::path file = Path("dup.tar");
  auto sink = OpenOciArchiveSink(file, "");
  ASSERT_TRUE(sink);
  ASSERT_TRUE(PutImage(**sink, im));
  EXPECT_TRUE(*(*sink)->HasBlob(im.layer_descs[0]));
  ASSERT_TRUE(PutImage(**sink, im));
  ASSERT_TRUE((*sink)->Commit());  // no Tag: the last manifest is the root
  int count = 0;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  ASSERT_EQ(archive_read_open_filename(a, file.c_str(), 65536), ARCHIVE_OK);
  archive_entry* ae;
  while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
    if (std::string(archive_entry_pathname(ae)) == "blobs/sha256/" + im.layer_descs[0].digest.hex())
      ++count;
  }
  archive_read_free(a);
  EXPECT_EQ(count, 1);
  auto src = OpenOciArchiveSource(file, "");
  ASSERT_TRUE(src);
  EXPECT_EQ((*src)->GetRootManifest()->bytes, im.manifest.bytes);
}

}  // namespace
}  // namespace anyarch::content

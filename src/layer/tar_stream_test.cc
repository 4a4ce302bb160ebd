// The checks every reader of layers shares (layer/tar_stream.h): name limits, the diff_id, and a
// blob that is not the size its descriptor says, whichever way it is read.
#include "layer/tar_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "base/fs.h"
#include "layer/unpack.h"
#include "support/gzip.h"

namespace anyarch::layer {
namespace {

struct Item {
  std::string path;
  char type = 'f';   // f file, l symlink, h hard link
  std::string data;  // content or link target
};

la_ssize_t Append(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

std::string Tar(const std::vector<Item>& items) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open2(a, &out, nullptr, Append, nullptr, nullptr);
  for (const auto& i : items) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, i.path.c_str());
    archive_entry_set_perm(ae, 0644);
    if (i.type == 'l') {
      archive_entry_set_filetype(ae, AE_IFLNK);
      archive_entry_set_symlink(ae, i.data.c_str());
    } else if (i.type == 'h') {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, i.data.c_str());
    } else {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_size(ae, static_cast<la_int64_t>(i.data.size()));
    }
    EXPECT_EQ(archive_write_header(a, ae), ARCHIVE_OK) << archive_error_string(a);
    if (i.type == 'f') archive_write_data(a, i.data.data(), i.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

using fixtures::Gzip;  // support/gzip.h

Status Walk(const std::string& bytes) {
  StringReader r(bytes);
  return WalkTar(r, [](const Entry&, const EntryReader&) { return Ok(); });
}

Entry Named(std::string path, EntryType type = EntryType::kFile, std::string link = "") {
  Entry e;
  e.path = e.raw_path = std::move(path);
  e.type = type;
  e.link = std::move(link);
  return e;
}

TEST(CheckEntryLimits, NameAndPathLengths) {
  EXPECT_TRUE(CheckEntryLimits(Named(std::string(kMaxNameBytes, 'a'))));
  auto long_name = CheckEntryLimits(Named("dir/" + std::string(kMaxNameBytes + 1, 'a')));
  ASSERT_FALSE(long_name);
  EXPECT_EQ(long_name.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(long_name.error().message().find("a name of 256 bytes; the limit is 255"),
            std::string::npos);
  // "/" + path may be kMaxPathBytes long, no more.
  std::string deep;
  while (deep.size() + 1 + 100 <= kMaxPathBytes - 1) deep += std::string(99, 'd') + "/";
  deep += std::string(kMaxPathBytes - 1 - deep.size(), 'f');
  EXPECT_TRUE(CheckEntryLimits(Named(deep))) << deep.size();
  auto too_deep = CheckEntryLimits(Named(deep + "x"));
  ASSERT_FALSE(too_deep);
  EXPECT_NE(too_deep.error().message().find("the limit is 4095 (PATH_MAX)"), std::string::npos);
  // Hard link targets are paths in the image; symlink targets only have the length limit.
  EXPECT_FALSE(CheckEntryLimits(Named("l", EntryType::kHardlink, std::string(300, 't'))));
  EXPECT_TRUE(CheckEntryLimits(Named("l", EntryType::kSymlink, std::string(300, 't'))));
  EXPECT_FALSE(CheckEntryLimits(Named("l", EntryType::kSymlink, std::string(4096, 't'))));
}

TEST(WalkTar, RefusesANameNoFilesystemHolds) {
  auto st = Walk(Tar({{std::string(10000, 'n'), 'f', "x"}}));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalid);
  // The message shows the start of the name, not all of it.
  EXPECT_LT(st.error().message().size(), 300u);
}

TEST(WalkLayer, ChecksTheDiffId) {
  std::string plain = Tar({{"etc/motd", 'f', "hello"}});
  StringReader ok(Gzip(plain));
  auto got = WalkLayer(ok, Sha256Of(plain), [](const Entry&, const EntryReader&) { return Ok(); });
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, Sha256Of(plain));
  StringReader bad(Gzip(plain));
  auto wrong = WalkLayer(bad, Sha256Of(std::string("other")),
                         [](const Entry&, const EntryReader&) { return Ok(); });
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kDigestMismatch);
}

// A blob shorter than its descriptor says: the error surfaces only past the end of the gzip
// data, where a decoder's look-ahead read it. Walking, decompressing and applying must all fail.
TEST(LyingSize, EveryReaderOfALayerRefusesIt) {
  std::string blob = Gzip(Tar({{"etc/motd", 'f', "hello"}}));
  auto lying = [&](std::int64_t size) {
    return std::make_unique<VerifyingReader>(std::make_unique<StringReader>(blob), Sha256Of(blob),
                                             size, "blob");
  };
  for (std::int64_t size :
       {static_cast<std::int64_t>(blob.size()) + 100, static_cast<std::int64_t>(blob.size()) - 1}) {
    SCOPED_TRACE(size);
    auto r1 = lying(size);
    auto walked = WalkTar(*r1, [](const Entry&, const EntryReader&) { return Ok(); });
    ASSERT_FALSE(walked);
    EXPECT_EQ(walked.error().code(), ErrorCode::kDigestMismatch);
    auto r2 = lying(size);
    auto layer =
        WalkLayer(*r2, std::nullopt, [](const Entry&, const EntryReader&) { return Ok(); });
    ASSERT_FALSE(layer);
    EXPECT_EQ(layer.error().code(), ErrorCode::kDigestMismatch);
    auto dir = TempDir::Create("lying-size");
    ASSERT_TRUE(dir);
    auto r3 = lying(size);
    auto applied = ApplyLayer(*r3, dir->path().string(), {.keep_ownership = false});
    ASSERT_FALSE(applied);
    EXPECT_EQ(applied.error().code(), ErrorCode::kDigestMismatch) << applied.error().ToString();
  }
}

}  // namespace
}  // namespace anyarch::layer

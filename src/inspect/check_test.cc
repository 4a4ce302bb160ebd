#include "inspect/check.h"

#include <gtest/gtest.h>

#include <map>

#include "base/io.h"
#include "elf/writer.h"
#include "image/index_walk.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "support/archive_fixtures.h"

namespace anyarch::inspect {
namespace {

using content::fixtures::Desc;
using content::fixtures::Gzip;
using content::fixtures::MakeTar;
using content::fixtures::TarEntry;

// Blobs and manifests in memory. `verify` false serves any bytes for a digest (a source that
// does not check what it serves), to make cycles possible.
class MemorySource final : public image::ImageSource {
 public:
  std::map<Digest, std::string> blobs;
  std::string root;
  bool verify = true;

  std::string Describe() const override { return "memory"; }
  Result<image::RawManifest> GetRootManifest() override { return image::MakeRawManifest(root); }
  Result<image::RawManifest> GetManifest(const image::Descriptor& d) override {
    auto it = blobs.find(d.digest);
    if (it == blobs.end()) return MakeError(ErrorCode::kNotFound, d.digest.ToString());
    ANYARCH_TRY(auto raw, image::MakeRawManifest(it->second, d.media_type));
    if (!verify) raw.digest = d.digest;
    return raw;
  }
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& d) override {
    auto it = blobs.find(d.digest);
    if (it == blobs.end()) return MakeError(ErrorCode::kNotFound, d.digest.ToString());
    return std::unique_ptr<Reader>(
        new VerifyingReader(std::make_unique<StringReader>(it->second), d.digest, d.size, "blob"));
  }
  image::Descriptor Put(std::string_view mt, const std::string& bytes) {
    auto d = Desc(mt, bytes);
    blobs[d.digest] = bytes;
    return d;
  }
};

// The smallest ELF header the reader accepts: 64-bit little endian, ET_EXEC, no program headers.
std::string Elf(std::uint16_t machine) {
  std::string b = std::string(
                      "\x7f"
                      "ELF\x02\x01\x01",
                      7) +
                  std::string(9, '\0');
  elf::PutInt(b, 16, 2, 2, true);
  elf::PutInt(b, 18, machine, 2, true);
  elf::PutInt(b, 20, 1, 4, true);
  elf::PutInt(b, 52, 64, 2, true);
  elf::PutInt(b, 54, 56, 2, true);
  elf::PutInt(b, 58, 64, 2, true);
  b.resize(64);
  return b;
}
constexpr std::uint16_t kX86_64 = 62, kAarch64 = 183;

struct Layer {
  std::vector<TarEntry> entries;
};

// An image of `arch` with these layers; `bad_diff_id` replaces the last layer's diff_id.
image::Descriptor AddImage(MemorySource& src, const std::string& arch,
                           const std::vector<Layer>& layers, bool bad_diff_id = false) {
  std::vector<std::string> ids;
  OrderedJson m = OrderedJson::object();
  m["schemaVersion"] = 2;
  m["mediaType"] = std::string(image::kOciManifest);
  OrderedJson ls = OrderedJson::array();
  for (const auto& l : layers) {
    std::string plain = MakeTar(l.entries);
    ids.push_back("\"" + Sha256Of(plain).ToString() + "\"");
    ls.push_back(image::DescriptorToJson(src.Put(image::kOciLayerGzip, Gzip(plain))));
  }
  if (bad_diff_id) ids.back() = "\"" + Sha256Of(std::string("not this")).ToString() + "\"";
  std::string cfg = R"({"architecture":")" + arch +
                    R"(","os":"linux","rootfs":{"type":"layers","diff_ids":[)" + Join(ids, ",") +
                    "]}}";
  m["config"] = image::DescriptorToJson(src.Put(image::kOciConfig, cfg));
  m["layers"] = ls;
  return src.Put(image::kOciManifest, m.dump());
}

image::Descriptor AddIndex(MemorySource& src, std::vector<image::Descriptor> children) {
  auto raw = image::BuildIndex(image::kOciIndex, children);
  if (!raw) ADD_FAILURE() << raw.error().ToString();
  if (!raw) return {};
  return src.Put(image::kOciIndex, raw->bytes);
}

image::Descriptor WithPlatform(image::Descriptor d, const std::string& p) {
  auto parsed = platform::Parse(p);
  EXPECT_TRUE(parsed) << p;
  if (parsed) d.platform = *parsed;
  return d;
}

Result<std::vector<PlatformCheck>> CheckRoot(MemorySource& src, const image::Descriptor& root,
                                             std::vector<platform::Platform> want = {}) {
  ANYARCH_TRY(auto raw, src.GetManifest(root));
  return CheckImages(src, raw, want, DiscardReporter());
}

TEST(CheckImages, FindsAWrongArchitectureBinaryAndDescribesIt) {
  MemorySource src;
  auto arm = AddImage(src, "arm64",
                      {{{{"bin/", 'd'}, {"bin/ok", 'f', Elf(kAarch64)}}},
                       {{{"usr/bin/hello", 'f', Elf(kX86_64)}}}});
  auto idx = AddIndex(src, {WithPlatform(arm, "linux/arm64")});
  auto r = CheckRoot(src, idx);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 1u);
  const auto& c = r->front();
  EXPECT_EQ(c.elf_files, 2u);
  ASSERT_EQ(c.findings.size(), 1u);
  EXPECT_EQ(c.findings[0].kind, "wrong-platform");
  EXPECT_EQ(Describe(c, c.findings[0]),
            "linux/arm64: /usr/bin/hello is an x86-64 ELF (linux/amd64)");
}

TEST(CheckImages, WalksNestedIndexes) {
  MemorySource src;
  auto amd = AddImage(src, "amd64", {{{{"bin/x", 'f', Elf(kX86_64)}}}});
  auto arm = AddImage(src, "arm64", {{{{"bin/x", 'f', Elf(kX86_64)}}}});
  // Three levels: root -> (no platform) -> (linux/arm64, whose child has none) -> the image.
  auto inner = AddIndex(src, {arm});
  auto middle =
      AddIndex(src, {WithPlatform(amd, "linux/amd64"), WithPlatform(inner, "linux/arm64")});
  auto root = AddIndex(src, {middle});
  auto r = CheckRoot(src, root);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].platform.ToString(), "linux/amd64");
  EXPECT_TRUE((*r)[0].ok());
  EXPECT_EQ((*r)[1].platform.ToString(), "linux/arm64");
  EXPECT_FALSE((*r)[1].ok());
  // --platform chooses among the images of every level.
  auto one = CheckRoot(src, root, {*platform::Parse("linux/arm64")});
  ASSERT_TRUE(one) << one.error().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().manifest_digest, arm.digest.ToString());
}

TEST(CheckImages, NeverPassesHavingCheckedNothing) {
  MemorySource src;
  auto empty = AddIndex(src, {});
  auto r = CheckRoot(src, AddIndex(src, {empty}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find("nothing was verified"), std::string::npos);
  // Only an attestation: no filesystem to check either.
  auto att = AddImage(src, "amd64", {{{{"x", 'f', "json"}}}});
  att.platform = platform::Platform{.os = "unknown", .architecture = "unknown"};
  auto only = CheckRoot(src, AddIndex(src, {att}));
  ASSERT_FALSE(only);
  EXPECT_EQ(only.error().code(), ErrorCode::kNotFound);
}

TEST(ListImages, RefusesCyclesAndDeepNesting) {
  MemorySource src;
  src.verify = false;
  // An index that lists itself: only a source that does not verify can serve one.
  Digest self = Sha256Of(std::string("self"));
  image::Descriptor d{.media_type = std::string(image::kOciIndex), .digest = self, .size = 1};
  src.blobs[self] = image::BuildIndex(image::kOciIndex, {d})->bytes;
  auto raw = src.GetManifest(d);
  ASSERT_TRUE(raw);
  auto r = image::ListImages(src, *raw);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(r.error().ToString().find("index " + self.ToString() + " contains itself"),
            std::string::npos)
      << r.error().ToString();

  MemorySource deep;
  auto img = AddImage(deep, "amd64", {{{{"x", 'f', "x"}}}});
  image::Descriptor top = img;
  for (int i = 0; i < image::kMaxIndexDepth; ++i) top = AddIndex(deep, {top});
  auto ok = image::ListImages(deep, *deep.GetManifest(top));
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->size(), 1u);
  auto too_deep = image::ListImages(deep, *deep.GetManifest(AddIndex(deep, {top})));
  ASSERT_FALSE(too_deep);
  EXPECT_NE(too_deep.error().message().find("nested more than 8 indexes deep"), std::string::npos);
}

TEST(CheckImages, RefusesWhatTheUnpackerRefuses) {
  MemorySource src;
  auto bad_id = AddImage(src, "amd64", {{{{"x", 'f', "x"}}}}, /*bad_diff_id=*/true);
  auto r = CheckRoot(src, bad_id);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDigestMismatch);
  EXPECT_NE(r.error().ToString().find("the image config's diff_id is"), std::string::npos);

  auto link = AddImage(src, "amd64", {{{{"bin/sh", 'h', "", "bin/busybox"}}}});
  r = CheckRoot(src, link);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("which is not in the image"), std::string::npos);

  auto name = AddImage(src, "amd64", {{{{std::string(10000, 'n'), 'f', "x"}}}});
  r = CheckRoot(src, name);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("the limit is 255 (NAME_MAX)"), std::string::npos)
      << r.error().ToString();
}

TEST(CheckImages, ASingleImageOfAnotherPlatformIsNotFound) {
  MemorySource src;
  auto amd = AddImage(src, "amd64", {{{{"x", 'f', "x"}}}});
  auto r = CheckRoot(src, amd, {*platform::Parse("linux/arm64")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace anyarch::inspect

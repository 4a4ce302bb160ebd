#include "image/descriptor.h"

#include <gtest/gtest.h>

#include "base/io.h"

namespace anyarch::image {
namespace {

const char* kEntry = R"({
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "size": 7,
  "platform": {"architecture": "arm", "os": "linux", "variant": "v7"},
  "annotations": {"org.opencontainers.image.ref.name": "1"}
})";

TEST(Descriptor, RoundTrip) {
  auto j = ParseJson(kEntry, "entry");
  ASSERT_TRUE(j);
  auto d = DescriptorFromJson(*j, "entry");
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->size, 7);
  ASSERT_TRUE(d->platform);
  EXPECT_EQ(d->platform->ToString(), "linux/arm/v7");
  auto back = DescriptorFromJson(Json::parse(DescriptorToJson(*d).dump()), "again");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *d);
}

TEST(Descriptor, BadFieldsAreNamed) {
  auto j = Json::parse(R"({"mediaType": "x", "digest": "sha256:zz", "size": 1})");
  auto d = DescriptorFromJson(j, "manifests[2]");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().ToString().find("manifests[2]"), std::string::npos);
  j = Json::parse(
      R"({"mediaType": "x", "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "size": -1})");
  EXPECT_FALSE(DescriptorFromJson(j, "d"));
  j = Json::parse(R"({"mediaType": 3})");
  EXPECT_FALSE(DescriptorFromJson(j, "d"));
}

TEST(VerifyingReader, DetectsTampering) {
  std::string data = "hello world";
  Digest good = Sha256Of(data);
  {
    VerifyingReader r(std::make_unique<StringReader>(data), good, 11, "blob");
    auto all = ReadAll(r);
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, data);
  }
  {
    VerifyingReader r(std::make_unique<StringReader>("hello worle"), good, 11, "blob");
    auto all = ReadAll(r);
    ASSERT_FALSE(all);
    EXPECT_EQ(all.error().code(), ErrorCode::kDigestMismatch);
  }
  {
    VerifyingReader r(std::make_unique<StringReader>(data + "!"), good, 11, "blob");
    EXPECT_EQ(ReadAll(r).error().code(), ErrorCode::kDigestMismatch);
  }
  {
    VerifyingReader r(std::make_unique<StringReader>("hello"), good, 11, "blob");
    EXPECT_EQ(ReadAll(r).error().code(), ErrorCode::kDigestMismatch);
  }
}

}  // namespace
}  // namespace anyarch::image

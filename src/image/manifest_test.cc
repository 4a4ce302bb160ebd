#include "image/manifest.h"

#include <gtest/gtest.h>

#include "image/media_types.h"

namespace anyarch::image {
namespace {

std::string D(char c) { return "sha256:" + std::string(64, c); }

std::string Entry(const std::string& mt, char c, const std::string& arch,
                  const std::string& variant = "") {
  std::string p = R"({"architecture":")" + arch + R"(","os":"linux")" +
                  (variant.empty() ? "" : R"(,"variant":")" + variant + "\"") + "}";
  return R"({"mediaType":")" + mt + R"(","digest":")" + D(c) + R"(","size":100,"platform":)" + p +
         "}";
}

std::string IndexJson() {
  std::string mt(kOciManifest);
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
         Entry(mt, 'a', "amd64") + "," + Entry(mt, 'b', "arm64") + "," +
         Entry(mt, 'c', "arm", "v7") + "," + Entry(mt, 'd', "arm", "v5") + "]}";
}

TEST(Index, ParseKeepsBytesAndDigest) {
  auto raw = MakeRawManifest(IndexJson());
  ASSERT_TRUE(raw) << raw.error().ToString();
  EXPECT_EQ(raw->media_type, kOciIndex);
  EXPECT_EQ(raw->digest, Sha256Of(IndexJson()));
  auto idx = ParseIndex(*raw);
  ASSERT_TRUE(idx) << idx.error().ToString();
  EXPECT_EQ(idx->manifests.size(), 4u);
  EXPECT_EQ(idx->raw.bytes, IndexJson());
}

TEST(Index, SelectPlatformRanksAndFallsBack) {
  auto idx = *ParseIndex(*MakeRawManifest(IndexJson()));
  EXPECT_EQ(SelectPlatform(idx, *platform::Parse("linux/arm64"))->digest.ToString(), D('b'));
  EXPECT_EQ(SelectPlatform(idx, *platform::Parse("linux/arm/v7"))->digest.ToString(), D('c'));
  // v6 has no exact entry: falls back to v5.
  EXPECT_EQ(SelectPlatform(idx, *platform::Parse("linux/arm/v6"))->digest.ToString(), D('d'));
  auto none = SelectPlatform(idx, *platform::Parse("linux/riscv64"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(none.error().message().find("linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v5"),
            std::string::npos)
      << none.error().message();
  auto two =
      SelectPlatforms(idx, {*platform::Parse("linux/amd64"), *platform::Parse("linux/arm64")});
  ASSERT_TRUE(two);
  EXPECT_EQ(two->size(), 2u);
}

// The data-loss case of issue 9: an index with amd64 and arm/v7 has nothing for arm64.
TEST(Index, SelectPlatformNeverSubstitutesAnotherArchitecture) {
  std::string mt(kOciManifest);
  std::string json =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      Entry(mt, 'a', "amd64") + "," + Entry(mt, 'c', "arm", "v6") + "]}";
  auto idx = *ParseIndex(*MakeRawManifest(json));
  auto arm64 = SelectPlatform(idx, *platform::Parse("linux/arm64"));
  ASSERT_FALSE(arm64);
  EXPECT_EQ(arm64.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(arm64.error().message().find("no image for linux/arm64"), std::string::npos);
  EXPECT_NE(arm64.error().message().find("it has linux/amd64, linux/arm/v6"), std::string::npos)
      << arm64.error().message();
  EXPECT_FALSE(SelectPlatform(idx, *platform::Parse("linux/386")));

  platform::Choice choice;
  auto v7 = SelectPlatform(idx, *platform::Parse("linux/arm/v7"), &choice);
  ASSERT_TRUE(v7);
  EXPECT_EQ(v7->digest.ToString(), D('c'));
  EXPECT_FALSE(choice.exact);
  EXPECT_EQ(choice.index, 1u);
  EXPECT_EQ(choice.chosen.ToString(), "linux/arm/v6");

  std::vector<platform::Choice> choices;
  auto both = SelectPlatforms(
      idx, {*platform::Parse("linux/amd64"), *platform::Parse("linux/arm/v7")}, &choices);
  ASSERT_TRUE(both);
  ASSERT_EQ(choices.size(), 2u);
  EXPECT_TRUE(choices[0].exact);
  EXPECT_FALSE(choices[1].exact);
}

TEST(Manifest, ParseOciAndDocker) {
  std::string m =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
      D('1') + R"(","size":10},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":")" +
      D('2') + R"(","size":20}]})";
  auto raw = MakeRawManifest(m, "application/vnd.docker.distribution.manifest.v2+json");
  ASSERT_TRUE(raw);
  auto man = ParseManifest(*raw);
  ASSERT_TRUE(man) << man.error().ToString();
  EXPECT_EQ(man->layers.size(), 1u);
  EXPECT_EQ(man->config.size, 10);
  // OCI without mediaType: inferred.
  std::string oci =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      D('1') + R"(","size":10},"layers":[]})";
  EXPECT_EQ(MakeRawManifest(oci)->media_type, kOciManifest);
}

TEST(Manifest, BadInput) {
  struct Case {
    std::string bytes, transport, mentions;
  };
  const Case cases[] = {
      {"{", "", "malformed JSON"},
      {R"({"schemaVersion":1,"name":"x"})", "", "schema 1"},
      {"[]", "", "not a JSON object"},
      {R"({"schemaVersion":2,"mediaType":"application/x-foo"})", "",
       "unsupported manifest media type"},
      {"{}", std::string(kDockerSchema1Signed), "schema 1"},
  };
  for (const auto& c : cases) {
    auto r = MakeRawManifest(c.bytes, c.transport);
    ASSERT_FALSE(r) << c.bytes;
    EXPECT_NE(r.error().ToString().find(c.mentions), std::string::npos) << r.error().ToString();
  }
  RawManifest bad_layers{R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + D('1') +
                             R"(","size":1},"layers":{}})",
                         std::string(kOciManifest),
                         {}};
  EXPECT_FALSE(ParseManifest(bad_layers));
  RawManifest mismatch{
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
      std::string(kDockerManifestList),
      {}};
  auto r = ParseIndex(mismatch);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("served as"), std::string::npos);
  std::string big(kMaxManifestSize + 1, ' ');
  auto too_big = MakeRawManifest(big, kOciIndex);
  ASSERT_FALSE(too_big);
  EXPECT_NE(too_big.error().message().find("4 MiB"), std::string::npos);
}

TEST(BuildIndex, DockerListRefusesAnnotations) {
  Descriptor d{
      .media_type = std::string(kDockerManifest), .digest = *Digest::Parse(D('a')), .size = 5};
  d.platform = *platform::Parse("linux/arm/v7");
  EXPECT_EQ(IndexTypeFor({d}, false), kDockerManifestList);
  auto list = BuildIndex(kDockerManifestList, {d});
  ASSERT_TRUE(list) << list.error().ToString();
  auto parsed = ParseIndex(*list);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->manifests.size(), 1u);
  EXPECT_EQ(parsed->manifests[0].platform->variant, "v7");
  EXPECT_FALSE(BuildIndex(kDockerManifestList, {d}, {{"k", "v"}}));
  EXPECT_EQ(IndexTypeFor({d}, true), kOciIndex);
  EXPECT_TRUE(BuildIndex(kOciIndex, {d}, {{"k", "v"}}));
}

TEST(Config, Parse) {
  auto c = ParseConfig(R"({"architecture":"arm","os":"linux","variant":"v7",
    "config":{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/w","User":"1:2"},
    "rootfs":{"type":"layers","diff_ids":[")" +
                       D('e') + R"("]}})");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->platform.ToString(), "linux/arm/v7");
  EXPECT_EQ(c->cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(c->working_dir, "/w");
  EXPECT_EQ(c->user, "1:2");
  EXPECT_EQ(c->diff_ids.size(), 1u);
  EXPECT_FALSE(ParseConfig(R"({"os":"linux"})"));
  EXPECT_FALSE(ParseConfig(R"({"architecture":"amd64","os":"linux","rootfs":{"diff_ids":["x"]}})"));
}

}  // namespace
}  // namespace anyarch::image

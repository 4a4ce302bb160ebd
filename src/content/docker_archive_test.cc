// docker-archive: round trips, layers served as they are, links, errors, names, and skopeo.
#include "content/docker_archive.h"

#include <gtest/gtest.h>

#include "base/process.h"
#include "content/layout.h"
#include "content/oci_archive.h"

#include "support/archive_fixtures.h"

namespace anyarch::content {
namespace {

namespace fs = std::filesystem;
using namespace fixtures;  // NOLINT: the archive fixtures of these tests

// ---------------------------------------------------------------------------------------------
// docker-archive

struct DockerCase {
  const char* name;
  Comp comp;
  bool docker_types;
};

TEST_F(ArchiveTest, DockerArchiveRoundTrip) {
  const DockerCase cases[] = {
      {"plain", Comp::kNone, true},
      {"gzip", Comp::kGzip, true},
      {"zstd", Comp::kZstd, false},
      {"oci-gzip", Comp::kGzip, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TestImage im = MakeImage(c.name, c.comp, c.docker_types, 2);
    fs::path file = Path(std::string(c.name) + ".tar");
    {
      auto sink = OpenDockerArchiveSink(file, "docker.io/library/app:1");
      ASSERT_TRUE(sink);
      auto st = WriteImage(**sink, im);
      ASSERT_TRUE(st) << st.error().ToString();
    }
    // The layout `docker load` reads: uncompressed layers named by diff_id.
    auto entries = ListTar(file);
    std::string d0 = Sha256Of(im.plain[0]).hex(), d1 = Sha256Of(im.plain[1]).hex();
    EXPECT_EQ(entries["manifest.json"].data,
              R"([{"Config":")" + im.config_desc.digest.hex() +
                  R"(.json","RepoTags":["docker.io/library/app:1"],"Layers":[")" + d0 +
                  R"(.tar",")" + d1 + R"(.tar"]}])");
    EXPECT_EQ(entries["repositories"].data, R"({"docker.io/library/app":{"1":")" + d1 + R"("}})");
    EXPECT_EQ(entries[im.config_desc.digest.hex() + ".json"].data, im.config);
    EXPECT_EQ(entries[d0 + ".tar"].data, im.plain[0]);
    EXPECT_EQ(entries[d1 + ".tar"].data, im.plain[1]);
    EXPECT_EQ(entries.size(), 5u);

    for (std::string ref : {"", "app:1", "docker.io/library/app:1", "library/app:1", "@0"}) {
      SCOPED_TRACE(ref);
      auto src = OpenDockerArchiveSource(file, ref);
      ASSERT_TRUE(src) << src.error().ToString();
      auto root = (*src)->GetRootManifest();
      ASSERT_TRUE(root);
      EXPECT_EQ(root->media_type, image::kDockerManifest);
      auto m = image::ParseManifest(*root);
      ASSERT_TRUE(m) << m.error().ToString();
      EXPECT_EQ(m->config.media_type, image::kDockerConfig);
      EXPECT_EQ(m->config.digest, im.config_desc.digest);
      ASSERT_EQ(m->layers.size(), 2u);
      for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(m->layers[i].media_type, "application/vnd.docker.image.rootfs.diff.tar");
        EXPECT_EQ(m->layers[i].digest, Sha256Of(im.plain[i]));
        EXPECT_EQ(ReadBlob(**src, m->layers[i]).value_or("?"), im.plain[i]);
      }
      EXPECT_EQ(ReadBlob(**src, m->config).value_or("?"), im.config);
      auto same = (*src)->GetManifest(root->ToDescriptor());
      ASSERT_TRUE(same);
      EXPECT_EQ(same->bytes, root->bytes);
      // The synthesised manifest equals the original only for plain layers and Docker types.
      EXPECT_EQ(bool((*src)->GetManifest(im.manifest.ToDescriptor())),
                c.comp == Comp::kNone && c.docker_types);
    }
  }
}

struct LayerTypeCase {
  const char* name;
  Comp comp;
  std::string_view manifest_type, config_type, layer_type;
};

TEST_F(ArchiveTest, DockerArchiveSourceServesLayersAsTheyAre) {
  const LayerTypeCase cases[] = {
      {"plain", Comp::kNone, image::kDockerManifest, image::kDockerConfig,
       "application/vnd.docker.image.rootfs.diff.tar"},
      {"gzip", Comp::kGzip, image::kDockerManifest, image::kDockerConfig, image::kDockerLayerGzip},
      {"zstd", Comp::kZstd, image::kOciManifest, image::kOciConfig, image::kOciLayerZstd},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TestImage im = MakeImage(c.name, c.comp, true, 1);
    WriteBytes(Path("in.tar"), DockerSaveTar(im, R"(["example.com:5000/team/app:2"])"));
    auto src = OpenDockerArchiveSource(Path("in.tar"), "example.com:5000/team/app:2");
    ASSERT_TRUE(src) << src.error().ToString();
    auto root = (*src)->GetRootManifest();
    ASSERT_TRUE(root);
    EXPECT_EQ(root->media_type, c.manifest_type);
    auto m = image::ParseManifest(*root);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->config.media_type, c.config_type);
    ASSERT_EQ(m->layers.size(), 1u);
    EXPECT_EQ(m->layers[0].media_type, c.layer_type);
    EXPECT_EQ(m->layers[0].digest, Sha256Of(im.layers[0]));
    EXPECT_EQ(ReadBlob(**src, m->layers[0]).value_or("?"), im.layers[0]);
  }
}

TEST_F(ArchiveTest, DockerArchiveFollowsLinksInsideTheArchive) {
  // skopeo and older docker save write <id>/layer.tar as a symbolic link; docker save links a
  // repeated layer; a hard link does the same job.
  TestImage im = MakeImage("links", Comp::kNone, true, 1);
  std::string cfg_name = im.config_desc.digest.hex() + ".json";
  std::string real = Sha256Of(im.plain[0]).hex() + ".tar";
  std::string tar = MakeTar({
      {cfg_name, 'f', im.config},
      {real, 'f', im.layers[0]},
      {"aaa/", 'd'},
      {"aaa/layer.tar", 'l', "", "../" + real},
      {"bbb/layer.tar", 'h', "", "aaa/layer.tar"},
      {"manifest.json", 'f',
       R"([{"Config":")" + cfg_name + R"(","RepoTags":null,"Layers":["bbb/layer.tar"]}])"},
  });
  WriteBytes(Path("links.tar"), tar);
  auto src = OpenDockerArchiveSource(Path("links.tar"), "");
  ASSERT_TRUE(src) << src.error().ToString();
  EXPECT_TRUE(ReadEverything(**src));
  auto m = image::ParseManifest(*(*src)->GetRootManifest());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->layers[0].digest, Sha256Of(im.plain[0]));
}

struct DockerErrorCase {
  const char* name;
  std::string manifest_json;  // empty: no manifest.json
  std::string reference;
  ErrorCode code;
  std::vector<std::string> mentions;
};

TEST_F(ArchiveTest, DockerArchiveSourceErrors) {
  TestImage im = MakeImage("errs", Comp::kNone, true, 1);
  std::string layer = R"(["l.tar"])";
  const DockerErrorCase cases[] = {
      {"no-manifest", "", "", ErrorCode::kInvalid, {"manifest.json"}},
      {"not-json", "{", "", ErrorCode::kInvalid, {"manifest.json"}},
      {"not-array", "{}", "", ErrorCode::kInvalid, {"manifest.json", "array"}},
      {"item-not-object", "[1]", "", ErrorCode::kInvalid, {"manifest.json", "image 0"}},
      {"config-not-string", R"([{"Config":1,"Layers":[]}])", "", ErrorCode::kInvalid, {"Config"}},
      {"no-layers", R"([{"Config":"c.json"}])", "", ErrorCode::kInvalid, {"Layers"}},
      {"layers-not-strings",
       R"([{"Config":"c.json","Layers":[1]}])",
       "",
       ErrorCode::kInvalid,
       {"Layers"}},
      {"missing-config",
       R"([{"Config":"nope.json","Layers":)" + layer + "}]",
       "",
       ErrorCode::kNotFound,
       {"config", "nope.json"}},
      {"missing-layer",
       R"([{"Config":"c.json","Layers":["gone/layer.tar"]}])",
       "",
       ErrorCode::kNotFound,
       {"layer 0", "gone/layer.tar"}},
      {"unsafe-layer-path",
       R"([{"Config":"c.json","Layers":["../l.tar"]}])",
       "",
       ErrorCode::kInvalid,
       {"../l.tar"}},
      {"layer-count",
       R"([{"Config":"c.json","Layers":["l.tar","l.tar"]}])",
       "",
       ErrorCode::kInvalid,
       {"diff_ids"}},
      {"no-images", "[]", "", ErrorCode::kNotFound, {"no images"}},
      {"two-images",
       R"([{"Config":"c.json","RepoTags":["a:1"],"Layers":["l.tar"]},{"Config":"c.json","RepoTags":["b:1"],"Layers":["l.tar"]}])",
       "",
       ErrorCode::kInvalid,
       {"2 images", "a:1", "b:1"}},
      {"tag-absent",
       R"([{"Config":"c.json","RepoTags":["a:1"],"Layers":["l.tar"]}])",
       "a:2",
       ErrorCode::kNotFound,
       {"\"a:2\"", "a:1"}},
      {"index-absent",
       R"([{"Config":"c.json","RepoTags":["a:1"],"Layers":["l.tar"]}])",
       "@1",
       ErrorCode::kNotFound,
       {"@1"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<TarEntry> entries = {{"c.json", 'f', im.config}, {"l.tar", 'f', im.layers[0]}};
    if (!c.manifest_json.empty()) entries.push_back({"manifest.json", 'f', c.manifest_json});
    fs::path file = Path(std::string(c.name) + ".tar");
    WriteBytes(file, MakeTar(entries));
    auto src = OpenDockerArchiveSource(file, c.reference);
    ASSERT_FALSE(src);
    EXPECT_EQ(src.error().code(), c.code) << src.error().ToString();
    std::string text = src.error().ToString();
    EXPECT_NE(text.find("docker-archive:" + file.string()), std::string::npos) << text;
    for (const auto& m : c.mentions)
      EXPECT_NE(text.find(m), std::string::npos) << m << ": " << text;
  }
}

TEST_F(ArchiveTest, DockerArchiveSinkRefusesAnIndex) {
  TestImage amd = MakeImage("amd", Comp::kGzip, true, 1);
  auto ad = amd.manifest.ToDescriptor();
  ad.platform = platform::Platform{.os = "linux", .architecture = "amd64"};
  auto index = image::BuildIndex(image::kDockerManifestList, {ad});
  ASSERT_TRUE(index);
  fs::path file = Path("x.tar");
  {
    auto sink = OpenDockerArchiveSink(file, "app:1");
    ASSERT_TRUE(sink);
    ASSERT_TRUE(PutImage(**sink, amd));
    auto st = (*sink)->PutManifest(*index);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::kUnsupported);
    EXPECT_NE(st.error().message().find("--platform"), std::string::npos);
    // A second, different image is refused too.
    TestImage other = MakeImage("other", Comp::kGzip, true, 1);
    auto st2 = PutImage(**sink, other);
    ASSERT_FALSE(st2);
    EXPECT_EQ(st2.error().code(), ErrorCode::kUnsupported);
    // The one image is still fine to publish.
    ASSERT_TRUE((*sink)->Tag(amd.manifest));
    ASSERT_TRUE((*sink)->Commit());
  }
  EXPECT_TRUE(OpenDockerArchiveSource(file, "app:1"));
}

TEST_F(ArchiveTest, DockerArchiveSinkChecksDiffIds) {
  for (Comp comp : {Comp::kNone, Comp::kGzip, Comp::kZstd}) {
    SCOPED_TRACE(static_cast<int>(comp));
    TestImage good = MakeImage("diff", comp, comp != Comp::kZstd, 2);
    // Layer 1 claims the diff_id of layer 0.
    TestImage im = MakeImage("diff", comp, comp != Comp::kZstd, 2, "amd64",
                             std::vector<std::string>{Sha256Of(good.plain[0]).ToString(),
                                                      Sha256Of(good.plain[0]).ToString()});
    fs::path out = Path("diff");
    fs::create_directories(out);
    {
      auto sink = OpenDockerArchiveSink(out / "x.tar", "");
      ASSERT_TRUE(sink);
      auto st = PutImage(**sink, im);
      ASSERT_FALSE(st);
      EXPECT_EQ(st.error().code(), ErrorCode::kDigestMismatch);
      EXPECT_NE(st.error().message().find("layer 1"), std::string::npos) << st.error().message();
      EXPECT_NE(st.error().message().find("diff_ids[1]"), std::string::npos);
      EXPECT_FALSE((*sink)->Commit());
    }
    EXPECT_EQ(ListDir(out), std::vector<std::string>{});
  }
}

TEST_F(ArchiveTest, DockerArchiveSinkWritesARepeatedLayerOnce) {
  TestImage one = MakeImage("repeat", Comp::kGzip, true, 1);
  std::string diff = Sha256Of(one.plain[0]).ToString();
  TestImage im =
      MakeImage("repeat", Comp::kGzip, true, 1, "amd64", std::vector<std::string>{diff, diff});
  im.layers.push_back(im.layers[0]);
  im.layer_descs.push_back(im.layer_descs[0]);
  OrderedJson m = OrderedJson::object();
  m["schemaVersion"] = 2;
  m["mediaType"] = std::string(image::kDockerManifest);
  m["config"] = image::DescriptorToJson(im.config_desc);
  m["layers"] = {image::DescriptorToJson(im.layer_descs[0]),
                 image::DescriptorToJson(im.layer_descs[0])};
  im.manifest = *image::MakeRawManifest(m.dump());
  fs::path file = Path("repeat.tar");
  {
    auto sink = OpenDockerArchiveSink(file, "");
    ASSERT_TRUE(sink);
    auto st = WriteImage(**sink, im);
    ASSERT_TRUE(st) << st.error().ToString();
  }
  auto entries = ListTar(file);
  std::string name = Sha256Of(one.plain[0]).hex() + ".tar";
  EXPECT_NE(entries["manifest.json"].data.find("\"" + name + "\",\"" + name + "\""),
            std::string::npos);
  EXPECT_EQ(entries.size(), 3u);  // manifest.json, config, one layer
  auto src = OpenDockerArchiveSource(file, "");
  ASSERT_TRUE(src) << src.error().ToString();
  EXPECT_TRUE(ReadEverything(**src));
}

TEST_F(ArchiveTest, DockerArchiveSinkNames) {
  struct Case {
    std::string repo_tag;
    bool ok;
    std::string repo_tags_json;
  };
  const Case cases[] = {
      {"", true, "[]"},
      {"app", true, R"(["app:latest"])"},
      {"localhost:5000/app", true, R"(["localhost:5000/app:latest"])"},
      {"localhost:5000/app:2", true, R"(["localhost:5000/app:2"])"},
      {"app@sha256:" + std::string(64, 'a'), false, ""},
      {"app:1 x", false, ""},
      {"app:", false, ""},
  };
  TestImage im = MakeImage("names", Comp::kGzip, true, 1);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.repo_tag);
    fs::path file = Path("n.tar");
    auto sink = OpenDockerArchiveSink(file, c.repo_tag);
    if (!c.ok) {
      ASSERT_FALSE(sink);
      EXPECT_EQ(sink.error().code(), ErrorCode::kInvalid);
      continue;
    }
    ASSERT_TRUE(sink) << sink.error().ToString();
    ASSERT_TRUE(WriteImage(**sink, im));
    auto entries = ListTar(file);
    EXPECT_NE(entries["manifest.json"].data.find(R"("RepoTags":)" + c.repo_tags_json),
              std::string::npos)
        << entries["manifest.json"].data;
    EXPECT_EQ(entries.contains("repositories"), !c.repo_tag.empty());
  }
}

// ---------------------------------------------------------------------------------------------
// Interoperability with skopeo, when it is installed

Result<ProcessResult> Skopeo(std::vector<std::string> args) {
  args.insert(args.begin(), {"skopeo", "--insecure-policy"});
  return RunProcess(args, RunOptions{.timeout = std::chrono::seconds(120)});
}

TEST_F(ArchiveTest, SkopeoReadsWhatWeWriteAndWeReadWhatItWrites) {
  if (FindInPath("skopeo").empty()) GTEST_SKIP() << "skopeo is not installed";
  // skopeo 1.9 skips index.json entries with Docker media types, so the oci-archive gets an
  // OCI image; the docker-archive a Docker one.
  TestImage im = MakeImage("skopeo", Comp::kGzip, false, 2);
  TestImage dim = MakeImage("skopeo-docker", Comp::kGzip, true, 2);
  fs::path oci = Path("out-oci.tar"), docker = Path("out-docker.tar");
  {
    auto sink = OpenOciArchiveSink(oci, "v1");
    ASSERT_TRUE(sink);
    ASSERT_TRUE(WriteImage(**sink, im));
    auto dsink = OpenDockerArchiveSink(docker, "docker.io/library/app:1");
    ASSERT_TRUE(dsink);
    ASSERT_TRUE(WriteImage(**dsink, dim));
  }
  auto show = [](const Result<ProcessResult>& r) {
    return r ? r->stderr_data : r.error().ToString();
  };

  // oci-archive: the raw manifest is ours, byte for byte, and copies out unchanged.
  auto raw = Skopeo({"inspect", "--raw", "oci-archive:" + oci.string() + ":v1"});
  ASSERT_TRUE(raw && raw->exit_code == 0) << show(raw);
  std::string got = raw->stdout_data;
  while (!got.empty() && got.back() == '\n') got.pop_back();
  EXPECT_EQ(got, im.manifest.bytes);
  auto copied = Skopeo(
      {"copy", "oci-archive:" + oci.string() + ":v1", "oci:" + Path("dir1").string() + ":v1"});
  ASSERT_TRUE(copied && copied->exit_code == 0) << show(copied);
  auto layout = OpenLayoutSource(Path("dir1"), "v1");
  ASSERT_TRUE(layout);
  EXPECT_EQ((*layout)->GetRootManifest()->bytes, im.manifest.bytes);

  // docker-archive: skopeo reads the config and layers (it checks layers against diff_ids).
  auto inspect = Skopeo({"inspect", "docker-archive:" + docker.string()});
  ASSERT_TRUE(inspect && inspect->exit_code == 0) << show(inspect);
  EXPECT_NE(inspect->stdout_data.find("\"amd64\""), std::string::npos) << inspect->stdout_data;
  auto dcopied =
      Skopeo({"copy", "docker-archive:" + docker.string(), "oci:" + Path("dir2").string() + ":x"});
  ASSERT_TRUE(dcopied && dcopied->exit_code == 0) << show(dcopied);
  auto dl = OpenLayoutSource(Path("dir2"), "x");
  ASSERT_TRUE(dl);
  auto dm = image::ParseManifest(*(*dl)->GetRootManifest());
  ASSERT_TRUE(dm);
  EXPECT_EQ(*ReadBlob(**dl, dm->config), dim.config);

  // And back: skopeo's archives (docker-archive with legacy symlinks) read with our sources.
  auto to_docker = Skopeo({"copy", "oci:" + Path("dir1").string() + ":v1",
                           "docker-archive:" + Path("sk-docker.tar").string() + ":app:2"});
  ASSERT_TRUE(to_docker && to_docker->exit_code == 0) << show(to_docker);
  auto sd = OpenDockerArchiveSource(Path("sk-docker.tar"), "app:2");
  ASSERT_TRUE(sd) << sd.error().ToString();
  EXPECT_TRUE(ReadEverything(**sd));
  auto sdm = image::ParseManifest(*(*sd)->GetRootManifest());
  ASSERT_TRUE(sdm);
  EXPECT_EQ(*ReadBlob(**sd, sdm->config), im.config);
  ASSERT_EQ(sdm->layers.size(), 2u);
  EXPECT_EQ(*ReadBlob(**sd, sdm->layers[1]), im.plain[1]);

  auto to_oci = Skopeo({"copy", "oci:" + Path("dir1").string() + ":v1",
                        "oci-archive:" + Path("sk-oci.tar").string() + ":v9"});
  ASSERT_TRUE(to_oci && to_oci->exit_code == 0) << show(to_oci);
  auto so = OpenOciArchiveSource(Path("sk-oci.tar"), "v9");
  ASSERT_TRUE(so) << so.error().ToString();
  EXPECT_EQ((*so)->GetRootManifest()->bytes, im.manifest.bytes);
  EXPECT_TRUE(ReadEverything(**so));
}

}  // namespace
}  // namespace anyarch::content

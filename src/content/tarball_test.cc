// What both tarball transports share (content/tarball.h), through both: deterministic output,
// untrusted archives, atomic and verified sinks.
#include "content/tarball.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include "content/docker_archive.h"
#include "content/oci_archive.h"

#include "support/archive_fixtures.h"

namespace anyarch::content {
namespace {

namespace fs = std::filesystem;
using namespace fixtures;  // NOLINT: the archive fixtures of these tests

TEST_F(ArchiveTest, OutputIsDeterministic) {
  TestImage im = MakeImage("det", Comp::kGzip, true);
  for (bool docker : {false, true}) {
    SCOPED_TRACE(docker ? "docker-archive" : "oci-archive");
    std::string bytes[2];
    for (int i = 0; i < 2; ++i) {
      fs::path file = Path("det" + std::to_string(i) + ".tar");
      auto sink = docker ? OpenDockerArchiveSink(file, "app:1") : OpenOciArchiveSink(file, "1");
      ASSERT_TRUE(sink);
      ASSERT_TRUE(WriteImage(**sink, im));
      bytes[i] = ReadBytes(file);
    }
    EXPECT_FALSE(bytes[0].empty());
    EXPECT_EQ(bytes[0], bytes[1]);
  }
}

// ---------------------------------------------------------------------------------------------
// Untrusted archives

struct EvilCase {
  const char* name;
  bool docker;
  TarEntry entry;
  std::string mentions;
};

TEST_F(ArchiveTest, RefusesUnsafeEntries) {
  std::string abs = "/anyarch-archive-test-abs-" + std::to_string(::getpid());
  const EvilCase cases[] = {
      {"dotdot", false, {"../evil", 'f', "x"}, "../evil"},
      {"dotdot-inner", false, {"blobs/../../evil", 'f', "x"}, "blobs/../../evil"},
      {"absolute", false, {abs, 'f', "x"}, abs},
      {"symlink", false, {"blobs/sha256/link", 'l', "", "../../evil"}, "blobs/sha256/link"},
      {"symlink-inside", false, {"blobs/sha256/link", 'l', "", "other"}, "blobs/sha256/link"},
      {"hardlink", false, {"blobs/sha256/hard", 'h', "", "oci-layout"}, "blobs/sha256/hard"},
      {"device", false, {"blobs/null", 'c'}, "blobs/null"},
      {"fifo", false, {"fifo", 'p'}, "fifo"},
      {"docker-dotdot", true, {"../evil", 'f', "x"}, "../evil"},
      {"docker-absolute", true, {abs, 'f', "x"}, abs},
      {"docker-symlink-out", true, {"evil", 'l', "", "../../../etc/passwd"}, "evil"},
      {"docker-symlink-abs", true, {"evil", 'l', "", "/etc/passwd"}, "evil"},
      {"docker-hardlink-out", true, {"evil", 'h', "", "../etc/passwd"}, "evil"},
      {"docker-device", true, {"dev", 'c'}, "dev"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir root = *TempDir::Create("evil");
    fs::path tmp = root.path() / "tmp";
    fs::path in = root.path() / "in" / "x.tar";
    fs::create_directories(tmp);
    // A good file first, so that something was already extracted when the bad entry comes.
    TestImage im = MakeImage("evil", Comp::kNone, true, 1);
    std::string tar = c.docker ? DockerSaveTar(im, "[]", {c.entry})
                               : MakeTar({{"oci-layout", 'f', R"({"imageLayoutVersion":"1.0.0"})"},
                                          {"blobs/", 'd'},
                                          c.entry});
    WriteBytes(in, tar);
    Result<std::unique_ptr<image::ImageSource>> src = MakeError(ErrorCode::kInternal, "unset");
    {
      ScopedTmpdir scoped(tmp);
      src = c.docker ? OpenDockerArchiveSource(in, "") : OpenOciArchiveSource(in, "");
    }
    ASSERT_FALSE(src);
    EXPECT_EQ(src.error().code(), ErrorCode::kInvalid) << src.error().ToString();
    EXPECT_NE(src.error().ToString().find("\"" + c.mentions + "\""), std::string::npos)
        << src.error().ToString();
    EXPECT_NE(src.error().ToString().find(in.string()), std::string::npos);
    // Nothing left behind, nothing written outside.
    EXPECT_EQ(ListDir(root.path()), (std::vector<std::string>{"in", "in/x.tar", "tmp"}));
    EXPECT_FALSE(fs::exists(abs));
  }
}

TEST_F(ArchiveTest, RefusesArchivesThatUnpackToMoreThanTheirSize) {
  std::string gz = Gzip(MakeTar({{"oci-layout", 'f', R"({"imageLayoutVersion":"1.0.0"})"},
                                 {"blobs/sha256/zeros", 'f', std::string(80 << 20, '\0')}}));
  ASSERT_LT(gz.size(), std::size_t{200} << 10);  // 80 MiB of zeros: a 1000:1 bomb
  WriteBytes(Path("bomb.tar.gz"), gz);
  auto src = OpenOciArchiveSource(Path("bomb.tar.gz"), "");
  ASSERT_FALSE(src);
  EXPECT_EQ(src.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(src.error().ToString().find("unpacks to more than"), std::string::npos)
      << src.error().ToString();
}

TEST_F(ArchiveTest, TruncatedArchivesFail) {
  TestImage im = MakeImage("trunc", Comp::kNone, true, 2);
  for (bool docker : {false, true}) {
    SCOPED_TRACE(docker ? "docker-archive" : "oci-archive");
    fs::path file = Path(docker ? "d.tar" : "o.tar");
    {
      auto sink = docker ? OpenDockerArchiveSink(file, "app:1") : OpenOciArchiveSink(file, "1");
      ASSERT_TRUE(sink);
      ASSERT_TRUE(WriteImage(**sink, im));
    }
    std::string whole = ReadBytes(file);
    std::size_t payload = whole.find("PAYLOAD-file-trunc-1");
    ASSERT_NE(payload, std::string::npos);
    std::size_t in_layer = payload + 1000;
    // (A cut inside the trailing zero blocks loses nothing, so it is not in the list.)
    for (std::size_t cut :
         {std::size_t{100}, std::size_t{700}, whole.size() / 3, in_layer, whole.size() / 2}) {
      SCOPED_TRACE(cut);
      fs::path t = Path("cut.tar");
      WriteBytes(t, whole.substr(0, cut));
      auto src = docker ? OpenDockerArchiveSource(t, "") : OpenOciArchiveSource(t, "");
      if (src) {
        // Cut at an entry boundary, a tar can look complete: what is missing must still show.
        EXPECT_FALSE(ReadEverything(**src)) << "cut at " << cut << " of " << whole.size();
      } else {
        EXPECT_TRUE(src.error().code() == ErrorCode::kInvalid ||
                    src.error().code() == ErrorCode::kNotFound)
            << src.error().ToString();
      }
    }
    // Inside a layer's data, libarchive sees the truncation itself.
    WriteBytes(Path("cut.tar"), whole.substr(0, in_layer));
    auto src = docker ? OpenDockerArchiveSource(Path("cut.tar"), "")
                      : OpenOciArchiveSource(Path("cut.tar"), "");
    ASSERT_FALSE(src);
    EXPECT_EQ(src.error().code(), ErrorCode::kInvalid);
    EXPECT_NE(src.error().ToString().find("runcated"), std::string::npos) << src.error().ToString();
  }
}

TEST_F(ArchiveTest, TamperedBlobsAreCaught) {
  TestImage im = MakeImage("tamper", Comp::kNone, true, 1);
  for (bool docker : {false, true}) {
    SCOPED_TRACE(docker ? "docker-archive" : "oci-archive");
    fs::path file = Path(docker ? "d.tar" : "o.tar");
    {
      auto sink = docker ? OpenDockerArchiveSink(file, "") : OpenOciArchiveSink(file, "");
      ASSERT_TRUE(sink);
      ASSERT_TRUE(WriteImage(**sink, im));
    }
    std::string bytes = ReadBytes(file);
    std::size_t at = bytes.find("PAYLOAD-file-tamper-0");
    ASSERT_NE(at, std::string::npos);
    bytes[at + 500] ^= 0x01;
    WriteBytes(file, bytes);
    auto src = docker ? OpenDockerArchiveSource(file, "") : OpenOciArchiveSource(file, "");
    if (docker) {
      // The layer no longer matches the config's diff_id.
      ASSERT_FALSE(src);
      EXPECT_EQ(src.error().code(), ErrorCode::kDigestMismatch) << src.error().ToString();
      EXPECT_NE(src.error().ToString().find("diff_ids[0]"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(src) << src.error().ToString();
    ASSERT_TRUE((*src)->GetRootManifest());
    EXPECT_TRUE(ReadBlob(**src, im.config_desc));
    auto layer = ReadBlob(**src, im.layer_descs[0]);
    ASSERT_FALSE(layer);
    EXPECT_EQ(layer.error().code(), ErrorCode::kDigestMismatch);
  }
}

// ---------------------------------------------------------------------------------------------
// Sinks: atomicity and verification

TEST_F(ArchiveTest, SinkWithoutCommitLeavesNothing) {
  TestImage im = MakeImage("abort", Comp::kGzip, true);
  for (bool docker : {false, true}) {
    SCOPED_TRACE(docker ? "docker-archive" : "oci-archive");
    fs::path out = Path(docker ? "d" : "o");
    fs::create_directories(out);
    {
      auto sink = docker ? OpenDockerArchiveSink(out / "x.tar", "app")
                         : OpenOciArchiveSink(out / "x.tar", "");
      ASSERT_TRUE(sink);
      ASSERT_TRUE(PutImage(**sink, im));
      ASSERT_TRUE((*sink)->Tag(im.manifest));
      EXPECT_FALSE(ListDir(out).empty());  // work in progress is visible, under temporary names
      EXPECT_FALSE(fs::exists(out / "x.tar"));
    }
    EXPECT_EQ(ListDir(out), std::vector<std::string>{});
  }
}

struct BadBlobCase {
  const char* name;
  std::string data;
};

TEST_F(ArchiveTest, BadBlobFailsTheWholeSink) {
  TestImage im = MakeImage("bad", Comp::kGzip, true, 1);
  const BadBlobCase cases[] = {
      {"wrong-bytes", std::string(im.config.size(), 'x')},
      {"short", im.config.substr(1)},
      {"long", im.config + "x"},
  };
  for (bool docker : {false, true}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(std::string(docker ? "docker-archive " : "oci-archive ") + c.name);
      fs::path out = Path("bad");
      fs::create_directories(out);
      {
        auto sink = docker ? OpenDockerArchiveSink(out / "x.tar", "")
                           : OpenOciArchiveSink(out / "x.tar", "");
        ASSERT_TRUE(sink);
        StringReader r(c.data);
        auto st = (*sink)->PutBlob(im.config_desc, r);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code(), ErrorCode::kDigestMismatch) << st.error().ToString();
        EXPECT_FALSE(*(*sink)->HasBlob(im.config_desc));
        // Later calls and Commit report the failure; nothing is published.
        StringReader good(im.layers[0]);
        EXPECT_FALSE((*sink)->PutBlob(im.layer_descs[0], good));
        auto commit = (*sink)->Commit();
        ASSERT_FALSE(commit);
        EXPECT_EQ(commit.error().code(), ErrorCode::kDigestMismatch);
      }
      EXPECT_EQ(ListDir(out), std::vector<std::string>{});
    }
  }
}

}  // namespace
}  // namespace anyarch::content

#include "content/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include "base/digest.h"
#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/process.h"
#include "base/strings.h"
#include "content/layout.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::content {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Building archives and images in memory

struct TarEntry {
  std::string name;
  char type = 'f';  // f file, d directory, l symlink, h hard link, c char device, p fifo
  std::string data;
  std::string link;
};

la_ssize_t AppendToString(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

std::string MakeTar(const std::vector<TarEntry>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open2(a, &out, nullptr, AppendToString, nullptr, nullptr);
  for (const auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_perm(ae, 0644);
    switch (e.type) {
      case 'd':
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e.link.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e.link.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(ae, AE_IFCHR);
        archive_entry_set_rdevmajor(ae, 1);
        archive_entry_set_rdevminor(ae, 3);
        break;
      case 'p':
        archive_entry_set_filetype(ae, AE_IFIFO);
        break;
      default:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    }
    EXPECT_EQ(archive_write_header(a, ae), ARCHIVE_OK) << archive_error_string(a);
    if (e.type == 'f' && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

struct ListedEntry {
  std::string data;
  unsigned mode = 0;
  std::int64_t uid = -1, gid = -1, mtime = -1;
};

// Reads every regular file of a tar.
std::map<std::string, ListedEntry> ListTar(const fs::path& file) {
  std::map<std::string, ListedEntry> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_filename(a, file.c_str(), 65536), ARCHIVE_OK);
  archive_entry* ae;
  while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
    if (archive_entry_filetype(ae) != AE_IFREG) continue;
    ListedEntry e;
    e.mode = archive_entry_perm(ae);
    e.uid = archive_entry_uid(ae);
    e.gid = archive_entry_gid(ae);
    e.mtime = archive_entry_mtime(ae);
    char buf[65536];
    for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;) e.data.append(buf, n);
    out[archive_entry_pathname(ae)] = std::move(e);
  }
  archive_read_free(a);
  return out;
}

std::string Gzip(std::string_view data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(std::string_view data) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  EXPECT_EQ(archive_write_add_filter_zstd(a), ARCHIVE_OK);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open2(a, &out, nullptr, AppendToString, nullptr, nullptr);
  archive_entry* ae = archive_entry_new();
  archive_entry_set_filetype(ae, AE_IFREG);
  archive_write_header(a, ae);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(ae);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Deterministic, poorly compressible bytes that start with a recognisable marker.
std::string Payload(const std::string& seed, std::size_t size) {
  std::string out = "PAYLOAD-" + seed + "-";
  std::uint32_t x = 2166136261u;
  for (char c : seed) x = (x ^ static_cast<unsigned char>(c)) * 16777619u;
  while (out.size() < size) {
    x = x * 1664525u + 1013904223u;
    out.push_back(static_cast<char>('!' + (x >> 24) % 90));
  }
  return out;
}

enum class Comp { kNone, kGzip, kZstd };

std::string Compress(Comp c, const std::string& plain) {
  switch (c) {
    case Comp::kGzip:
      return Gzip(plain);
    case Comp::kZstd:
      return Zstd(plain);
    case Comp::kNone:
      break;
  }
  return plain;
}

struct TestImage {
  std::string config;
  std::vector<std::string> plain;   // uncompressed layer tars
  std::vector<std::string> layers;  // as stored (maybe compressed)
  image::Descriptor config_desc;
  std::vector<image::Descriptor> layer_descs;
  image::RawManifest manifest;
};

image::Descriptor Desc(std::string_view mt, const std::string& bytes) {
  return image::Descriptor{.media_type = std::string(mt),
                           .digest = Sha256Of(bytes),
                           .size = static_cast<std::int64_t>(bytes.size())};
}

// A small image: `layers` layers, compressed with `comp`, described with Docker media types when
// `docker` (gzip or plain only) and OCI ones otherwise. `diff_ids` replaces the config's.
TestImage MakeImage(const std::string& seed, Comp comp, bool docker, int layers = 2,
                    const std::string& arch = "amd64",
                    std::optional<std::vector<std::string>> diff_ids = std::nullopt) {
  TestImage im;
  std::vector<std::string> ids;
  for (int i = 0; i < layers; ++i) {
    std::string name = "file-" + seed + "-" + std::to_string(i);
    im.plain.push_back(MakeTar({{"etc/", 'd'}, {"etc/" + name, 'f', Payload(name, 20000)}}));
    im.layers.push_back(Compress(comp, im.plain.back()));
    ids.push_back("\"" + Sha256Of(im.plain.back()).ToString() + "\"");
  }
  if (diff_ids) {
    ids.clear();
    for (const auto& d : *diff_ids) ids.push_back("\"" + d + "\"");
  }
  im.config = R"({"architecture":")" + arch + R"(","os":"linux","config":{"Cmd":["/bin/sh"]},)" +
              R"("rootfs":{"type":"layers","diff_ids":[)" + Join(ids, ",") + "]}}";
  std::string_view layer_type;
  switch (comp) {
    case Comp::kNone:
      layer_type = docker ? "application/vnd.docker.image.rootfs.diff.tar" : image::kOciLayer;
      break;
    case Comp::kGzip:
      layer_type = docker ? image::kDockerLayerGzip : image::kOciLayerGzip;
      break;
    case Comp::kZstd:
      layer_type = image::kOciLayerZstd;
      break;
  }
  im.config_desc = Desc(docker ? image::kDockerConfig : image::kOciConfig, im.config);
  OrderedJson m = OrderedJson::object();
  m["schemaVersion"] = 2;
  m["mediaType"] = std::string(docker ? image::kDockerManifest : image::kOciManifest);
  m["config"] = image::DescriptorToJson(im.config_desc);
  m["layers"] = OrderedJson::array();
  for (const auto& l : im.layers) {
    im.layer_descs.push_back(Desc(layer_type, l));
    m["layers"].push_back(image::DescriptorToJson(im.layer_descs.back()));
  }
  im.manifest = *image::MakeRawManifest(m.dump());
  return im;
}

Status PutImage(image::ImageSink& sink, const TestImage& im) {
  StringReader c(im.config);
  ANYARCH_CHECK(sink.PutBlob(im.config_desc, c));
  for (std::size_t i = 0; i < im.layers.size(); ++i) {
    StringReader r(im.layers[i]);
    ANYARCH_CHECK(sink.PutBlob(im.layer_descs[i], r));
  }
  return sink.PutManifest(im.manifest);
}

Status WriteImage(image::ImageSink& sink, const TestImage& im) {
  ANYARCH_CHECK(PutImage(sink, im));
  ANYARCH_CHECK(sink.Tag(im.manifest));
  return sink.Commit();
}

Result<std::string> ReadBlob(image::ImageSource& src, const image::Descriptor& d) {
  ANYARCH_TRY(auto r, src.OpenBlob(d));
  return ReadAll(*r);
}

// Reads the root and, for an image manifest, every blob: what a copy does.
Status ReadEverything(image::ImageSource& src) {
  ANYARCH_TRY(auto root, src.GetRootManifest());
  ANYARCH_TRY(auto m, image::ParseManifest(root));
  ANYARCH_CHECK(ReadBlob(src, m.config));
  for (const auto& l : m.layers) ANYARCH_CHECK(ReadBlob(src, l));
  return Ok();
}

void WriteBytes(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(WriteFileAtomic(p, bytes));
}

std::string ReadBytes(const fs::path& p) { return ReadFile(p).value_or(""); }

std::vector<std::string> ListDir(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("archive-test");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
  }
  fs::path Path(const std::string& name) const { return dir_.path() / name; }
  TempDir dir_;
};

// Points $TMPDIR somewhere else while it lives.
class ScopedTmpdir {
 public:
  explicit ScopedTmpdir(const fs::path& dir) {
    if (const char* t = std::getenv("TMPDIR")) old_ = t;
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (old_) {
      ::setenv("TMPDIR", old_->c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }

 private:
  std::optional<std::string> old_;
};

// A docker save style archive around an image's stored layers.
std::string DockerSaveTar(const TestImage& im, const std::string& repo_tags_json,
                          std::vector<TarEntry> extra = {}) {
  std::vector<TarEntry> e;
  std::vector<std::string> names;
  e.push_back({"cfg.json", 'f', im.config});
  for (std::size_t i = 0; i < im.layers.size(); ++i) {
    std::string dir = "layer" + std::to_string(i);
    e.push_back({dir + "/", 'd'});
    e.push_back({dir + "/layer.tar", 'f', im.layers[i]});
    names.push_back("\"" + dir + "/layer.tar\"");
  }
  e.push_back({"manifest.json", 'f',
               R"([{"Config":"cfg.json","RepoTags":)" + repo_tags_json + R"(,"Layers":[)" +
                   Join(names, ",") + "]}]"});
  e.insert(e.end(), extra.begin(), extra.end());
  return MakeTar(e);
}

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

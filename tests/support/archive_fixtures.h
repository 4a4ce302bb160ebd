// Fixtures for the unit tests of content/'s tarball transports (oci_archive, docker_archive and
// the tarball plumbing they share): tars and small images built in memory, gzip and zstd, a
// `docker save` style archive, a temporary directory per test. Test-only: linked through
// anyarch_test_support, never by a production target.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "support/gzip.h"

namespace anyarch::content::fixtures {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Building archives and images in memory

struct TarEntry {
  std::string name;
  char type = 'f';  // f file, d directory, l symlink, h hard link, c char device, p fifo
  std::string data;
  std::string link;
};

inline la_ssize_t AppendToString(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

inline std::string MakeTar(const std::vector<TarEntry>& entries) {
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
inline std::map<std::string, ListedEntry> ListTar(const fs::path& file) {
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

using anyarch::fixtures::Gzip;  // support/gzip.h

inline std::string Zstd(std::string_view data) {
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
inline std::string Payload(const std::string& seed, std::size_t size) {
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

inline std::string Compress(Comp c, const std::string& plain) {
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

inline image::Descriptor Desc(std::string_view mt, const std::string& bytes) {
  return image::Descriptor{.media_type = std::string(mt),
                           .digest = Sha256Of(bytes),
                           .size = static_cast<std::int64_t>(bytes.size())};
}

// A small image: `layers` layers, compressed with `comp`, described with Docker media types when
// `docker` (gzip or plain only) and OCI ones otherwise. `diff_ids` replaces the config's.
inline TestImage MakeImage(const std::string& seed, Comp comp, bool docker, int layers = 2,
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

inline Status PutImage(image::ImageSink& sink, const TestImage& im) {
  StringReader c(im.config);
  ANYARCH_CHECK(sink.PutBlob(im.config_desc, c));
  for (std::size_t i = 0; i < im.layers.size(); ++i) {
    StringReader r(im.layers[i]);
    ANYARCH_CHECK(sink.PutBlob(im.layer_descs[i], r));
  }
  return sink.PutManifest(im.manifest);
}

inline Status WriteImage(image::ImageSink& sink, const TestImage& im) {
  ANYARCH_CHECK(PutImage(sink, im));
  ANYARCH_CHECK(sink.Tag(im.manifest));
  return sink.Commit();
}

inline Result<std::string> ReadBlob(image::ImageSource& src, const image::Descriptor& d) {
  ANYARCH_TRY(auto r, src.OpenBlob(d));
  return ReadAll(*r);
}

// Reads the root and, for an image manifest, every blob: what a copy does.
inline Status ReadEverything(image::ImageSource& src) {
  ANYARCH_TRY(auto root, src.GetRootManifest());
  ANYARCH_TRY(auto m, image::ParseManifest(root));
  ANYARCH_CHECK(ReadBlob(src, m.config));
  for (const auto& l : m.layers) ANYARCH_CHECK(ReadBlob(src, l));
  return Ok();
}

inline void WriteBytes(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(WriteFileAtomic(p, bytes));
}

inline std::string ReadBytes(const fs::path& p) { return ReadFile(p).value_or(""); }

inline std::vector<std::string> ListDir(const fs::path& dir) {
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
inline std::string DockerSaveTar(const TestImage& im, const std::string& repo_tags_json,
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

}  // namespace anyarch::content::fixtures

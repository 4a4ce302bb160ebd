// Hostile layers: every case puts a sentinel directory beside the target and checks that
// nothing appeared in it, whatever the tar holds.
#include "layer/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>

#include "base/fs.h"
#include "base/io.h"
#include "layer/tar_stream.h"
#include "support/gzip.h"

namespace anyarch::layer {
namespace {

namespace fs = std::filesystem;

struct TarEntry {
  std::string path;
  char type = 'f';   // f file, d dir, l symlink, h hardlink, c char device, b block device
  std::string data;  // file content, or link target
  std::int64_t mtime = 0;
  std::vector<std::pair<std::string, std::string>> xattrs = {};
  std::int64_t uid = 0;
};

std::string MakeTar(const std::vector<TarEntry>& entries) {
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_perm(ae, 0755);
    archive_entry_set_mtime(ae, e.mtime, 0);
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_gid(ae, e.uid);
    for (const auto& [k, v] : e.xattrs)
      archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
    switch (e.type) {
      case 'd':
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e.data.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e.data.c_str());
        break;
      case 'c':
      case 'b':
        archive_entry_set_filetype(ae, e.type == 'c' ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdevmajor(ae, e.type == 'c' ? 1 : 8);
        archive_entry_set_rdevminor(ae, e.type == 'c' ? 3 : 0);
        break;
      default:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    }
    archive_write_header(a, ae);
    if (e.type == 'f') archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

using fixtures::Gzip;  // support/gzip.h

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("unpack-test");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
    root_ = dir_.path() / "root";
    outside_ = dir_.path() / "outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
    ASSERT_TRUE(WriteFileAtomic(outside_ / "host-file", "host secret"));
  }
  Result<UnpackStats> Apply(const std::vector<TarEntry>& entries,
                            const UnpackOptions& options = {}) {
    StringReader r(MakeTar(entries));
    return ApplyLayer(r, root_.string(), options);
  }
  // The sentinel directory holds exactly what SetUp put there.
  void ExpectOutsideUntouched() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(outside_))
      names.push_back(e.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{"host-file"});
    EXPECT_EQ(*ReadFile(outside_ / "host-file"), "host secret");
    std::vector<std::string> top;
    for (const auto& e : fs::directory_iterator(dir_.path()))
      top.push_back(e.path().filename().string());
    std::sort(top.begin(), top.end());
    EXPECT_EQ(top, (std::vector<std::string>{"outside", "root"}));
  }
  TempDir dir_;
  fs::path root_, outside_;
};

TEST_F(Hostile, DotDotPathsAreRefused) {
  auto r = Apply({{"../outside/evil", 'f', "x"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(r.error().message().find("unsafe path"), std::string::npos) << r.error().message();
  auto r2 = Apply({{"a/../../outside/evil", 'f', "x"}});
  ASSERT_FALSE(r2);
  ExpectOutsideUntouched();
}

TEST_F(Hostile, AbsolutePathsLandInsideTheRoot) {
  std::string abs = (outside_ / "evil").string();  // an absolute host path
  auto r = Apply({{abs, 'f', "x"}, {"/etc/hosts", 'f', "h"}});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*ReadFile(root_ / abs.substr(1)), "x");
  EXPECT_EQ(*ReadFile(root_ / "etc/hosts"), "h");
  ExpectOutsideUntouched();
}

TEST_F(Hostile, SymlinkOutThenWriteThroughItInOneLayer) {
  std::string out = outside_.string();
  auto r = Apply({{"escape", 'l', out},       // absolute target outside
                  {"escape/evil", 'f', "x"},  // written "through" it
                  {"rel", 'l', "../../../../../../" + out.substr(1)},
                  {"rel/evil2", 'f', "y"}});
  ASSERT_TRUE(r) << r.error().ToString();
  // Resolved inside the root, as the container would see it.
  EXPECT_EQ(*ReadFile(root_ / out.substr(1) / "evil"), "x");
  EXPECT_EQ(*ReadFile(root_ / out.substr(1) / "evil2"), "y");
  ExpectOutsideUntouched();
}

TEST_F(Hostile, SymlinkOutThenWriteThroughItAcrossTwoLayers) {
  std::string out = outside_.string();
  ASSERT_TRUE(Apply({{"escape", 'l', out}, {"dotdot", 'l', ".."}}));
  auto r = Apply({{"escape/evil", 'f', "x"}, {"dotdot/dotdot/evil3", 'f', "z"}});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*ReadFile(root_ / out.substr(1) / "evil"), "x");
  EXPECT_EQ(*ReadFile(root_ / "evil3"), "z");  // ".." of the root is the root
  ExpectOutsideUntouched();
}

TEST_F(Hostile, FileOverSymlinkReplacesTheLinkNotItsTarget) {
  std::string host_file = (outside_ / "host-file").string();
  ASSERT_TRUE(Apply({{"link", 'l', host_file}}));
  ASSERT_TRUE(Apply({{"link", 'f', "overwritten"}}));
  EXPECT_EQ(*ReadFile(root_ / "link"), "overwritten");
  EXPECT_FALSE(fs::is_symlink(root_ / "link"));
  ExpectOutsideUntouched();
}

TEST_F(Hostile, HardlinkToAHostFileIsRefused) {
  std::string host_file = (outside_ / "host-file").string();
  auto r = Apply({{"hl", 'h', host_file}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("not in the image"), std::string::npos) << r.error().message();
  // A hard link through a symlink that points out links the symlink's image-side meaning only.
  ASSERT_TRUE(Apply({{"escape", 'l', outside_.string()}}));
  auto r2 = Apply({{"hl2", 'h', "escape/host-file"}});
  ASSERT_FALSE(r2);
  ExpectOutsideUntouched();
  // Hard links inside the image work.
  ASSERT_TRUE(Apply({{"a", 'f', "data"}, {"b", 'h', "a"}}));
  struct stat sa, sb;
  ASSERT_EQ(::stat((root_ / "a").c_str(), &sa), 0);
  ASSERT_EQ(::stat((root_ / "b").c_str(), &sb), 0);
  EXPECT_EQ(sa.st_ino, sb.st_ino);
}

TEST_F(Hostile, DeviceNodesAreNeverCreated) {
  auto r = Apply({{"dev/mem", 'c', ""}, {"dev/sda", 'b', ""}, {"ok", 'f', "x"}});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(fs::exists(root_ / "dev/mem"));
  EXPECT_FALSE(fs::exists(root_ / "dev/sda"));
  ASSERT_EQ(r->skipped.size(), 2u);
  EXPECT_NE(r->skipped[0].find("character device 1:3 not created"), std::string::npos);
  EXPECT_EQ(*ReadFile(root_ / "ok"), "x");
  ExpectOutsideUntouched();
}

TEST_F(Hostile, WhiteoutsAndOpaqueDirectories) {
  ASSERT_TRUE(
      Apply({{"d/a", 'f', "1"}, {"d/b", 'f', "2"}, {"gone", 'f', "3"}, {"keep/x", 'f', "4"}}));
  ASSERT_TRUE(Apply({{".wh.gone", 'f', ""}, {"d/.wh..wh..opq", 'f', ""}, {"d/c", 'f', "5"}}));
  EXPECT_FALSE(fs::exists(root_ / "gone"));
  EXPECT_FALSE(fs::exists(root_ / "d/a"));
  EXPECT_FALSE(fs::exists(root_ / "d/b"));
  EXPECT_EQ(*ReadFile(root_ / "d/c"), "5");
  EXPECT_EQ(*ReadFile(root_ / "keep/x"), "4");
  // A whiteout through a symlink pointing out removes nothing outside.
  ASSERT_TRUE(Apply({{"escape", 'l', outside_.string()}}));
  ASSERT_TRUE(Apply({{"escape/.wh.host-file", 'f', ""}}));
  ExpectOutsideUntouched();
}

// Times and the xattrs a layer carries are applied; overlay's own and the host's labels never
// are (in a lower directory, user.overlay.redirect would send a lookup elsewhere).
TEST_F(Hostile, TimesAndLayerXattrsAreKept) {
  // Whether this filesystem takes user xattrs at all (tmpfs before Linux 6.6 does not).
  ASSERT_TRUE(WriteFileAtomic(dir_.path() / "probe", ""));
  bool user_xattrs = ::setxattr((dir_.path() / "probe").c_str(), "user.p", "1", 1, 0) == 0;
  auto r = Apply({{"d", 'd', "", 1000000000},
                  {"d/f", 'f', "x", 946684800, {{"user.note", "hi"}}},
                  {"d/l", 'l', "f", 1234567890},
                  {"d/g",
                   'f',
                   "y",
                   5,
                   {{"trusted.overlay.opaque", "y"},
                    {"user.overlay.redirect", "/elsewhere"},
                    {"security.selinux", "system_u:object_r:bin_t:s0"},
                    {"user.ok", "1"}}}});
  ASSERT_TRUE(r) << r.error().ToString();
  struct stat st {};
  ASSERT_EQ(::lstat((root_ / "d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1000000000) << "set after its children were created";
  ASSERT_EQ(::lstat((root_ / "d/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 946684800);
  ASSERT_EQ(::lstat((root_ / "d/l").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1234567890) << "the link's own time, not its target's";
  ASSERT_EQ(::lstat((root_ / "d/g").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 5);
  char v[64];
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.redirect", "security.selinux"})
    EXPECT_LT(::lgetxattr((root_ / "d/g").c_str(), name, v, sizeof v), 0) << name;
  if (!user_xattrs) {
    EXPECT_EQ(r->xattrs, 0u);
    EXPECT_EQ(r->skipped.size(), 2u) << "user.note and user.ok, noted as not set";
    GTEST_SKIP() << "this filesystem has no user xattrs; the rest needs them";
  }
  EXPECT_EQ(r->xattrs, 2u);
  ssize_t n = ::lgetxattr((root_ / "d/f").c_str(), "user.note", v, sizeof v);
  ASSERT_EQ(n, 2);
  EXPECT_EQ(std::string(v, 2), "hi");
  EXPECT_EQ(::lgetxattr((root_ / "d/g").c_str(), "user.ok", v, sizeof v), 1);
}

// A file capability survives the entry's chown (which clears one set before it); a malformed
// one is noted, not fatal.
TEST_F(Hostile, FileCapabilitiesSurviveTheOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "setting security.capability needs CAP_SETFCAP";
  // vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (13): what `setcap
  // cap_net_raw+ep` writes.
  std::string cap(20, '\0');
  cap[0] = 1;       // VFS_CAP_FLAGS_EFFECTIVE
  cap[3] = 2;       // VFS_CAP_REVISION_2, little end
  cap[5] = 1 << 5;  // bit 13 of permitted[0]
  auto r = Apply({{"ping", 'f', "x", 0, {{"security.capability", cap}}, 1000},
                  {"bad", 'f', "x", 0, {{"security.capability", "junk"}}}});
  ASSERT_TRUE(r) << r.error().ToString();
  char v[64];
  ssize_t n = ::lgetxattr((root_ / "ping").c_str(), "security.capability", v, sizeof v);
  ASSERT_EQ(n, 20);
  EXPECT_EQ(std::string(v, 20), cap);
  struct stat st {};
  ASSERT_EQ(::lstat((root_ / "ping").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_LT(::lgetxattr((root_ / "bad").c_str(), "security.capability", v, sizeof v), 0);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_NE(r->skipped[0].find("/bad (extended attribute security.capability not set"),
            std::string::npos)
      << r->skipped[0];
  ExpectOutsideUntouched();
}

// `tar -C dir -c .` starts with a "./" entry for the root: it is accepted (and skipped), while
// ".." stays refused.
TEST_F(Hostile, RootEntryIsAccepted) {
  auto r = Apply({{"./", 'd', ""}, {"./bin/", 'd', ""}, {"./bin/tool", 'f', "x"}});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*ReadFile(root_ / "bin/tool"), "x");
  EXPECT_EQ(r->dirs, 1u);  // bin; the root is not an entry of its own
  ASSERT_TRUE(Apply({{".", 'd', ""}, {"/", 'd', ""}}));
  auto file_root = Apply({{"./", 'f', "x"}});
  ASSERT_FALSE(file_root);
  EXPECT_EQ(file_root.error().code(), ErrorCode::kInvalid);
  auto link_to_root = Apply({{"a", 'h', "./"}});
  ASSERT_FALSE(link_to_root);
  auto dotdot = Apply({{"./", 'd', ""}, {"./../outside/evil", 'f', "x"}});
  ASSERT_FALSE(dotdot);
  EXPECT_NE(dotdot.error().message().find("unsafe path"), std::string::npos);
  ExpectOutsideUntouched();
}

// The uncompressed stream is the layer's diff_id; a config naming another one is refused.
TEST_F(Hostile, DiffIdIsChecked) {
  std::vector<TarEntry> entries = {{"etc/", 'd', ""},
                                   {"etc/passwd", 'f', "root:x:0:0::/:/bin/sh\n"}};
  std::string tar = MakeTar(entries);
  Digest want = Sha256Of(tar);
  for (bool gz : {false, true}) {
    SCOPED_TRACE(gz ? "gzip" : "plain");
    StringReader ok(gz ? Gzip(tar) : tar);
    auto r = ApplyLayer(ok, root_.string(), {.diff_id = want});
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->diff_id, want);
    Digest other = Sha256Of("something else");
    StringReader bad(gz ? Gzip(tar) : tar);
    auto r2 = ApplyLayer(bad, root_.string(), {.diff_id = other});
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code(), ErrorCode::kDigestMismatch);
    EXPECT_NE(r2.error().message().find(want.ToString()), std::string::npos)
        << r2.error().message();
    EXPECT_NE(r2.error().message().find(other.ToString()), std::string::npos);
  }
  // Bytes after the end-of-archive blocks are part of the uncompressed stream too.
  StringReader trailing(tar + std::string(512, '\0'));
  auto r3 = ApplyLayer(trailing, root_.string(), {.diff_id = want});
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code(), ErrorCode::kDigestMismatch);
}

// Depth is not an attack: a file hundreds of directories deep with no directory entries is
// created, up to PATH_MAX; symlink loops on the way stay refused.
TEST_F(Hostile, DeepPathsAreCreated) {
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "d/";
  std::string longest;
  while (longest.size() < 4000) longest += std::string(19, 'a') + "/";  // near PATH_MAX
  auto r = Apply({{deep + "file", 'f', "deep"}, {longest + "f", 'f', "long"}});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*ReadFile(root_ / (deep + "file")), "deep");
  EXPECT_EQ(*ReadFile(root_ / (longest + "f")), "long");
  // Deep through a symlink pointing out: still inside.
  ASSERT_TRUE(Apply({{"escape", 'l', outside_.string()}}));
  ASSERT_TRUE(Apply({{"escape/" + deep + "evil", 'f', "x"}}));
  EXPECT_EQ(*ReadFile(root_ / outside_.string().substr(1) / (deep + "evil")), "x");
  auto loop = Apply({{"loop", 'l', "loop"}, {"loop/x/y", 'f', "x"}});
  ASSERT_FALSE(loop);
  ExpectOutsideUntouched();
}

// A PAX sparse entry (GNU.sparse 1.0, as libarchive writes it) becomes a sparse file: its holes
// take no disk space, and its bytes are where the map puts them.
TEST_F(Hostile, SparseEntriesBecomeHoles) {
  const std::int64_t size = 64 << 20;
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  archive_entry* ae = archive_entry_new();
  archive_entry_set_pathname(ae, "sparse");
  archive_entry_set_filetype(ae, AE_IFREG);
  archive_entry_set_perm(ae, 0644);
  archive_entry_set_size(ae, size);
  archive_entry_sparse_add_entry(ae, 4096, 5);
  archive_entry_sparse_add_entry(ae, size - 3, 3);
  ASSERT_EQ(archive_write_header(a, ae), ARCHIVE_OK) << archive_error_string(a);
  // The writer takes the whole content and drops the holes.
  std::string content(static_cast<std::size_t>(size), '\0');
  content.replace(4096, 5, "hello");
  content.replace(static_cast<std::size_t>(size - 3), 3, "end");
  ASSERT_EQ(archive_write_data(a, content.data(), content.size()), size);
  archive_entry_free(ae);
  archive_write_close(a);
  archive_write_free(a);
  std::string tar(buf.data(), used);
  ASSERT_LT(tar.size(), 16384u);
  StringReader r(tar);
  auto st = ApplyLayer(r, root_.string());
  ASSERT_TRUE(st) << st.error().ToString();
  struct stat sb {};
  ASSERT_EQ(::stat((root_ / "sparse").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_size, size);
  EXPECT_LT(sb.st_blocks * 512, 1 << 20);  // holes, not 64 MiB of zeros
  EXPECT_EQ(*ReadFile(root_ / "sparse", size + 1), content);
}

TEST(CleanEntryPath, Table) {
  EXPECT_EQ(*CleanEntryPath("./a//b/"), "a/b");
  EXPECT_EQ(*CleanEntryPath("/abs/x"), "abs/x");
  EXPECT_FALSE(CleanEntryPath("a/../b"));
  EXPECT_FALSE(CleanEntryPath(".."));
  EXPECT_FALSE(CleanEntryPath("./.."));
  EXPECT_EQ(*CleanEntryPath("./"), "");  // the root entry of `tar -C dir -c .`
  EXPECT_EQ(*CleanEntryPath("."), "");
  EXPECT_EQ(*CleanEntryPath("/"), "");
}

}  // namespace
}  // namespace anyarch::layer

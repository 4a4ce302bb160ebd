#include "build/snapshots.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/fs.h"

namespace anyarch::build {
namespace {

namespace fs = std::filesystem;

// A step committed in one store, exported as its record and blob, imported into another.
class SnapshotImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("snapshots-test");
    ASSERT_TRUE(dir);
    dir_ = std::move(*dir);
    auto a = SnapshotStore::Open((dir_.path() / "a").string());
    auto b = SnapshotStore::Open((dir_.path() / "b").string());
    ASSERT_TRUE(a && b);
    a_ = std::move(*a);
    b_ = std::move(*b);
    auto scratch = a_.NewScratch();
    ASSERT_TRUE(scratch);
    fs::create_directories(fs::path(scratch->diff()) / "etc");
    ASSERT_TRUE(WriteFileAtomic(fs::path(scratch->diff()) / "etc" / "motd", "hello\n"));
    key_ = Sha256Of("step");
    auto r = a_.Commit(key_, std::move(*scratch), {});
    ASSERT_TRUE(r) << r.error().ToString();
    ASSERT_TRUE(r->layer);
    committed_ = *r;
    fs::copy_file(a_.blobs_dir() / r->layer->digest.hex(), b_.blobs_dir() / r->layer->digest.hex());
  }
  TempDir dir_;
  SnapshotStore a_, b_;
  Digest key_;
  StepRecord committed_;
};

TEST_F(SnapshotImportTest, ImportedEntryIsUnpackedOnlyWhenMounted) {
  auto imported = b_.Import(key_, committed_.layer, committed_.diff_id);
  ASSERT_TRUE(imported) << imported.error().ToString();
  auto found = b_.Lookup(key_);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->layer->digest, committed_.layer->digest);
  EXPECT_EQ(found->diff_id, committed_.diff_id);
  EXPECT_FALSE(fs::exists(found->diff_dir));  // a fully cached build never unpacks it

  // Paths outside the cache (a base image's rootfs) are left alone.
  auto elsewhere = dir_.path() / "rootfs";
  ASSERT_TRUE(b_.Materialize({elsewhere.string(), found->diff_dir}));
  EXPECT_FALSE(fs::exists(elsewhere));
  EXPECT_EQ(*ReadFile(fs::path(found->diff_dir) / "etc" / "motd"), "hello\n");
  // A second call finds it there.
  EXPECT_TRUE(b_.Materialize({found->diff_dir}));
}

TEST_F(SnapshotImportTest, ImportRefusesALayerThatIsNotItsDiffId) {
  auto wrong = b_.Import(key_, committed_.layer, Sha256Of("another tar"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kDigestMismatch);
  EXPECT_FALSE(b_.Lookup(key_));
}

TEST_F(SnapshotImportTest, MaterializeWithoutTheBlobSaysWhatToDo) {
  ASSERT_TRUE(b_.Import(key_, committed_.layer, committed_.diff_id));
  auto found = b_.Lookup(key_);
  ASSERT_TRUE(found);
  fs::remove(b_.blobs_dir() / committed_.layer->digest.hex());
  auto s = b_.Materialize({found->diff_dir});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(s.error().ToString().find("--no-cache"), std::string::npos);
  // The step then runs again, and its new result replaces the entry that lost its blob.
  auto scratch = b_.NewScratch();
  ASSERT_TRUE(scratch);
  ASSERT_TRUE(WriteFileAtomic(fs::path(scratch->diff()) / "again", "x"));
  auto again = b_.Commit(key_, std::move(*scratch), {});
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_TRUE(fs::exists(fs::path(again->diff_dir) / "again"));
  EXPECT_TRUE(b_.Lookup(key_));
}

}  // namespace
}  // namespace anyarch::build

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/digest.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/in_root.h"
#include "base/json.h"
#include "base/prefetch_reader.h"
#include "base/process.h"
#include "base/strings.h"
#include "base/thread_pool.h"

namespace anyarch {
namespace {

TEST(Digest, ParseGoodAndBad) {
  std::string hex(64, 'a');
  auto d = Digest::Parse("sha256:" + hex);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->algorithm(), "sha256");
  EXPECT_EQ(d->ToString(), "sha256:" + hex);
  EXPECT_FALSE(Digest::Parse(hex));
  EXPECT_FALSE(Digest::Parse("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(Digest::Parse("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(Digest::Parse("md5:" + hex));
  EXPECT_TRUE(Digest::Parse("sha512:" + std::string(128, '0')));
}

TEST(Digest, KnownVectors) {
  EXPECT_EQ(Sha256Of("").hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Of("abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Finish(), Sha256Of("abc"));
}

TEST(Error, ContextChain) {
  Error e(ErrorCode::kNotFound, "blob unknown");
  e.With("pulling layer").With("copying image");
  EXPECT_EQ(e.ToString(), "copying image: pulling layer: blob unknown");
  EXPECT_EQ(ErrorCodeName(e.code()), "not_found");
}

Result<int> Half(int x) {
  if (x % 2) return MakeError(ErrorCode::kInvalid, "odd");
  return x / 2;
}
Result<int> Quarter(int x) {
  ANYARCH_TRY(int h, Half(x));
  ANYARCH_TRY(int q, Half(h));
  return q;
}

TEST(Error, TryMacro) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6));
  EXPECT_EQ(Quarter(6).error().message(), "odd");
}

TEST(Fs, AtomicWriteAndAbort) {
  auto dir = TempDir::Create("base-test");
  ASSERT_TRUE(dir);
  auto target = dir->path() / "sub" / "file";
  ASSERT_TRUE(WriteFileAtomic(target, "hello"));
  EXPECT_EQ(*ReadFile(target), "hello");
  {
    auto f = AtomicFile::Create(target);
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->Write("partial"));
    // Destroyed without Commit: the target keeps its old bytes and no temp file remains.
  }
  EXPECT_EQ(*ReadFile(target), "hello");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(target.parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(ReadFile(dir->path() / "missing").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ReadFile(target, 3).error().code(), ErrorCode::kInvalid);
}

TEST(InRoot, DotDotAndAbsoluteLinksStayInside) {
  auto dir = TempDir::Create("base-test");
  ASSERT_TRUE(dir);
  auto root = dir->path() / "root";
  std::filesystem::create_directories(root / "etc");
  ASSERT_TRUE(WriteFileAtomic(root / "etc" / "inside", "in"));
  ASSERT_TRUE(WriteFileAtomic(dir->path() / "outside", "out"));
  std::filesystem::create_symlink("../../../outside", root / "climb");
  std::filesystem::create_symlink("/etc/inside", root / "absolute");
  UniqueFd rootfd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_GE(rootfd.get(), 0);
  // The climbing link stops at the root, where "outside" does not exist.
  auto climbed = OpenInRoot(rootfd.get(), "climb", O_RDONLY);
  ASSERT_FALSE(climbed);
  EXPECT_EQ(climbed.error().code(), ErrorCode::kNotFound);
  auto abs = OpenInRoot(rootfd.get(), "absolute", O_RDONLY);
  ASSERT_TRUE(abs);
  char buf[8] = {};
  EXPECT_EQ(::read(abs->get(), buf, sizeof buf), 2);
  EXPECT_STREQ(buf, "in");
}

// A ".." under RESOLVE_IN_ROOT or RESOLVE_BENEATH fails with EAGAIN when any rename on the system
// races it; a build renames and mounts all the time beside its lookups, so Openat2 must retry.
TEST(InRoot, Openat2RetriesWhileRenamesRace) {
  auto dir = TempDir::Create("base-test");
  ASSERT_TRUE(dir);
  std::filesystem::create_directories(dir->path() / "a");
  ASSERT_TRUE(WriteFileAtomic(dir->path() / "b", "x"));
  ASSERT_TRUE(WriteFileAtomic(dir->path() / "r0", ""));
  UniqueFd base(::open(dir->path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_GE(base.get(), 0);
  std::atomic<bool> stop{false};
  std::thread renamer([&] {
    auto from = dir->path() / "r0", to = dir->path() / "r1";
    while (!stop.load()) {
      ::rename(from.c_str(), to.c_str());
      std::swap(from, to);
    }
  });
  int failures = 0, last_errno = 0;
  for (int i = 0; i < 20000; ++i) {
    int fd = Openat2(base.get(), "a/../b", O_RDONLY | O_CLOEXEC, RESOLVE_BENEATH);
    if (fd < 0) {
      ++failures;
      last_errno = errno;
    } else {
      ::close(fd);
    }
  }
  stop = true;
  renamer.join();
  EXPECT_EQ(failures, 0) << "last errno " << last_errno;
}

// Gives `data` in pieces of `step` bytes, then fails with kDigestMismatch when `fail` is set.
class PiecesReader final : public Reader {
 public:
  PiecesReader(std::string data, std::size_t step, bool fail)
      : data_(std::move(data)), step_(step), fail_(fail) {}
  Result<std::size_t> Read(void* buf, std::size_t size) override {
    ++reads;
    if (pos_ == data_.size()) {
      if (fail_) return MakeError(ErrorCode::kDigestMismatch, "the source failed");
      return std::size_t{0};
    }
    std::size_t n = std::min({size, step_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::atomic<int> reads{0};

 private:
  std::string data_;
  std::size_t step_, pos_ = 0;
  bool fail_;
};

TEST(PrefetchReader, SameBytesInOrderThenTheSourcesError) {
  std::string data;
  for (int i = 0; i < 20000; ++i) data += std::to_string(i) + ",";
  for (std::size_t chunk : {std::size_t{5}, std::size_t{4096}, std::size_t{65536}}) {
    SCOPED_TRACE(chunk);
    PiecesReader src(data, 1000, false);
    PrefetchReader ahead(src, chunk, 3);
    auto all = ReadAll(ahead);
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, data);
    EXPECT_EQ(*ahead.Read(nullptr, 0), 0u);
  }
  PiecesReader failing("abc", 1, true);
  PrefetchReader ahead(failing);
  std::string got;
  char buf[2];
  Status s = Ok();
  for (;;) {
    auto n = ahead.Read(buf, sizeof buf);
    if (!n) {
      s = Unexpected(n.error());
      break;
    }
    got.append(buf, *n);
  }
  EXPECT_EQ(got, "abc");
  EXPECT_EQ(s.error().code(), ErrorCode::kDigestMismatch);
  EXPECT_EQ(ahead.Read(buf, sizeof buf).error().code(), ErrorCode::kDigestMismatch);
}

TEST(PrefetchReader, ReadsNothingUntilReadAndStopsWhenDropped) {
  std::string data(10 << 20, 'x');
  PiecesReader src(data, 4096, false);
  { PrefetchReader unused(src); }
  EXPECT_EQ(src.reads.load(), 0);
  {
    PrefetchReader ahead(src, 4096, 2);
    char c;
    ASSERT_EQ(*ahead.Read(&c, 1), 1u);
  }  // dropped after one byte: the thread stops, with at most a few chunks read ahead
  EXPECT_LT(src.reads.load(), 10);
}

TEST(Json, ParseErrorsNameTheInput) {
  auto j = ParseJson("{\"a\": 1", "manifest sha256:x");
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().ToString().find("manifest sha256:x"), std::string::npos);
  auto ok = ParseJson("{\"a\": \"b\", \"n\": 3}", "t");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*GetString(*ok, "a", "t"), "b");
  EXPECT_EQ(*GetInt(*ok, "n", "t"), 3);
  EXPECT_FALSE(GetString(*ok, "n", "t"));
  EXPECT_FALSE(GetInt(*ok, "zz", "t"));
  EXPECT_FALSE(GetOptionalString(*ok, "zz", "t")->has_value());
}

TEST(Process, RunsAndCaptures) {
  auto r = RunProcess({"sh", "-c", "cat; echo err >&2; exit 3"}, {.stdin_data = "in"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_data, "in");
  EXPECT_EQ(r->stderr_data, "err\n");
  EXPECT_EQ(RunProcess({"no-such-program-anyarch"}).error().code(), ErrorCode::kNotFound);
  auto t = RunProcess({"sleep", "5"}, {.timeout = std::chrono::milliseconds(100)});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), ErrorCode::kTimeout);
}

TEST(Strings, Helpers) {
  EXPECT_EQ(Split("a,b,,c", ',').size(), 4u);
  EXPECT_EQ(Join({"a", "b"}, "/"), "a/b");
  EXPECT_EQ(TrimSpace("  x \n"), "x");
  EXPECT_EQ(HumanSize(1536), "1.5 KiB");
  EXPECT_EQ(Printable("a\nb"), "a\\x0ab");
}

TEST(Strings, ParseHumanSize) {
  EXPECT_EQ(ParseHumanSize("512"), 512u);
  EXPECT_EQ(ParseHumanSize("10MB"), 10u << 20);
  EXPECT_EQ(ParseHumanSize("10mib"), 10u << 20);
  EXPECT_EQ(ParseHumanSize("1.5GiB"), 3u << 29);
  EXPECT_EQ(ParseHumanSize("2g"), 2ull << 30);
  EXPECT_EQ(ParseHumanSize(" 3 KB "), 3072u);
  EXPECT_EQ(ParseHumanSize("0"), 0u);
  for (const char* bad : {"", "MB", "1.2.3", "-1", "10XB", "1e3", "99999999999999999999T"})
    EXPECT_FALSE(ParseHumanSize(bad).has_value()) << bad;
}

TEST(ThreadPool, RunsAll) {
  std::atomic<int> n{0};
  {
    ThreadPool pool(3);
    std::vector<std::future<void>> fs;
    for (int i = 0; i < 50; ++i) fs.push_back(pool.Submit([&n] { n++; }));
    for (auto& f : fs) f.get();
  }
  EXPECT_EQ(n.load(), 50);
}

}  // namespace
}  // namespace anyarch

TEST(Strings, Base64RoundTripsAndRejectsGarbage) {
  struct Case {
    std::string plain, encoded;
  } cases[] = {{"", ""},
               {"f", "Zg=="},
               {"fo", "Zm8="},
               {"foo", "Zm9v"},
               {"user:pa:ss", "dXNlcjpwYTpzcw=="},
               {std::string("\0\xff", 2), "AP8="}};
  for (const auto& c : cases) {
    EXPECT_EQ(anyarch::Base64Encode(c.plain), c.encoded);
    auto back = anyarch::Base64Decode(c.encoded);
    ASSERT_TRUE(back.has_value()) << c.encoded;
    EXPECT_EQ(*back, c.plain);
  }
  EXPECT_FALSE(anyarch::Base64Decode("Zm9").has_value());
  EXPECT_FALSE(anyarch::Base64Decode("Zm9!").has_value());
}

namespace anyarch {
namespace {

TEST(Strings, EditDistanceAndClosestWord) {
  EXPECT_EQ(EditDistance("images", "images"), 0u);
  EXPECT_EQ(EditDistance("imgaes", "images"), 1u);  // a swap is one edit
  EXPECT_EQ(EditDistance("crate", "create"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  std::vector<std::string> cmds = {"images", "import", "inspect", "pull", "push", "run"};
  EXPECT_EQ(ClosestWord("imgaes", cmds), "images");
  EXPECT_EQ(ClosestWord("pul", cmds), "pull");  // a prefix
  EXPECT_EQ(ClosestWord("insp", cmds), "inspect");
  EXPECT_FALSE(ClosestWord("xyz", cmds));
  EXPECT_FALSE(ClosestWord("r", cmds));  // one letter is no evidence
  std::vector<std::string> sub = {"create", "annotate", "inspect", "push", "rm", "merge"};
  EXPECT_EQ(ClosestWord("crate", sub), "create");
}

}  // namespace
}  // namespace anyarch

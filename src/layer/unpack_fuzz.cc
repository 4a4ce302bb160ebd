// libFuzzer target: a layer's tar stream (plain, gzip or zstd) through the secure unpacker, into
// a fresh directory per input. The first byte says whether the layer is applied once or twice
// (the second time over what the first made, as a later layer would be); the rest is the blob.
//
// The checker: the target sits at <tmp>/root beside <tmp>/outside, which holds one file. After
// every input, <tmp> must hold exactly those two entries, the outside file must be unchanged
// (bytes, mode, mtime, link count: a hard link to it or a chmod through a symlink shows), the
// target must still be a real directory, and every entry under it must be a file, directory,
// symlink or fifo (never a device) whose real location is inside the target. Symlinks may point
// anywhere (a container resolves them inside its root), but nothing may be written through them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "base/io.h"
#include "layer/unpack.h"

namespace {

namespace fs = std::filesystem;

struct Sandbox {
  fs::path dir, root, outside, secret;
  struct stat secret_st {};
  struct stat outside_st {};
};

Sandbox& Box() {
  static Sandbox* box = [] {
    auto* b = new Sandbox;
    std::string tmpl = (fs::temp_directory_path() / "anyarch-unpack-fuzz.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    b->dir = tmpl;
    b->root = b->dir / "root";
    b->outside = b->dir / "outside";
    b->secret = b->outside / "secret";
    fs::create_directory(b->outside);
    int fd = ::open(b->secret.c_str(), O_CREAT | O_WRONLY | O_EXCL, 0600);
    if (fd < 0 || ::write(fd, "host\n", 5) != 5) std::abort();
    ::close(fd);
    if (::lstat(b->secret.c_str(), &b->secret_st) != 0) std::abort();
    if (::lstat(b->outside.c_str(), &b->outside_st) != 0) std::abort();
    std::atexit([] { fs::remove_all(Box().dir); });
    return b;
  }();
  return *box;
}

bool SameStat(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_mode == b.st_mode && a.st_nlink == b.st_nlink &&
         a.st_size == b.st_size && a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

void Check(const Sandbox& b) {
  int entries = 0;
  for (const auto& e : fs::directory_iterator(b.dir)) {
    if (e.path() != b.root && e.path() != b.outside) std::abort();  // written beside the target
    ++entries;
  }
  if (entries != 2) std::abort();
  int outside_entries = 0;
  for (const auto& e : fs::directory_iterator(b.outside)) {
    if (e.path() != b.secret) std::abort();
    ++outside_entries;
  }
  struct stat st {};
  if (outside_entries != 1 || ::lstat(b.secret.c_str(), &st) != 0 || !SameStat(st, b.secret_st)) {
    std::abort();
  }
  if (::lstat(b.outside.c_str(), &st) != 0 || !SameStat(st, b.outside_st)) std::abort();
  if (::lstat(b.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) std::abort();

  std::error_code ec;
  fs::path real_root = fs::canonical(b.root);
  for (auto it = fs::recursive_directory_iterator(b.root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto s = it->symlink_status();
    if (s.type() == fs::file_type::block || s.type() == fs::file_type::character ||
        s.type() == fs::file_type::socket) {
      std::abort();
    }
    if (s.type() == fs::file_type::symlink) continue;
    // The directory walk does not follow symlinks, so a real location elsewhere would mean the
    // unpacker replaced a directory by something mounted or linked outside.
    fs::path real = fs::canonical(it->path(), ec);
    if (ec) break;
    auto rel = real.lexically_relative(real_root);
    if (rel.empty() || *rel.begin() == "..") std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Sandbox& b = Box();
  std::error_code ec;
  fs::remove_all(b.root, ec);
  fs::create_directory(b.root);
  std::string blob(reinterpret_cast<const char*>(data) + 1, size - 1);
  int layers = data[0] % 2 == 0 ? 1 : 2;
  for (int i = 0; i < layers; ++i) {
    anyarch::StringReader in(blob);
    auto st = anyarch::layer::ApplyLayer(in, b.root.string(), {.keep_ownership = false});
    Check(b);
    if (!st) break;
  }
  return 0;
}

#include "build/stat_cache.h"

#include <limits.h>
#include <stdlib.h>

#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"

namespace anyarch::build {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kRacyWindow = 2;  // seconds
constexpr std::size_t kMaxFile = 256u << 20;

std::int64_t Nanos(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

}  // namespace

StatCache::StatCache(StatCache&& o) noexcept
    : path_(std::move(o.path_)), old_(std::move(o.old_)), used_(std::move(o.used_)) {}

StatCache& StatCache::operator=(StatCache&& o) noexcept {
  path_ = std::move(o.path_);
  old_ = std::move(o.old_);
  used_ = std::move(o.used_);
  return *this;
}

StatCache::Key StatCache::KeyOf(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev),
          static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::int64_t>(st.st_size),
          Nanos(st.st_mtim),
          Nanos(st.st_ctim),
          static_cast<std::uint32_t>(st.st_mode),
          static_cast<std::uint32_t>(st.st_uid),
          static_cast<std::uint32_t>(st.st_gid)};
}

StatCache StatCache::Load(const std::string& store_root, const std::string& context_dir) {
  StatCache c;
  char real[PATH_MAX];
  std::string id = ::realpath(context_dir.c_str(), real) ? real : context_dir;
  fs::path dir = fs::path(store_root) / "build" / "statcache";
  c.path_ = (dir / Sha256Of(id).hex().substr(0, 32)).string();
  auto text = ReadFile(c.path_, kMaxFile);
  if (!text) return c;
  // One entry per line: dev ino size mtime ctime mode uid gid sha256:hex
  for (const auto& line : Split(*text, '\n')) {
    std::vector<std::string> f;
    for (auto& w : Split(line, ' '))
      if (!w.empty()) f.push_back(w);
    if (f.size() != 9) continue;
    try {
      Key k{std::stoull(f[0]),
            std::stoull(f[1]),
            std::stoll(f[2]),
            std::stoll(f[3]),
            std::stoll(f[4]),
            static_cast<std::uint32_t>(std::stoul(f[5])),
            static_cast<std::uint32_t>(std::stoul(f[6])),
            static_cast<std::uint32_t>(std::stoul(f[7]))};
      auto d = Digest::Parse(f[8]);
      if (d) c.old_.emplace(k, *d);
    } catch (...) {
      // a malformed line: skipped
    }
  }
  return c;
}

std::optional<Digest> StatCache::Find(const struct stat& st) {
  std::lock_guard<std::mutex> lock(mu_);
  Key k = KeyOf(st);
  if (auto it = used_.find(k); it != used_.end()) {
    return it->second;
  }
  if (auto it = old_.find(k); it != old_.end()) {
    used_.emplace(k, it->second);
    return it->second;
  }
  return std::nullopt;
}

void StatCache::Remember(const struct stat& st, const Digest& digest, std::int64_t read_at) {
  if (st.st_mtim.tv_sec > read_at - kRacyWindow || st.st_ctim.tv_sec > read_at - kRacyWindow)
    return;
  std::lock_guard<std::mutex> lock(mu_);
  used_[KeyOf(st)] = digest;
}

Status StatCache::Save() const {
  if (path_.empty()) return Ok();
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, d] : used_) {
      const auto& [dev, ino, size, mtime, ctime, mode, uid, gid] = k;
      out += std::to_string(dev) + " " + std::to_string(ino) + " " + std::to_string(size) + " " +
             std::to_string(mtime) + " " + std::to_string(ctime) + " " + std::to_string(mode) +
             " " + std::to_string(uid) + " " + std::to_string(gid) + " " + d.ToString() + "\n";
    }
  }
  return WriteFileAtomic(path_, out, 0600);
}

}  // namespace anyarch::build

#include "isolation/kept.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "base/fs.h"
#include "base/json.h"

namespace anyarch::isolation {

namespace fs = std::filesystem;

namespace {

bool Alive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

KeptContainer Read(const fs::path& dir) {
  KeptContainer c;
  c.id = dir.filename().string();
  c.dir = dir.string();
  c.status = "dead";
  auto text = ReadFile(dir / "container.json", 1 << 20);
  if (!text) return c;
  auto j = ParseJson(*text, "container.json");
  if (!j || !j->is_object()) return c;
  auto str = [&](const char* k) {
    auto it = j->find(k);
    return it != j->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  c.image = str("image");
  c.platform = str("platform");
  c.created = str("created");
  if (auto it = j->find("command"); it != j->end() && it->is_array())
    for (const auto& a : *it)
      if (a.is_string()) c.command.push_back(a.get<std::string>());
  if (auto it = j->find("exit_code"); it != j->end() && it->is_number_integer())
    c.exit_code = it->get<int>();
  if (auto it = j->find("pid"); it != j->end() && it->is_number_integer()) c.pid = it->get<long>();
  std::string status = str("status");
  if (status == "exited") c.status = "exited";
  if (status == "running" && Alive(c.pid)) c.status = "running";
  return c;
}

}  // namespace

Status WriteKeptRecord(const std::string& dir, const KeptContainer& r) {
  Json j = {{"id", r.id},
            {"image", r.image},
            {"platform", r.platform},
            {"command", r.command},
            {"created", r.created},
            {"status", r.status},
            {"exit_code", r.exit_code},
            {"pid", r.pid}};
  return WriteFileAtomic(fs::path(dir) / "container.json", j.dump() + "\n", 0600);
}

Result<std::vector<KeptContainer>> ListKept(const std::string& store_root) {
  std::vector<KeptContainer> out;
  fs::path root = fs::path(store_root) / "containers";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory(ec) && !e.is_symlink(ec)) out.push_back(Read(e.path()));
  }
  if (ec) return MakeError(ErrorCode::kIo, root.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const KeptContainer& a, const KeptContainer& b) {
    return a.created != b.created ? a.created > b.created : a.id < b.id;
  });
  return out;
}

Result<std::vector<std::string>> RemoveKept(const std::string& store_root,
                                            const std::vector<std::string>& names) {
  ANYARCH_TRY(auto all, ListKept(store_root));
  std::vector<const KeptContainer*> chosen;
  for (const auto& n : names) {
    std::vector<const KeptContainer*> hits;
    for (const auto& c : all)
      if (c.id == n || (n.size() >= 4 && c.id.rfind(n, 0) == 0)) hits.push_back(&c);
    if (hits.empty())
      return MakeError(ErrorCode::kNotFound,
                       "no container " + n + " (anyarch ps lists the kept containers)");
    if (hits.size() > 1)
      return MakeError(ErrorCode::kInvalid, n + " names " + std::to_string(hits.size()) +
                                                " containers; give more of the id");
    if (hits[0]->status == "running")
      return MakeError(ErrorCode::kInvalid, "container " + hits[0]->id + " is running (pid " +
                                                std::to_string(hits[0]->pid) + ")");
    chosen.push_back(hits[0]);
  }
  std::vector<std::string> removed;
  for (const auto* c : chosen) {
    std::error_code ec;
    fs::remove_all(c->dir, ec);
    if (ec) return MakeError(ErrorCode::kIo, "removing " + c->dir + ": " + ec.message());
    removed.push_back(c->id);
  }
  return removed;
}

Result<std::vector<std::string>> PruneKept(const std::string& store_root) {
  ANYARCH_TRY(auto all, ListKept(store_root));
  std::vector<std::string> ids;
  for (const auto& c : all)
    if (c.status != "running") ids.push_back(c.id);
  if (ids.empty()) return ids;
  return RemoveKept(store_root, ids);
}

}  // namespace anyarch::isolation

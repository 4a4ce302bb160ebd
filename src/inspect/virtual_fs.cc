#include "inspect/virtual_fs.h"

#include <algorithm>
#include <climits>
#include <vector>

#include "base/strings.h"

namespace anyarch::inspect {
namespace {

constexpr int kMaxSymlinkHops = 40;  // the kernel's MAXSYMLINKS

std::string Parent(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "" : p.substr(0, slash);
}

std::string Base(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string Child(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

void PushReversed(std::vector<std::string>& todo, const std::string& path) {
  auto parts = Split(path, '/');
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (!it->empty() && *it != ".") todo.push_back(*it);
  }
}

}  // namespace

const Node* VirtualFs::Get(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

bool VirtualFs::HasChildren(const std::string& path) const {
  if (path.empty()) return !nodes_.empty();
  auto it = nodes_.lower_bound(path + "/");
  return it != nodes_.end() && it->first.rfind(path + "/", 0) == 0;
}

void VirtualFs::RemoveChildren(const std::string& path, int below_layer) {
  std::string prefix = path.empty() ? "" : path + "/";
  for (auto it = nodes_.lower_bound(prefix);
       it != nodes_.end() && it->first.rfind(prefix, 0) == 0;) {
    if (it->second.layer < below_layer) {
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<std::string> VirtualFs::Walk(const std::string& path, bool for_parent) const {
  std::vector<std::string> todo;
  PushReversed(todo, path);
  std::vector<std::string> cur;
  int hops = 0;
  while (!todo.empty()) {
    std::string comp = todo.back();
    todo.pop_back();
    if (comp == "..") {
      if (!cur.empty()) cur.pop_back();
      continue;
    }
    cur.push_back(comp);
    std::string p = Join(cur, "/");
    const Node* n = Get(p);
    if (!n) {
      // Missing: the unpacker creates parent directories; a lookup fails unless it is a
      // directory that only its children's entries imply.
      if (for_parent || HasChildren(p)) continue;
      return MakeError(ErrorCode::kNotFound, "/" + p + " does not exist");
    }
    if (n->type == layer::EntryType::kDirectory) continue;
    if (n->type == layer::EntryType::kSymlink) {
      if (++hops > kMaxSymlinkHops)
        return MakeError(ErrorCode::kInvalid, "too many levels of symbolic links at /" + p);
      cur.pop_back();
      if (!n->link.empty() && n->link[0] == '/') cur.clear();
      PushReversed(todo, n->link);
      continue;
    }
    if (!for_parent && todo.empty()) break;  // the last component may be a file
    return MakeError(ErrorCode::kInvalid, "/" + p + " exists and is not a directory");
  }
  return Join(cur, "/");
}

std::optional<std::string> VirtualFs::Resolve(const std::string& abs) const {
  auto r = Walk(abs, false);
  if (!r) return std::nullopt;
  return *r;
}

Status VirtualFs::Apply(const layer::Entry& e, Node n, int layer) {
  n.layer = layer;
  if (e.opaque) {
    // ApplyLayer opens the directory itself through symlinks, then empties it of lower layers.
    ANYARCH_TRY(std::string dir, Walk(e.path, true));
    RemoveChildren(dir, layer);
    return Ok();
  }
  ANYARCH_TRY(std::string dir, Walk(Parent(e.path), true));
  std::string path = Child(dir, Base(e.path));
  if (e.whiteout) {
    nodes_.erase(path);
    RemoveChildren(path, INT_MAX);
    return Ok();
  }
  if (e.type == layer::EntryType::kHardlink) {
    // The target is looked up as ApplyLayer opens it: parents through symlinks, the last
    // component not followed.
    auto target_dir = Walk(Parent(e.link), false);
    std::string target = target_dir ? Child(*target_dir, Base(e.link)) : "";
    const Node* t = target_dir ? Get(target) : nullptr;
    if (!t && target_dir && HasChildren(target)) {
      return MakeError(ErrorCode::kInvalid, "hard link /" + e.path + " points at a directory");
    }
    if (!t) {
      return MakeError(ErrorCode::kInvalid, "hard link /" + e.path + " points at /" + e.link +
                                                ", which is not in the image");
    }
    if (t->type == layer::EntryType::kDirectory) {
      return MakeError(ErrorCode::kInvalid, "hard link /" + e.path + " points at a directory");
    }
    Node copy = *t;
    copy.layer = layer;
    n = std::move(copy);
  }
  const Node* old = Get(path);
  if (e.type == layer::EntryType::kDirectory) {
    // An existing directory stays, with what it holds; anything else is replaced.
    if (old && old->type == layer::EntryType::kDirectory) {
      nodes_[path].layer = layer;
      return Ok();
    }
  } else {
    // A non-directory replaces a directory and everything in it.
    RemoveChildren(path, INT_MAX);
  }
  nodes_[path] = std::move(n);
  return Ok();
}

}  // namespace anyarch::inspect

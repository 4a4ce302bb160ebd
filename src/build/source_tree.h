// A tree that COPY and ADD read from: the build context (filtered by .dockerignore), a named
// build context directory, or the filesystem of a stage or an image (a mounted snapshot view).
//
// Traps handled:
// - every lookup stays inside the tree: the sources a Dockerfile names are resolved with
//   openat2(RESOLVE_IN_ROOT), so "../x", an absolute symlink or a symlink chain in a hostile
//   context can never reach the host; symlinks inside a copied directory are copied as links,
//   never followed;
// - wildcards match one path component each, with Go's filepath.Match rules (what BuildKit
//   uses): '*', '?', '[...]', '\' escapes; a pattern that matches nothing is an error;
// - a path .dockerignore excludes does not exist for COPY, and the error says it was excluded
//   and by which file, since that is the usual cause of "not found".
//
// The content hash of a source (Hash) follows BuildKit's contenthash idea: per file, a digest
// of its type, mode, owner, size, link target, kept xattrs and content — never its name or
// times — and per directory, a digest over (name, child digest) of its children in order. So
// touching a file changes nothing, and renaming one inside a copied directory does.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/fs.h"
#include "build/stat_cache.h"
#include "dockerfile/dockerignore.h"

namespace anyarch::build {

class SourceTree {
 public:
  // `root` must be a directory. `ignore` (may be null) excludes paths of the build context;
  // `description` names the tree in errors ("the build context", "stage builder").
  static Result<SourceTree> Open(const std::string& root, std::string description,
                                 const dockerfile::IgnoreMatcher* ignore = nullptr);

  int fd() const { return fd_.get(); }
  const std::string& root() const { return root_; }
  const std::string& description() const { return description_; }

  // True when .dockerignore excludes `rel` ('/'-separated, relative).
  bool Excluded(const std::string& rel) const;
  // True when some exception pattern might re-include a path below an excluded directory.
  bool HasExceptions() const;

  // The paths (relative, cleaned) that a COPY source names: the path itself, or every match of
  // a wildcard pattern, sorted. kNotFound names the source and says when .dockerignore
  // excluded it.
  Result<std::vector<std::string>> Match(const std::string& source) const;

  // The content hash of `rel` (file, link or directory tree), with `excluded` (on top of
  // .dockerignore) skipping paths below it. kIo/kNotFound for what cannot be read.
  Result<Digest> Hash(const std::string& rel,
                      const std::function<bool(const std::string&)>& excluded = {}) const;

  // Regular files' digests are looked up in and remembered by `cache` (may be null; must outlive
  // the tree), so that a rebuild reads no unchanged file again (build/stat_cache.h).
  void UseStatCache(StatCache* cache) { stat_cache_ = cache; }

 private:
  UniqueFd fd_;
  std::string root_, description_;
  const dockerfile::IgnoreMatcher* ignore_ = nullptr;
  StatCache* stat_cache_ = nullptr;
};

// Go's filepath.Match on one string (the pattern may contain '/', which only matches '/').
bool MatchPattern(const std::string& pattern, const std::string& name);

}  // namespace anyarch::build

// Path operations confined to a root directory, as a container would see its filesystem: every
// lookup goes through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) (Linux 5.6+), so ".."
// and absolute symlinks resolve inside the root and nothing outside it is ever opened, created
// or removed, whatever symlinks an untrusted image or build context holds. Used by the secure
// unpacker, the builder's COPY and user lookup inside images.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "base/error.h"
#include "base/fs.h"

namespace anyarch {

// openat2(2) with `resolve` flags (RESOLVE_*), retried while the kernel answers EAGAIN: with
// RESOLVE_IN_ROOT or RESOLVE_BENEATH a ".." step fails that way whenever any rename or mount on
// the system raced the walk, which a multi-platform build (one overlay mount per step and
// platform) makes routine. Returns the fd, or -1 with errno. Allocates nothing, so a forked child
// may call it.
int Openat2(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve);

// Opens `path` (relative to root; "" is the root itself) beneath the directory fd `root`.
// kUnsupported without openat2; otherwise the errno of the failed lookup (kNotFound ...).
Result<UniqueFd> OpenInRoot(int root, const std::string& path, int flags);

// Joins `rel` onto `base` lexically ('/'-separated, no leading '/'); ".." never climbs above
// the root; an absolute `rel` starts again from the root.
std::string JoinInRoot(const std::string& base, const std::string& rel);

// Makes sure the directory `dir` exists beneath root: missing components are created with
// `mode` (and, when uid/gid are >= 0, that owner), and symlinks on the way are followed inside
// the root. kInvalid when a component exists and is not a directory.
Status MkdirInRoot(int root, const std::string& dir, unsigned mode = 0755, long uid = -1,
                   long gid = -1);

// Removes `name` in the directory `dirfd`, recursively for a directory; never follows a
// symlink. A missing name is not an error.
Status RemoveAt(int dirfd, const std::string& name);

// Removes every entry of the open directory `dirfd` except the names in `keep`.
Status RemoveChildren(int dirfd, const std::set<std::string>& keep = {});

}  // namespace anyarch

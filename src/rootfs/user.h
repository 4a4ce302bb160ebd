// Users inside an image: `anyarch run --user` and the config's User, resolved against the image's
// own /etc/passwd and /etc/group the way Docker does (moby/sys/user GetExecUser):
// - a name must have a passwd entry, which gives the uid and the primary gid;
// - a number needs no entry: the gid comes from the passwd entry with that uid, else 0;
// - ":group" overrides the gid, by name (from /etc/group) or by number;
// - the supplementary groups are the primary gid, then, only without ":group", every group of
//   /etc/group that lists the user's name as a member (moby/sys/user's implicit form). The
//   primary gid is always among them, as containerd and BuildKit set it since the fix for
//   CVE-2023-25173: a process must never keep the caller's groups or lack its own.
//
// Traps handled: the files come from an untrusted image, so a malformed line (a uid of "abc") is
// an error naming it, never a crash; ids out of range are refused; and /etc/passwd may be a
// symlink (to "/etc/passwd" of the host, say) that must resolve inside the image, as it would
// inside the container, never on the host.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::rootfs {

struct UserIds {
  unsigned uid = 0, gid = 0;
  std::vector<unsigned> groups;  // supplementary groups for setgroups(): gid first, no repeats
};

// Resolves a user spec ("", "name", "uid", "name:group", "uid:gid", ...) against `rootfs`.
// "" is uid 0. kInvalid names a number that is not a valid id (0 to 4294967294) or the bad field of
// the passwd/group line for the name asked; kNotFound when a name is in neither file.
Result<UserIds> ResolveUser(const std::filesystem::path& rootfs, const std::string& spec);

// Reads the regular file `path` (relative, no ".." components) beneath `rootfs`, resolving every
// symlink on the way inside rootfs, as the container would see it: openat2 with RESOLVE_IN_ROOT
// (Linux 5.6+). Without openat2 (or if `use_openat2` is false, for tests), symlinks on the way
// are refused instead (kInvalid). kNotFound when absent; kInvalid for a non-regular file or one
// larger than max_size.
Result<std::string> ReadFileInRoot(const std::filesystem::path& rootfs, const std::string& path,
                                   std::size_t max_size, bool use_openat2 = true);

}  // namespace anyarch::rootfs

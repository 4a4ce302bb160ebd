// The user namespace of rootless mode: an ordinary user becomes root of a namespace of their own,
// where overlay, binfmt_misc (Linux 6.7+), chroot and the container namespaces are theirs to use.
//
// The whole anyarch process enters it, once, before its first thread: every file it then
// writes, in the store or in a container, is owned on the host by the user or by one of the
// user's subordinate ids, and every path inside reads back with the ids the container used.
//
// Traps handled:
// - unshare(CLONE_NEWUSER) fails with EINVAL in a process with more than one thread, so Enter
//   runs before anything starts one;
// - a process cannot write a multi-range map of its own; newuidmap/newgidmap (setuid, from
//   Debian's uidmap) do, checked against /etc/subuid and /etc/subgid, for a helper forked before
//   the unshare that still lives in the host's namespace;
// - without ranges, the only map a process may write is its own id to 0, and only after it has
//   written "deny" to /proc/self/setgroups: then setgroups(2) is refused for good, and files of
//   any other owner cannot be made (chown is EINVAL);
// - /etc/subuid names a user by name or by uid, and one user may have several ranges;
// - a range that would map an id twice (the user's own id inside a range) is left out.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::isolation {

// One line of /proc/PID/uid_map: ids [inside, inside+count) are [outside, outside+count).
struct IdRange {
  std::uint32_t inside = 0;
  std::uint32_t outside = 0;
  std::uint32_t count = 0;
};

// The subordinate ranges /etc/subuid (or /etc/subgid) text grants the user `name` or `id`, in
// file order, as (outside = start, count); inside is 0 (Plan numbers them). Malformed lines and
// empty ranges are skipped.
std::vector<IdRange> SubordinateRanges(const std::string& text, const std::string& name,
                                       std::uint32_t id);

struct IdMapPlan {
  std::vector<IdRange> uids, gids;   // 0 -> the caller, then the ranges from 1 on
  bool subordinate = false;          // ranges through newuidmap/newgidmap; false: the single-id map
  std::string newuidmap, newgidmap;  // the helpers' paths when subordinate
  std::string single_reason;         // why the single-id map (for doctor and the warning)
};

// The map for the caller: uid and gid to 0, then their subordinate ranges when both files grant
// some and both helpers exist (paths empty: not found).
IdMapPlan PlanIdMap(std::uint32_t uid, std::uint32_t gid, const std::string& user,
                    const std::string& subuid_text, const std::string& subgid_text,
                    const std::string& newuidmap, const std::string& newgidmap);

// PlanIdMap for this process's real uid and gid: its user name from the password database,
// /etc/subuid and /etc/subgid as they are, newuidmap/newgidmap from PATH or /usr/bin.
IdMapPlan PlanIdMapForCaller();
// The user name of `uid` in the password database, or "".
std::string UserName(std::uint32_t uid);

// The map line text, as written to /proc/PID/uid_map or passed to newuidmap ("0 1000 1\n...").
std::string MapText(const std::vector<IdRange>& ranges);
// How many ids a map covers.
std::uint32_t MappedIds(const std::vector<IdRange>& ranges);

// Makes this process root of a new user namespace with `plan`'s maps, in a new mount namespace
// whose mounts are private. Must be called while the process has one thread. kDenied when the
// kernel refuses user namespaces (the message names the sysctl), kUnavailable when a helper
// fails (with its message).
Status EnterUserNamespace(const IdMapPlan& plan);

// What an unprivileged user can do in a user namespace of their own, tried in a child process
// (with the single-id map) under `scratch`, a directory of the caller's that it leaves empty.
struct UserNamespaceAbilities {
  bool userns = false;   // unshare(CLONE_NEWUSER | CLONE_NEWNS) and the map
  bool overlay = false;  // overlayfs with userxattr (Linux 5.11+)
  bool binfmt = false;   // a binfmt_misc instance of its own (Linux 6.7+)
  std::string userns_error, overlay_error, binfmt_error;  // errno text when refused
};
UserNamespaceAbilities ProbeUserNamespace(const std::string& scratch);

// The ids the process had before EnterUserNamespace, or its own ids when it never entered.
std::uint32_t HostUid();
std::uint32_t HostGid();
// Whether EnterUserNamespace made this process's namespace.
bool EnteredUserNamespace();
// Whether the process is in any user namespace but the initial one (its uid_map is not the
// identity over every id): overlay then needs "userxattr", and devices cannot be made.
bool InUserNamespace();
// What an overlay mount needs added to its options here: ",userxattr" in a user namespace (whose
// root cannot set trusted.* xattrs, so overlay keeps opaque marks in user.overlay.*), else "".
std::string OverlayNamespaceOptions();
// The uid map of this process as the kernel shows it.
std::vector<IdRange> CurrentUidMap();

}  // namespace anyarch::isolation

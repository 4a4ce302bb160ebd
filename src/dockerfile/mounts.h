// RUN --mount: the options of each mount, read and defaulted as BuildKit does, for the builder.
//
// A --mount value is one CSV record (BuildKit reads it with Go's encoding/csv, so a field may
// be "quoted, with commas"); each field is key=value, or a bare ro/readonly, rw/readwrite or
// required. Keys are case-insensitive; only values are expanded, each on its own (a variable
// holding a comma stays in its field). Rules and defaults, as in BuildKit:
//   type      bind (default), cache, tmpfs, secret, ssh
//   target    also dst, destination. bind, cache and tmpfs: relative to the working directory,
//             and a missing target IS the working directory; "/" is refused. secret: default
//             /run/secrets/<id> (none when only env= is given). ssh: default
//             /run/buildkit/ssh_agent.<n>, n counting the ssh mounts of the RUN from 0.
//   source    also src. bind/cache: the path inside `from`, default "/". secret: the secret's
//             id (source and id together are an error).
//   from      bind/cache: a stage, an image or (empty) the build context / a fresh cache dir.
//             Not for secrets.
//   ro, rw    readonly / readwrite, bare or =true|false. Default read-only for bind, secret and
//             ssh, read-write for cache and tmpfs. A read-write bind mount's writes are dropped.
//   id        cache: default the target as written, cleaned ("." when there is none).
//             secret: default the source, else the base name of the target. ssh: "default".
//   sharing   cache only: shared (default), private or locked.
//   required  secret and ssh only (bare or =true|false); default false: a missing secret or
//             agent is skipped. A bare "required" before type=secret is an error, as in
//             BuildKit (it checks the type seen so far).
//   mode      octal; uid, gid decimal; cache, secret and ssh only. Defaults: cache 0755 0 0
//             (applied to a fresh cache dir only), secret 0400 0 0, ssh 0600 0 0.
//   size      tmpfs only: bytes, or a number with k, m, g, t, p (powers of 1024, optional i
//             and b, any case: 64m, 1GiB); 0 means no limit.
//   env       secret only: also (or, without target, only) put the secret in this variable.
// Every error says which mount option is wrong; ParseMounts adds the Dockerfile line.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace anyarch::dockerfile {

struct Step;

enum class MountType { kBind, kCache, kTmpfs, kSecret, kSsh };
const char* MountTypeName(MountType type);

struct MountSpec {
  MountType type = MountType::kBind;
  std::string target;  // after ParseMounts: absolute (see above); empty for an env-only secret
  std::string source;  // bind/cache: absolute path in `from` ("/" by default)
  std::string from;    // bind/cache: stage name or index, image, or empty (context / new dir)
  bool readonly = true;
  std::string id;       // cache, secret, ssh
  std::string sharing;  // cache: "shared", "private" or "locked"; empty for other types
  bool required = false;
  std::uint32_t mode = 0;  // cache 0755, secret 0400, ssh 0600 unless given
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  bool file_info_given = false;  // mode, uid or gid was given (BuildKit chowns a fresh cache
                                 // dir only then)
  std::uint64_t size = 0;        // tmpfs; 0: no limit
  std::string env;               // secret: environment variable name, or empty

  // What was written, before defaults (ParseMounts fills the rest).
  bool target_given = false;
  bool id_given = false;
  bool readonly_given = false;
};

// One line for plans and logs, every default spelled out:
// "cache target=/root/.cache id=/root/.cache sharing=shared rw mode=0755 uid=0 gid=0".
std::string MountSpecText(const MountSpec& m);

// Expands one option value; returns the expanded text or an error.
using MountExpander = std::function<Result<std::string>(const std::string& value)>;

// Reads one --mount value. With `expand`, every value is expanded first and fully checked;
// without, values containing "$" are left for later (parse time) and only the rest is checked.
// The result has no defaults applied except type, readonly and sharing. kInvalid naming the
// option at fault.
Result<MountSpec> ParseMountValue(std::string_view value, const MountExpander* expand);

// The mounts of a RUN step with every default applied, targets resolved against `workdir`
// (the stage's working directory at that RUN, "/" if unset). Uses the mounts the evaluator
// read (Step::mounts); for a step without them, parses the --mount flag values as written.
// kInvalid "line N: --mount ...: why" for a target that resolves to "/" or an invalid option.
Result<std::vector<MountSpec>> ParseMounts(const Step& step, const std::string& workdir);

}  // namespace anyarch::dockerfile

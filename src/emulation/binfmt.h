// Linux binfmt_misc (Documentation/admin-guide/binfmt-misc.rst) for qemu-user emulation.
//
// Register line ":name:M:offset:magic:mask:interpreter:flags", written in one write() to
// <mount>/register; entries read back from <mount>/<name>. Traps handled:
// - F (fix binary, kernel 4.8+) opens the interpreter at registration, so emulation works in
//   chroots and containers that lack qemu; it needs a statically linked interpreter, since F pins
//   only the file and not its shared libraries, so a dynamic qemu is refused with F;
// - C (credentials from the binary, implies O) keeps setuid programs such as sudo working;
// - P (preserve argv[0]) is only visible to qemu through AT_FLAGS from kernel 5.12;
// - an entry with the same name made by another tool (binfmt-support, systemd-binfmt,
//   tonistiigi/binfmt) is compared, and replaced only when asked;
// - "-1" goes to an entry, never to <mount>/status (which would remove every entry).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "emulation/arch_table.h"

namespace anyarch::emulation {

inline constexpr const char* kDefaultMount = "/proc/sys/fs/binfmt_misc";

struct Entry {
  std::string name;
  bool enabled = false;
  std::string interpreter;
  std::string flags;  // letters as the kernel prints them, e.g. "POCF"
  int offset = 0;
  std::string magic_hex;
  std::string mask_hex;
};

struct KernelInfo {
  int major = 0, minor = 0;
  std::string release;
  bool fix_binary = false;     // F: 4.8+
  bool argv0_visible = false;  // P seen by qemu through AT_FLAGS: 5.12+
};

KernelInfo DetectKernel();

// True when binfmt_misc is mounted at `mount` (its "register" file exists).
bool IsMounted(const std::string& mount = kDefaultMount);
// Mounts binfmt_misc at `mount` if needed. kDenied without privilege.
Status EnsureMounted(const std::string& mount = kDefaultMount);

// Every entry under the mount (not "register" or "status").
Result<std::vector<Entry>> ListEntries(const std::string& mount = kDefaultMount);
// One entry; kNotFound if absent.
Result<Entry> ReadEntry(const std::string& name, const std::string& mount = kDefaultMount);

// The name anyarch registers an architecture under: "qemu-<cpu>", as QEMU's script, Debian and
// tonistiigi/binfmt do, so the entries are recognisable and conflicts are visible.
std::string EntryName(const ArchSpec& arch);

struct Interpreter {
  std::string path;
  bool is_static = false;
  std::string version;  // "7.2.22" when known
};

// The flags an entry gets on this kernel with this interpreter: C when `credentials` (setuid
// programs keep their credentials), F on 4.8+ (the kernel opens qemu at registration, so it
// works inside chroots and containers), P on 5.12+ with qemu 7+ (qemu sees argv[0] as given).
// `notes` explains each fallback; `refusal` is set when the interpreter cannot be used: a
// dynamically linked qemu with F (F pins only the file, not its shared libraries).
struct FlagPlan {
  std::string flags;  // in the order anyarch writes them, e.g. "PCF"
  std::vector<std::string> notes;
  std::string refusal;
};
FlagPlan PlanFlags(const KernelInfo& kernel, const Interpreter& interpreter, bool credentials);

// Finds qemu for `arch`: qemu-<cpu>-static and qemu-<cpu> in PATH, /usr/bin, /usr/local/bin,
// and Debian's /usr/libexec/qemu-binfmt/<cpu>-binfmt-P. Static ones first. kNotFound lists
// where it looked and which package provides it.
Result<Interpreter> FindInterpreter(const ArchSpec& arch);

// The register line for an architecture.
std::string RegisterLine(const ArchSpec& arch, const std::string& interpreter,
                         const std::string& flags);

// What an entry that anyarch would write looks like (for comparison with an existing one).
Entry ExpectedEntry(const ArchSpec& arch, const std::string& interpreter, const std::string& flags);

// Differences between two entries, one line each ("flags: OCF -> CF"); empty when equivalent.
std::vector<std::string> Differences(const Entry& have, const Entry& want);

// Writes the line to <mount>/register. kDenied without privilege, kInvalid when the kernel
// refuses the line (EINVAL: often F on a kernel older than 4.8), kIo otherwise.
Status Register(const std::string& line, const std::string& mount = kDefaultMount);
// Removes one entry (writes -1 to it). kNotFound when absent.
Status Remove(const std::string& name, const std::string& mount = kDefaultMount);

// The register line that recreates an entry as the kernel shows it (magic and mask as read back,
// offset, interpreter, flags). kInvalid for an entry that cannot be rebuilt from what the kernel
// shows (an extension entry, odd hex).
Result<std::string> RegisterLineFor(const Entry& entry);

// Replaces the existing entry `old` by `line` (whose name must be old's): removes it, registers
// `line`, and if that fails registers `old` again (disabled again if it was), so a refused
// replacement never leaves the host without the entry it had. The error says whether the old
// entry is back. `register_line` writes a line (Register by default; tests pass a fake).
Status Replace(const Entry& old, const std::string& line, const std::string& mount = kDefaultMount);
Status Replace(const Entry& old, const std::string& line, const std::string& mount,
               const std::function<Status(const std::string& line)>& register_line);

// Running an architecture's probe.
enum class ProbeOutcome {
  kPass,           // printed what it should, exit 0
  kNative,         // passed without emulation (the host runs it)
  kNoHandler,      // execve: ENOEXEC, no binfmt entry matches
  kNoInterpreter,  // execve: ENOENT, entry without F and no qemu inside the chroot, or qemu gone
  kNoPrivilege,    // chroot or execve: EPERM/EACCES
  kWrongOutput,    // ran, but printed something else or exited non-zero
  kHang,           // did not finish in time
  kError,          // anything else
};
const char* ProbeOutcomeName(ProbeOutcome o);

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::kError;
  std::string detail;
};

// Builds the probe for `arch` (a static ELF from the embedded machine code), puts it alone in an
// empty temporary directory, and runs it chrooted there, so only an F-flagged entry with a
// working qemu can pass. Needs root (chroot).
ProbeResult Probe(const ArchSpec& arch, int timeout_seconds = 20);

// The static ELF image of an architecture's probe.
std::string BuildProbeElf(const ArchSpec& arch);

}  // namespace anyarch::emulation

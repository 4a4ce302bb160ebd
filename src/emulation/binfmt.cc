#include "emulation/binfmt.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "base/fs.h"
#include "base/process.h"
#include "base/strings.h"
#include "elf/elf.h"
#include "elf/writer.h"

namespace anyarch::emulation {

namespace fs = std::filesystem;

KernelInfo DetectKernel() {
  KernelInfo k;
  struct utsname u;
  if (::uname(&u) == 0) {
    k.release = u.release;
    std::sscanf(u.release, "%d.%d", &k.major, &k.minor);
  }
  auto at_least = [&](int a, int b) { return k.major > a || (k.major == a && k.minor >= b); };
  k.fix_binary = at_least(4, 8);
  k.argv0_visible = at_least(5, 12);
  return k;
}

bool IsMounted(const std::string& mount) {
  std::error_code ec;
  return fs::exists(fs::path(mount) / "register", ec);
}

Status EnsureMounted(const std::string& mount) {
  if (IsMounted(mount)) return Ok();
  if (::mount("binfmt_misc", mount.c_str(), "binfmt_misc", 0, nullptr) != 0) {
    int err = errno;
    if (err == EPERM || err == EACCES) {
      return MakeError(ErrorCode::kDenied,
                       "mounting binfmt_misc on " + mount +
                           " needs root (run as root, or mount it with: mount -t "
                           "binfmt_misc binfmt_misc " +
                           mount + ")");
    }
    if (err == ENODEV) {
      return MakeError(
          ErrorCode::kUnsupported,
          "this kernel has no binfmt_misc support (load it with: modprobe binfmt_misc)");
    }
    return Unexpected(ErrnoError(err, "mounting binfmt_misc on " + mount));
  }
  return Ok();
}

Result<Entry> ReadEntry(const std::string& name, const std::string& mount) {
  ANYARCH_TRY(std::string text, ReadFile(fs::path(mount) / name, 1 << 16));
  Entry e;
  e.name = name;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line == "enabled")
      e.enabled = true;
    else if (line == "disabled")
      e.enabled = false;
    else if (line.rfind("interpreter ", 0) == 0)
      e.interpreter = line.substr(12);
    else if (line.rfind("flags:", 0) == 0)
      e.flags = std::string(TrimSpace(line.substr(6)));
    else if (line.rfind("offset ", 0) == 0)
      e.offset = std::atoi(line.c_str() + 7);
    else if (line.rfind("magic ", 0) == 0)
      e.magic_hex = line.substr(6);
    else if (line.rfind("mask ", 0) == 0)
      e.mask_hex = line.substr(5);
  }
  return e;
}

Result<std::vector<Entry>> ListEntries(const std::string& mount) {
  std::vector<Entry> out;
  std::error_code ec;
  fs::directory_iterator it(mount, ec);
  if (ec) return MakeError(ErrorCode::kIo, mount + ": " + ec.message());
  std::vector<std::string> names;
  for (const auto& de : it) {
    std::string n = de.path().filename().string();
    if (n == "register" || n == "status") continue;
    names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto e = ReadEntry(n, mount);
    if (e) out.push_back(*e);
  }
  return out;
}

std::string EntryName(const ArchSpec& arch) { return "qemu-" + std::string(arch.cpu); }

namespace {

std::string Hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string Escape(const std::string& bytes) {
  std::string out;
  char buf[5];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  }
  return out;
}

// The kernel prints flags in the order P, O, C, F; C implies O.
std::string CanonicalFlags(const std::string& flags) {
  std::string out;
  bool c = flags.find('C') != std::string::npos;
  if (flags.find('P') != std::string::npos) out += 'P';
  if (c || flags.find('O') != std::string::npos) out += 'O';
  if (c) out += 'C';
  if (flags.find('F') != std::string::npos) out += 'F';
  return out;
}

std::string QemuVersion(const std::string& path) {
  auto r = RunProcess({path, "--version"}, {.timeout = std::chrono::milliseconds(5000)});
  if (!r || r->exit_code != 0) return {};
  auto pos = r->stdout_data.find("version ");
  if (pos == std::string::npos) return {};
  std::string v = r->stdout_data.substr(pos + 8);
  return v.substr(0, v.find_first_of(" \n("));
}

}  // namespace

Result<Interpreter> FindInterpreter(const ArchSpec& arch) {
  std::string cpu(arch.cpu);
  std::vector<std::string> candidates;
  for (const std::string& name : {"qemu-" + cpu + "-static", "qemu-" + cpu}) {
    std::string p = FindInPath(name);
    if (!p.empty()) candidates.push_back(p);
    for (const char* dir : {"/usr/bin/", "/usr/local/bin/"}) candidates.push_back(dir + name);
  }
  candidates.push_back("/usr/libexec/qemu-binfmt/" + cpu + "-binfmt-P");
  std::optional<Interpreter> dynamic;
  for (const auto& c : candidates) {
    std::error_code ec;
    fs::path p = fs::canonical(c, ec);
    if (ec || ::access(p.c_str(), X_OK) != 0) continue;
    auto info = elf::InspectFile(p);
    if (!info) continue;
    Interpreter in{.path = c, .is_static = info->is_static, .version = ""};
    if (in.is_static) {
      in.version = QemuVersion(c);
      return in;
    }
    if (!dynamic) dynamic = in;
  }
  if (dynamic) {
    dynamic->version = QemuVersion(dynamic->path);
    return *dynamic;
  }
  return MakeError(
      ErrorCode::kNotFound,
      "no qemu-" + cpu + " interpreter found (looked for qemu-" + cpu + "-static and qemu-" + cpu +
          " in PATH, /usr/bin, /usr/local/bin and /usr/libexec/qemu-binfmt); install it with: "
          "apt-get install qemu-user-static");
}

std::string RegisterLine(const ArchSpec& arch, const std::string& interpreter,
                         const std::string& flags) {
  return ":" + EntryName(arch) + ":M:0:" + Escape(arch.magic) + ":" + Escape(arch.mask) + ":" +
         interpreter + ":" + flags;
}

Entry ExpectedEntry(const ArchSpec& arch, const std::string& interpreter,
                    const std::string& flags) {
  Entry e;
  e.name = EntryName(arch);
  e.enabled = true;
  e.interpreter = interpreter;
  e.flags = CanonicalFlags(flags);
  e.offset = 0;
  e.magic_hex = Hex(arch.magic);
  e.mask_hex = Hex(arch.mask);
  return e;
}

std::vector<std::string> Differences(const Entry& have, const Entry& want) {
  std::vector<std::string> d;
  if (have.enabled != want.enabled)
    d.push_back(std::string("state: ") + (have.enabled ? "enabled" : "disabled"));
  if (have.interpreter != want.interpreter)
    d.push_back("interpreter: " + have.interpreter + " -> " + want.interpreter);
  if (CanonicalFlags(have.flags) != want.flags) {
    d.push_back("flags: " + (have.flags.empty() ? std::string("(none)") : have.flags) + " -> " +
                want.flags);
  }
  if (have.offset != want.offset) d.push_back("offset: " + std::to_string(have.offset) + " -> 0");
  // The kernel prints magic and mask with the mask applied to the magic.
  if (have.mask_hex != want.mask_hex)
    d.push_back("mask: " + have.mask_hex + " -> " + want.mask_hex);
  if (have.magic_hex.size() != want.magic_hex.size()) {
    d.push_back("magic: " + have.magic_hex + " -> " + want.magic_hex);
  } else {
    for (std::size_t i = 0; i + 1 < have.magic_hex.size(); i += 2) {
      int hm = std::stoi(have.magic_hex.substr(i, 2), nullptr, 16);
      int wm = std::stoi(want.magic_hex.substr(i, 2), nullptr, 16);
      int mk = std::stoi(want.mask_hex.substr(i, 2), nullptr, 16);
      if ((hm & mk) != (wm & mk)) {
        d.push_back("magic: " + have.magic_hex + " -> " + want.magic_hex);
        break;
      }
    }
  }
  return d;
}

Status Register(const std::string& line, const std::string& mount) {
  std::string path = mount + "/register";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES || err == EPERM) {
      return MakeError(ErrorCode::kDenied,
                       "registering with binfmt_misc needs root (" + path + ")");
    }
    return Unexpected(ErrnoError(err, path));
  }
  ssize_t n = ::write(fd, line.data(), line.size());
  int err = errno;
  ::close(fd);
  if (n == static_cast<ssize_t>(line.size())) return Ok();
  if (n < 0 && (err == EACCES || err == EPERM)) {
    return MakeError(ErrorCode::kDenied, "registering with binfmt_misc needs root");
  }
  if (n < 0 && err == EEXIST)
    return MakeError(ErrorCode::kInvalid, "an entry with this name exists already");
  if (n < 0 && err == ENOENT) {
    return MakeError(ErrorCode::kNotFound,
                     "the kernel could not open the interpreter (F flag opens it now)");
  }
  if (n < 0 && err == EINVAL) {
    return MakeError(ErrorCode::kInvalid,
                     "the kernel refused the entry (EINVAL); kernels older than 4.8 do not "
                     "know the F flag");
  }
  return Unexpected(ErrnoError(n < 0 ? err : EIO, "writing " + path));
}

Status Remove(const std::string& name, const std::string& mount) {
  std::string path = mount + "/" + name;
  if (name.empty() || name == "register" || name == "status" ||
      name.find('/') != std::string::npos) {
    return MakeError(ErrorCode::kInvalid, "refusing to remove binfmt entry \"" + name + "\"");
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return MakeError(ErrorCode::kNotFound, "no binfmt entry " + name);
    return Unexpected(ErrnoError(err, path));
  }
  ssize_t n = ::write(fd, "-1", 2);
  int err = errno;
  ::close(fd);
  if (n != 2) return Unexpected(ErrnoError(err, "removing " + path));
  return Ok();
}

Result<std::string> RegisterLineFor(const Entry& e) {
  auto hex_ok = [](const std::string& h) {
    return !h.empty() && h.size() % 2 == 0 &&
           h.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  };
  if (!hex_ok(e.magic_hex) || (!e.mask_hex.empty() && !hex_ok(e.mask_hex)) ||
      e.interpreter.empty() || e.name.empty() || e.name.find(':') != std::string::npos) {
    return MakeError(ErrorCode::kInvalid,
                     "binfmt entry " + e.name + " cannot be rebuilt from what the kernel shows");
  }
  auto escape = [](const std::string& h) {
    std::string out;
    for (std::size_t i = 0; i < h.size(); i += 2) out += "\\x" + h.substr(i, 2);
    return out;
  };
  return ":" + e.name + ":M:" + std::to_string(e.offset) + ":" + escape(e.magic_hex) + ":" +
         escape(e.mask_hex) + ":" + e.interpreter + ":" + e.flags;
}

Status Replace(const Entry& old, const std::string& line, const std::string& mount) {
  return Replace(old, line, mount, [&](const std::string& l) { return Register(l, mount); });
}

Status Replace(const Entry& old, const std::string& line, const std::string& mount,
               const std::function<Status(const std::string& line)>& register_line) {
  if (line.rfind(":" + old.name + ":", 0) != 0)
    return MakeError(ErrorCode::kInvalid, "the new entry is not named " + old.name);
  // Built before anything is removed, so the entry can be put back.
  auto restore = RegisterLineFor(old);
  ANYARCH_CHECK(Remove(old.name, mount));
  auto reg = register_line(line);
  if (reg) return Ok();
  Error err = reg.error();
  if (!restore) return Unexpected(err.With("the old entry is gone: " + restore.error().message()));
  if (auto back = register_line(*restore); !back) {
    return Unexpected(err.With(
        "the old entry is gone (registering it again failed: " + back.error().message() + ")"));
  }
  if (!old.enabled) {
    int fd = ::open((mount + "/" + old.name).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t ignored = ::write(fd, "0", 1);
      (void)ignored;
      ::close(fd);
    }
  }
  return Unexpected(err.With("the old entry was restored"));
}

const char* ProbeOutcomeName(ProbeOutcome o) {
  switch (o) {
    case ProbeOutcome::kPass:
      return "pass";
    case ProbeOutcome::kNative:
      return "native";
    case ProbeOutcome::kNoHandler:
      return "no-handler";
    case ProbeOutcome::kNoInterpreter:
      return "no-interpreter";
    case ProbeOutcome::kNoPrivilege:
      return "no-privilege";
    case ProbeOutcome::kWrongOutput:
      return "wrong-output";
    case ProbeOutcome::kHang:
      return "hang";
    case ProbeOutcome::kError:
      return "error";
  }
  return "error";
}

std::string BuildProbeElf(const ArchSpec& a) {
  // One PT_LOAD segment mapping the whole file (headers + code) read/execute at 0x400000.
  const bool is64 = a.elf_class == 64;
  const bool le = a.little_endian;
  const std::size_t ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32;
  const std::uint64_t base = 0x400000;
  const std::size_t code_off = ehsize + phsize;
  std::string b(code_off, '\0');
  b[0] = 0x7f;
  b[1] = 'E';
  b[2] = 'L';
  b[3] = 'F';
  b[4] = is64 ? 2 : 1;
  b[5] = le ? 1 : 2;
  b[6] = 1;                      // EV_CURRENT
  elf::PutInt(b, 16, 2, 2, le);  // ET_EXEC
  elf::PutInt(b, 18, a.machine, 2, le);
  elf::PutInt(b, 20, 1, 4, le);  // e_version
  if (is64) {
    elf::PutInt(b, 24, base + code_off, 8, le);  // e_entry
    elf::PutInt(b, 32, ehsize, 8, le);           // e_phoff
    elf::PutInt(b, 40, 0, 8, le);                // e_shoff
    elf::PutInt(b, 48, a.flags, 4, le);
    elf::PutInt(b, 52, ehsize, 2, le);
    elf::PutInt(b, 54, phsize, 2, le);
    elf::PutInt(b, 56, 1, 2, le);
  } else {
    elf::PutInt(b, 24, base + code_off, 4, le);
    elf::PutInt(b, 28, ehsize, 4, le);
    elf::PutInt(b, 32, 0, 4, le);
    elf::PutInt(b, 36, a.flags, 4, le);
    elf::PutInt(b, 40, ehsize, 2, le);
    elf::PutInt(b, 42, phsize, 2, le);
    elf::PutInt(b, 44, 1, 2, le);
  }
  b += a.probe_code;
  const std::uint64_t total = b.size();
  std::size_t ph = ehsize;
  elf::PutInt(b, ph, 1, 4, le);  // PT_LOAD
  if (is64) {
    elf::PutInt(b, ph + 4, 5, 4, le);  // PF_R | PF_X
    elf::PutInt(b, ph + 8, 0, 8, le);
    elf::PutInt(b, ph + 16, base, 8, le);
    elf::PutInt(b, ph + 24, base, 8, le);
    elf::PutInt(b, ph + 32, total, 8, le);
    elf::PutInt(b, ph + 40, total, 8, le);
    elf::PutInt(b, ph + 48, 0x10000, 8, le);
  } else {
    elf::PutInt(b, ph + 4, 0, 4, le);
    elf::PutInt(b, ph + 8, base, 4, le);
    elf::PutInt(b, ph + 12, base, 4, le);
    elf::PutInt(b, ph + 16, total, 4, le);
    elf::PutInt(b, ph + 20, total, 4, le);
    elf::PutInt(b, ph + 24, 5, 4, le);
    elf::PutInt(b, ph + 28, 0x10000, 4, le);
  }
  return b;
}

ProbeResult Probe(const ArchSpec& arch, int timeout_seconds) {
  if (arch.probe_code.empty()) {
    return {ProbeOutcome::kError, "no probe program for " + std::string(arch.cpu)};
  }
  auto dir = TempDir::Create("anyarch-probe");
  if (!dir) return {ProbeOutcome::kError, dir.error().ToString()};
  fs::path prog = dir->path() / "probe";
  if (auto w = WriteFileAtomic(prog, BuildProbeElf(arch), 0755); !w) {
    return {ProbeOutcome::kError, w.error().ToString()};
  }
  int out[2], status_pipe[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    return {ProbeOutcome::kError, std::string("pipe: ") + std::strerror(errno)};
  }
  std::string root = dir->path().string();
  pid_t pid = ::fork();
  if (pid < 0) return {ProbeOutcome::kError, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    // Child: only async-signal-safe calls from here.
    ::dup2(out[1], 1);
    int fail_step = 0;
    if (::chroot(root.c_str()) != 0)
      fail_step = 1;
    else if (::chdir("/") != 0)
      fail_step = 2;
    if (fail_step == 0) {
      char* const argv[] = {const_cast<char*>("/probe"), nullptr};
      char* const envp[] = {nullptr};
      // ETXTBSY: another thread of this process forked while the probe file was still open for
      // writing, and that child holds the descriptor until it execs or exits. It is brief:
      // retry for up to a second rather than report emulation broken.
      for (int tries = 0; tries < 100; ++tries) {
        ::execve("/probe", argv, envp);
        if (errno != ETXTBSY) break;
        struct timespec pause = {0, 10 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
      }
      fail_step = 3;
    }
    int report[2] = {fail_step, errno};
    ssize_t ignored = ::write(status_pipe[1], report, sizeof report);
    (void)ignored;
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(status_pipe[1]);
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool hung = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      hung = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    char buf[256];
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    if (output.size() < 4096) output.append(buf, static_cast<std::size_t>(n));
  }
  int wstatus = 0;
  bool reaped = false;
  if (!hung) {
    // Its stdout is closed, but the probe may live on (a probe that closes stdout and spins):
    // the deadline holds for its exit too.
    for (;;) {
      pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
      if (r == pid) {
        reaped = true;
        break;
      }
      if (r < 0 && errno != EINTR) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        hung = true;
        break;
      }
      ::usleep(10000);
    }
  }
  if (hung) ::kill(pid, SIGKILL);
  if (!reaped) {
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }
  int report[2] = {0, 0};
  ssize_t got = ::read(status_pipe[0], report, sizeof report);
  ::close(out[0]);
  ::close(status_pipe[0]);
  if (hung)
    return {ProbeOutcome::kHang,
            "the probe did not finish within " + std::to_string(timeout_seconds) + " s"};
  if (got == static_cast<ssize_t>(sizeof report)) {
    int step = report[0], err = report[1];
    std::string what = step == 1 ? "chroot" : step == 2 ? "chdir" : "execve";
    std::string msg = what + ": " + std::strerror(err);
    if (err == EPERM || err == EACCES) return {ProbeOutcome::kNoPrivilege, msg + " (run as root)"};
    if (step == 3 && err == ENOEXEC) {
      return {ProbeOutcome::kNoHandler,
              msg + ": no binfmt_misc entry for this architecture (anyarch binfmt install " +
                  std::string(arch.cpu) + ")"};
    }
    if (step == 3 && err == ENOENT) {
      return {ProbeOutcome::kNoInterpreter,
              msg +
                  ": the entry's interpreter is missing, or it lacks the F flag so the interpreter "
                  "cannot be "
                  "found inside a chroot (anyarch binfmt install --force " +
                  std::string(arch.cpu) + ")"};
    }
    return {ProbeOutcome::kError, msg};
  }
  if (WIFSIGNALED(wstatus)) {
    return {ProbeOutcome::kWrongOutput,
            "the probe was killed by signal " + std::to_string(WTERMSIG(wstatus))};
  }
  int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  if (code != 0 || output != arch.probe_output) {
    return {ProbeOutcome::kWrongOutput, "exit code " + std::to_string(code) + ", output \"" +
                                            Printable(output) + "\" (expected \"" +
                                            Printable(arch.probe_output) + "\")"};
  }
  if (arch.family == HostFamily()) return {ProbeOutcome::kNative, "runs natively on this host"};
  return {ProbeOutcome::kPass, "ran under emulation and printed \"" + Printable(output) + "\""};
}

FlagPlan PlanFlags(const KernelInfo& kernel, const Interpreter& interpreter, bool credentials) {
  FlagPlan p;
  std::string flags = credentials ? "C" : "";
  if (kernel.fix_binary) {
    flags += "F";
  } else {
    p.notes.push_back(
        "kernel " + kernel.release +
        " is older than 4.8 and has no F flag: entries are registered without it, so emulation "
        "only works where the interpreter exists at the same path (not inside chroots or "
        "containers that lack it)");
  }
  if (!kernel.argv0_visible) {
    p.notes.push_back("kernel " + kernel.release +
                      " is older than 5.12: qemu cannot see the P flag, so it is not used and "
                      "programs see their full path as argv[0]");
  } else if (std::atoi(interpreter.version.c_str()) >= 7) {
    // qemu learns about P through AT_FLAGS from 6.1 on; 7 is the first release that relies on it.
    flags = "P" + flags;
  }
  if (!interpreter.is_static && kernel.fix_binary) {
    p.refusal = interpreter.path +
                " is dynamically linked: with the F flag the kernel keeps only the file open, "
                "not its shared libraries, so it would fail inside chroots and containers; "
                "install a static qemu (apt-get install qemu-user-static)";
  }
  p.flags = flags;
  return p;
}

}  // namespace anyarch::emulation

#include "isolation/seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include <cstring>
#include <memory>
#include <string>

namespace anyarch::isolation {

namespace {

// Refused with EPERM whatever their arguments. Names a host ABI lacks are skipped.
constexpr const char* kRefused[] = {
    // namespaces and mounts
    "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount",
    "fspick", "move_mount", "open_tree", "mount_setattr",
    // keyring
    "add_key", "request_key", "keyctl",
    // kernel modules, kexec, reboot
    "init_module", "finit_module", "delete_module", "create_module", "get_kernel_syms",
    "query_module", "kexec_load", "kexec_file_load", "reboot",
    // tracing and kernel programs
    "bpf", "perf_event_open", "userfaultfd", "lookup_dcookie", "process_vm_readv",
    "process_vm_writev", "kcmp",
    // io_uring (outside seccomp's view once set up; Docker refuses it since 25.0)
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    // system-wide state
    "swapon", "swapoff", "settimeofday", "stime", "clock_settime", "clock_settime64",
    "clock_adjtime", "clock_adjtime64", "adjtimex", "acct", "quotactl", "quotactl_fd", "syslog",
    "nfsservctl", "sysfs", "_sysctl", "uselib", "ustat", "vm86", "vm86old", "ioperm", "iopl",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init", "set_mempolicy", "mbind",
    "move_pages", "migrate_pages", "get_mempolicy", "set_mempolicy_home_node", "pidfd_getfd"};

constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWNS,    CLONE_NEWUTS, CLONE_NEWIPC,
                                             CLONE_NEWUSER,  CLONE_NEWPID, CLONE_NEWNET,
                                             CLONE_NEWCGROUP};

struct CtxFree {
  void operator()(void* ctx) const { seccomp_release(static_cast<scmp_filter_ctx>(ctx)); }
};

Error Fail(const std::string& step, int rc) {
  return Error(ErrorCode::kInternal, "seccomp: " + step + ": " + std::strerror(-rc));
}

}  // namespace

Status LoadDefaultSeccomp() {
  std::unique_ptr<void, CtxFree> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return MakeError(ErrorCode::kInternal, "seccomp: init failed");
  scmp_filter_ctx c = ctx.get();
  // The other ABIs the host can run natively; absent ones (not x86-64) are refused by
  // libseccomp, which is fine.
  if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
    for (auto arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
      int rc = seccomp_arch_add(c, arch);
      if (rc != 0 && rc != -EEXIST) return Unexpected(Fail("adding an ABI", rc));
    }
  }
  for (const char* name : kRefused) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    int rc = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), nr, 0);
    // A pseudo number (< 0) names a call that some of the filter's ABIs lack.
    if (rc != 0 && !(nr < 0 && (rc == -EDOM || rc == -EOPNOTSUPP || rc == -EINVAL)))
      return Unexpected(Fail(std::string("refusing ") + name, rc));
  }
  for (unsigned long flag : kNamespaceFlags) {
    int rc = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
    if (rc != 0) return Unexpected(Fail("filtering clone flags", rc));
  }
  // TIOCSTI pushes input into a terminal as if typed: into the caller's terminal, a command
  // for the caller's shell. A container is a session of its own, so the kernel refuses it on
  // any terminal but the container's own; this refuses it there too, in case a program inside
  // makes another terminal its controlling one. The command is an unsigned int: the upper half
  // of the argument is ignored, as the kernel ignores it.
  {
    int rc = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
    if (rc != 0) return Unexpected(Fail("refusing TIOCSTI", rc));
  }
  int nr = seccomp_syscall_resolve_name("clone3");
  if (nr != __NR_SCMP_ERROR) {
    int rc = seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    if (rc != 0 && nr >= 0) return Unexpected(Fail("refusing clone3", rc));
  }
  int rc = seccomp_load(c);
  if (rc != 0) return Unexpected(Fail("loading the filter", rc));
  return Ok();
}

}  // namespace anyarch::isolation

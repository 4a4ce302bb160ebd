#include "ops/binfmt.h"

#include <unistd.h>

#include <algorithm>

#include "base/strings.h"
#include "emulation/private_instance.h"

namespace anyarch::ops {

using emulation::ArchSpec;

bool BinfmtReport::ok() const {
  return std::all_of(arches.begin(), arches.end(), [](const BinfmtArchReport& a) { return a.ok; });
}

namespace {

// Resolves the requested names. `only_probeable` limits "all" to architectures with a probe.
Result<std::vector<const ArchSpec*>> Resolve(const std::vector<std::string>& names,
                                             bool only_probeable) {
  std::vector<const ArchSpec*> out;
  bool all = names.empty() || (names.size() == 1 && names[0] == "all");
  if (all) {
    for (const auto& a : emulation::Arches()) {
      if (only_probeable && a.probe_code.empty()) continue;
      out.push_back(&a);
    }
    return out;
  }
  for (const auto& raw : names) {
    for (const auto& n : Split(raw, ',')) {
      if (n.empty()) continue;
      const ArchSpec* a = emulation::FindArch(n);
      if (!a) {
        std::vector<std::string> known;
        for (const auto& s : emulation::Arches()) known.emplace_back(s.cpu);
        return MakeError(ErrorCode::kInvalid,
                         "unknown architecture \"" + n + "\" (known: " + Join(known, ", ") +
                             "; OCI names like arm64 or linux/arm/v7 work too)");
      }
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
  }
  return out;
}

bool Native(const ArchSpec& a) { return a.family == emulation::HostFamily(); }

// install and uninstall change the host's entries, for every user of the machine.
Status NeedRoot(const char* verb, const std::string& mount) {
  if (::geteuid() == 0 || mount != emulation::kDefaultMount) return Ok();
  return MakeError(ErrorCode::kDenied,
                   std::string("binfmt ") + verb +
                       " changes the host's binfmt_misc for every user and needs root (sudo "
                       "anyarch binfmt " +
                       verb +
                       "); an ordinary user's build and run need no install on Linux 6.7+, "
                       "where they register qemu in a namespace of their own");
}

BinfmtReport Base(const BinfmtOptions& o) {
  BinfmtReport r;
  r.kernel = emulation::DetectKernel();
  r.mount = o.mount;
  r.mounted = emulation::IsMounted(o.mount);
  r.scope = emulation::ScopeName(emulation::CurrentScope());
  return r;
}

}  // namespace

Result<BinfmtReport> BinfmtStatus(const BinfmtOptions& o) {
  ANYARCH_TRY(auto arches, Resolve(o.arches, false));
  BinfmtReport r = Base(o);
  // A probe runs chrooted, which an ordinary user may only do in a namespace of their own,
  // where the host's entries no longer apply: status shows the host's entries unprobed.
  bool can_probe = ::geteuid() == 0;
  if (o.probe && !can_probe)
    r.notes.push_back(
        "not root: the host's entries are listed without probes (anyarch binfmt test probes "
        "what an unprivileged build would use)");
  std::vector<emulation::Entry> entries;
  if (r.mounted) {
    ANYARCH_TRY(entries, emulation::ListEntries(o.mount));
  } else {
    r.notes.push_back("binfmt_misc is not mounted at " + o.mount +
                      " (anyarch binfmt install mounts it)");
  }
  for (const ArchSpec* a : arches) {
    BinfmtArchReport ar;
    ar.cpu = std::string(a->cpu);
    ar.platform = std::string(a->platform);
    ar.entry = emulation::EntryName(*a);
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const emulation::Entry& e) { return e.name == ar.entry; });
    if (Native(*a)) {
      ar.action = "native";
    } else if (it != entries.end()) {
      ar.action = it->enabled ? "registered" : "disabled";
      ar.interpreter = it->interpreter;
      ar.flags = it->flags;
    } else {
      ar.action = "missing";
    }
    bool worth_probing =
        o.probe && can_probe && !a->probe_code.empty() && (ar.action != "missing" || Native(*a));
    if (worth_probing) {
      ar.probed = true;
      ar.probe = emulation::Probe(*a);
      ar.ok = ar.probe.outcome == emulation::ProbeOutcome::kPass ||
              ar.probe.outcome == emulation::ProbeOutcome::kNative;
    }
    r.arches.push_back(std::move(ar));
  }
  for (const auto& e : entries) {
    bool ours = std::any_of(emulation::Arches().begin(), emulation::Arches().end(),
                            [&](const ArchSpec& a) { return emulation::EntryName(a) == e.name; });
    if (!ours) r.other_entries.push_back(e);
  }
  return r;
}

Result<BinfmtReport> BinfmtInstall(const BinfmtOptions& o) {
  ANYARCH_TRY(auto arches, Resolve(o.arches, false));
  ANYARCH_CHECK(NeedRoot("install", o.mount));
  BinfmtReport r = Base(o);
  ANYARCH_CHECK(emulation::EnsureMounted(o.mount));
  r.mounted = true;
  // The kernel's notes do not depend on the interpreter.
  for (auto& n : emulation::PlanFlags(r.kernel, {}, o.credentials).notes) {
    r.notes.push_back(std::move(n));
  }
  for (const ArchSpec* a : arches) {
    BinfmtArchReport ar;
    ar.cpu = std::string(a->cpu);
    ar.platform = std::string(a->platform);
    ar.entry = emulation::EntryName(*a);
    if (Native(*a)) {
      ar.action = "native";
      ar.message = "runs natively on this host; not registered";
      r.arches.push_back(std::move(ar));
      continue;
    }
    auto interp = emulation::FindInterpreter(*a);
    if (!interp) {
      ar.action = "error";
      ar.ok = false;
      ar.message = interp.error().message();
      r.arches.push_back(std::move(ar));
      continue;
    }
    ar.interpreter = interp->path;
    ar.interpreter_static = interp->is_static;
    emulation::FlagPlan plan = emulation::PlanFlags(r.kernel, *interp, o.credentials);
    if (!plan.refusal.empty()) {
      ar.action = "error";
      ar.ok = false;
      ar.message = plan.refusal;
      r.arches.push_back(std::move(ar));
      continue;
    }
    std::string arch_flags = plan.flags;
    ar.flags = arch_flags;
    emulation::Entry want = emulation::ExpectedEntry(*a, interp->path, arch_flags);
    auto have = emulation::ReadEntry(ar.entry, o.mount);
    if (have) {
      ar.differences = emulation::Differences(*have, want);
      if (ar.differences.empty()) {
        ar.action = "unchanged";
        ar.message = "already registered as anyarch would";
        r.arches.push_back(std::move(ar));
        continue;
      }
      if (!o.force) {
        ar.action = "conflict";
        ar.ok = false;
        ar.message =
            "an entry " + ar.entry + " made by another tool differs; replace it with --force";
        r.arches.push_back(std::move(ar));
        continue;
      }
      // Put back if the kernel refuses the new line: --force must not leave the host without
      // the emulator it had.
      if (auto rep = emulation::Replace(
              *have, emulation::RegisterLine(*a, interp->path, arch_flags), o.mount);
          !rep) {
        ar.action = "error";
        ar.ok = false;
        ar.message = rep.error().ToString();
        r.arches.push_back(std::move(ar));
        continue;
      }
      ar.action = "replaced";
      r.arches.push_back(std::move(ar));
      continue;
    }
    ar.action = "installed";
    if (auto reg =
            emulation::Register(emulation::RegisterLine(*a, interp->path, arch_flags), o.mount);
        !reg) {
      ar.action = "error";
      ar.ok = false;
      ar.message = reg.error().ToString();
    }
    r.arches.push_back(std::move(ar));
  }
  return r;
}

Result<BinfmtReport> BinfmtUninstall(const BinfmtOptions& o) {
  ANYARCH_TRY(auto arches, Resolve(o.arches, false));
  ANYARCH_CHECK(NeedRoot("uninstall", o.mount));
  BinfmtReport r = Base(o);
  if (!r.mounted) return r;
  for (const ArchSpec* a : arches) {
    BinfmtArchReport ar;
    ar.cpu = std::string(a->cpu);
    ar.platform = std::string(a->platform);
    ar.entry = emulation::EntryName(*a);
    auto rm = emulation::Remove(ar.entry, o.mount);
    if (rm) {
      ar.action = "removed";
    } else if (rm.error().code() == ErrorCode::kNotFound) {
      ar.action = "absent";
    } else {
      ar.action = "error";
      ar.ok = false;
      ar.message = rm.error().ToString();
    }
    r.arches.push_back(std::move(ar));
  }
  return r;
}

Result<BinfmtReport> BinfmtTest(const BinfmtOptions& o) {
  ANYARCH_TRY(auto arches, Resolve(o.arches, true));
  BinfmtReport r = Base(o);
  for (const ArchSpec* a : arches) {
    BinfmtArchReport ar;
    ar.cpu = std::string(a->cpu);
    ar.platform = std::string(a->platform);
    ar.entry = emulation::EntryName(*a);
    if (a->probe_code.empty()) {
      ar.action = "error";
      ar.ok = false;
      ar.message = "anyarch has no probe program for " + ar.cpu;
      r.arches.push_back(std::move(ar));
      continue;
    }
    if (auto st = emulation::EnsurePrivateEntry(*a); !st) {
      ar.action = "error";
      ar.ok = false;
      ar.message = "registering in the private binfmt_misc: " + st.error().message();
      r.arches.push_back(std::move(ar));
      continue;
    }
    ar.probed = true;
    ar.probe = emulation::Probe(*a);
    ar.action = emulation::ProbeOutcomeName(ar.probe.outcome);
    ar.ok = ar.probe.outcome == emulation::ProbeOutcome::kPass ||
            ar.probe.outcome == emulation::ProbeOutcome::kNative;
    ar.message = ar.probe.detail;
    r.arches.push_back(std::move(ar));
  }
  return r;
}

}  // namespace anyarch::ops

#include <iostream>

#include "base/json.h"
#include "cli/app.h"
#include "cli/table.h"
#include "ops/binfmt.h"
#include "ops/doctor.h"
#include "ops/file.h"

namespace anyarch::cli {
namespace {

struct FileFlags {
  std::vector<std::string> paths;
  bool json = false;
};

void RunFile(Cli& cli, const FileFlags& f) {
  auto reports = ops::InspectFiles(f.paths);
  bool any_error = false;
  if (f.json) {
    OrderedJson arr = OrderedJson::array();
    for (const auto& r : reports) {
      OrderedJson j;
      j["path"] = r.path;
      j["kind"] = ops::FileKindName(r.kind);
      if (r.elf) {
        const auto& e = *r.elf;
        j["platform"] = e.platform.ToString();
        j["architecture"] = e.platform.architecture;
        j["variant"] = e.platform.variant;
        j["class"] = e.elf_class;
        j["byte_order"] = e.little_endian ? "little" : "big";
        j["machine"] = e.machine_name;
        j["e_machine"] = e.machine;
        j["e_flags"] = e.flags;
        j["linking"] = e.is_static ? "static" : "dynamic";
        j["interpreter"] = e.interpreter;
        if (!e.abi.empty()) j["abi"] = e.abi;
        if (e.arm_cpu_arch) j["arm_cpu_arch"] = *e.arm_cpu_arch;
        if (e.platform.architecture == "arm")
          j["variant_from"] = e.variant_guessed ? "float-abi" : "attributes";
      }
      if (!r.script_interpreter.empty()) j["interpreter"] = r.script_interpreter;
      if (!r.note.empty()) j["note"] = r.note;
      if (r.kind == ops::FileReport::Kind::kError) any_error = true;
      arr.push_back(j);
    }
    cli.out() << arr.dump(2) << "\n";
  } else {
    for (const auto& r : reports) {
      if (r.kind == ops::FileReport::Kind::kError) {
        any_error = true;
        cli.err() << "anyarch: error: " << r.note << "\n";
        continue;
      }
      cli.out() << r.path << ": ";
      if (r.elf) {
        const auto& e = *r.elf;
        cli.out() << e.platform.ToString() << " (ELF " << e.elf_class << "-bit "
                  << (e.little_endian ? "LSB" : "MSB") << " " << e.machine_name;
        if (!e.abi.empty()) cli.out() << ", " << e.abi;
        if (e.arm_cpu_arch) cli.out() << ", Tag_CPU_arch " << *e.arm_cpu_arch;
        if (e.variant_guessed) cli.out() << ", variant guessed from the float ABI";
        cli.out() << ", " << (e.is_static ? "statically linked" : "dynamically linked");
        if (!e.interpreter.empty()) cli.out() << ", interpreter " << e.interpreter;
        cli.out() << ")\n";
      } else {
        cli.out() << r.note << "\n";
      }
    }
  }
  if (any_error) cli.exit_code = kExitFailure;
}

struct BinfmtFlags {
  std::vector<std::string> arches;
  bool json = false;
  bool force = false;
  bool no_credentials = false;
  bool no_probe = false;
};

std::string Pad(std::string s, std::size_t n) {
  if (s.size() < n) s.resize(n, ' ');
  return s + " ";
}

void PrintBinfmt(Cli& cli, const ops::BinfmtReport& r, bool json, const char* what) {
  if (json) {
    OrderedJson j;
    j["kernel"] = r.kernel.release;
    j["kernel_fix_binary"] = r.kernel.fix_binary;
    j["kernel_argv0_visible"] = r.kernel.argv0_visible;
    j["mount"] = r.mount;
    j["mounted"] = r.mounted;
    j["scope"] = r.scope;
    j["notes"] = r.notes;
    OrderedJson arr = OrderedJson::array();
    for (const auto& a : r.arches) {
      OrderedJson e;
      e["arch"] = a.cpu;
      e["platform"] = a.platform;
      e["entry"] = a.entry;
      e["action"] = a.action;
      e["interpreter"] = a.interpreter;
      e["flags"] = a.flags;
      if (!a.differences.empty()) e["differences"] = a.differences;
      if (!a.message.empty()) e["message"] = a.message;
      if (a.probed) {
        e["probe"] = emulation::ProbeOutcomeName(a.probe.outcome);
        e["probe_detail"] = a.probe.detail;
      }
      e["ok"] = a.ok;
      arr.push_back(e);
    }
    j["arches"] = arr;
    if (!r.other_entries.empty()) {
      OrderedJson others = OrderedJson::array();
      for (const auto& e : r.other_entries) {
        others.push_back({{"name", e.name},
                          {"interpreter", e.interpreter},
                          {"flags", e.flags},
                          {"enabled", e.enabled}});
      }
      j["other_entries"] = others;
    }
    cli.out() << j.dump(2) << "\n";
  } else {
    cli.out() << "kernel " << r.kernel.release
              << " (F flag: " << (r.kernel.fix_binary ? "yes" : "no")
              << ", P visible to qemu: " << (r.kernel.argv0_visible ? "yes" : "no")
              << "), binfmt_misc " << (r.mounted ? "mounted at " + r.mount : "not mounted") << "\n";
    if (r.scope == "private")
      cli.out() << "entries: private to anyarch's user namespace (registered for this command, "
                   "gone with it; the host's are untouched)\n";
    else if (r.scope == "host-from-namespace")
      cli.out() << "entries: the host's (this kernel cannot give an ordinary user a binfmt_misc "
                   "of their own before Linux 6.7)\n";
    for (const auto& n : r.notes) cli.out() << "note: " << n << "\n";
    const Style style = cli.OutStyle();
    Table table({"ARCH", "PLATFORM", what, "FLAGS", "INTERPRETER / DETAIL"});
    std::vector<std::string> differences;
    for (const auto& a : r.arches) {
      std::string detail = a.interpreter;
      if (a.probed) {
        const bool passed = a.probe.outcome == emulation::ProbeOutcome::kPass;
        std::string probe = emulation::ProbeOutcomeName(a.probe.outcome);
        detail += (detail.empty() ? "" : "  ") + std::string("probe: ") +
                  (passed ? style.Green(probe) : style.Red(probe));
        if (!passed) detail += " (" + a.probe.detail + ")";
      }
      if (!a.message.empty() && !a.probed) detail += (detail.empty() ? "" : "  ") + a.message;
      table.Add({a.cpu, a.platform, a.action, a.flags.empty() ? "-" : a.flags, detail});
      for (const auto& d : a.differences) differences.push_back(a.cpu + ": " + d);
    }
    cli.out() << table.Render(style);
    for (const auto& d : differences) cli.out() << "differs: " << d << "\n";
    for (const auto& e : r.other_entries) {
      cli.out() << "other entry: " << e.name << " -> " << e.interpreter << " (flags "
                << (e.flags.empty() ? "-" : e.flags) << (e.enabled ? "" : ", disabled") << ")\n";
    }
  }
  if (!r.ok()) cli.exit_code = kExitFailure;
}

}  // namespace

void RegisterEmulationCommands(CLI::App& app, Cli& cli) {
  auto doctor_json = std::make_shared<bool>(false);
  CLI::App* doctor = app.add_subcommand(
      "doctor",
      "Check what this host can do: kernel and binfmt features, binfmt_misc and emulators,\n"
      "overlayfs, namespaces, cgroups, free space in the store, the registries config, and which\n"
      "platforms can run here right now. One line per check, with the fix for what fails.\n"
      "Exits 1 if a check fails.");
  doctor->add_flag("--json", *doctor_json, "Print JSON");
  SetExamples(doctor, {"anyarch doctor",
                       "anyarch doctor --json | jq -r '.checks[] | .check + \" \" + .status'"});
  doctor->callback([&cli, doctor_json] {
    auto r = ops::Doctor({.store_root = cli.StoreRoot(), .config_path = cli.ConfigPath()});
    if (*doctor_json) {
      OrderedJson arr = OrderedJson::array();
      for (const auto& c : r.checks) {
        arr.push_back(
            {{"check", c.name}, {"status", c.status}, {"detail", c.detail}, {"fix", c.fix}});
      }
      OrderedJson j;
      j["checks"] = arr;
      j["runnable_platforms"] = r.runnable_platforms;
      cli.out() << j.dump(2) << "\n";
    } else {
      for (const auto& c : r.checks) {
        cli.out() << Pad("[" + c.status + "]", 6) << Pad(c.name, 11) << c.detail << "\n";
        if (!c.fix.empty()) cli.out() << "                   fix: " << c.fix << "\n";
      }
    }
    if (!r.ok()) cli.exit_code = kExitFailure;
  });

  auto bf = std::make_shared<BinfmtFlags>();
  CLI::App* binfmt = app.add_subcommand(
      "binfmt",
      "Register qemu-user with the kernel's binfmt_misc so foreign-architecture programs run "
      "here,\n"
      "and check that it really works. Replaces the privileged tonistiigi/binfmt and\n"
      "multiarch/qemu-user-static containers. Needs root.");
  binfmt->require_subcommand(1);
  auto opts = [&](CLI::App* c, bool arches) {
    if (arches)
      c->add_option("arch", bf->arches,
                    "Architectures (qemu or OCI names: arm64, arm, 386, riscv64 ...), or all");
    c->add_flag("--json", bf->json, "Print JSON");
  };
  CLI::App* st = binfmt->add_subcommand(
      "status", "Show each architecture's entry, interpreter and flags, and probe it");
  opts(st, true);
  st->add_flag("--no-probe", bf->no_probe, "Do not run the probe programs");
  CLI::App* in = binfmt->add_subcommand(
      "install",
      "Register static qemu for the given architectures (default: all that this host does not run\n"
      "natively). Mounts binfmt_misc if needed. Flags: F when the kernel has it (4.8+), so "
      "emulation\n"
      "works in chroots and containers; C so setuid programs such as sudo work; P when the kernel\n"
      "(5.12+) and qemu (7+) can carry argv[0]. A dynamically linked qemu is refused with F. An\n"
      "existing entry that differs is shown and kept unless --force.");
  opts(in, true);
  in->add_flag("--force", bf->force, "Replace entries made by other tools that differ");
  in->add_flag("--no-credentials", bf->no_credentials, "Leave out the C flag");
  CLI::App* un = binfmt->add_subcommand("uninstall", "Remove anyarch's (qemu-<arch>) entries");
  opts(un, true);
  CLI::App* te = binfmt->add_subcommand(
      "test",
      "Run a tiny static program for each architecture inside an empty chroot. A pass proves that\n"
      "the registration, the F flag and the emulator all work. Failures say why: no handler\n"
      "(ENOEXEC), interpreter missing or no F flag (ENOENT), no privilege (EPERM).");
  opts(te, true);
  SetExamples(binfmt, {"anyarch binfmt status --no-probe", "anyarch binfmt test arm64 arm"});
  SetExamples(st, {"anyarch binfmt status", "anyarch binfmt status --json arm64"});
  SetExamples(in, {"anyarch binfmt install arm64 arm s390x",
                   "anyarch binfmt install --force arm64     # replace a differing entry"});
  SetExamples(un, {"anyarch binfmt uninstall sparc64 && anyarch binfmt install sparc64"});
  SetExamples(te, {"anyarch binfmt test arm64 arm s390x"});
  auto opt_of = [bf] {
    return ops::BinfmtOptions{.arches = bf->arches,
                              .force = bf->force,
                              .credentials = !bf->no_credentials,
                              .probe = !bf->no_probe};
  };
  st->callback([&cli, bf, opt_of] {
    auto r = ops::BinfmtStatus(opt_of());
    if (!r) return cli.Fail(r.error());
    PrintBinfmt(cli, *r, bf->json, "STATE");
  });
  in->callback([&cli, bf, opt_of] {
    auto r = ops::BinfmtInstall(opt_of());
    if (!r) return cli.Fail(r.error());
    PrintBinfmt(cli, *r, bf->json, "ACTION");
  });
  un->callback([&cli, bf, opt_of] {
    auto r = ops::BinfmtUninstall(opt_of());
    if (!r) return cli.Fail(r.error());
    PrintBinfmt(cli, *r, bf->json, "ACTION");
  });
  te->callback([&cli, bf, opt_of] {
    auto r = ops::BinfmtTest(opt_of());
    if (!r) return cli.Fail(r.error());
    PrintBinfmt(cli, *r, bf->json, "RESULT");
  });

  auto ff = std::make_shared<FileFlags>();
  CLI::App* file = app.add_subcommand(
      "file",
      "Tell which OCI platform an executable is built for, like file(1) in platform terms.\n"
      "Reads the ELF header (class, byte order, e_machine, e_flags), the program headers\n"
      "(interpreter, static or dynamic) and for 32-bit ARM the .ARM.attributes Tag_CPU_arch,\n"
      "which tells arm/v5, v6, v7 and v8 apart. Scripts (#!) and other files are described\n"
      "without a platform. Exits 1 if a path cannot be read.");
  file->add_option("paths", ff->paths, "Files to inspect")->required();
  file->add_flag("--json", ff->json, "Print JSON (one object per path)");
  SetExamples(
      file, {"anyarch file /usr/bin/qemu-aarch64-static",
             "anyarch file --json /bin/* | jq -r '.[] | select(.platform) | .platform' | sort -u"});
  file->callback([&cli, ff] { RunFile(cli, *ff); });
}

}  // namespace anyarch::cli

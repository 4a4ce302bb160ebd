#include <iostream>

#include "base/json.h"
#include "cli/app.h"
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

}  // namespace

void RegisterEmulationCommands(CLI::App& app, Cli& cli) {
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
  file->footer(
      "\nExamples:\n"
      "  anyarch file /usr/bin/qemu-aarch64-static\n"
      "  anyarch file --json rootfs/bin/* | jq -r '.[] | select(.platform) | .platform'\n");
  file->callback([&cli, ff] { RunFile(cli, *ff); });
}

}  // namespace anyarch::cli

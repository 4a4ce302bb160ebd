// When an ordinary user runs a command that needs namespaces, the process enters rootless mode
// (ops/rootless.h) after the command line is parsed and before the command runs, so usage errors
// and --help never touch namespaces, and the command's own threads start inside.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "cli/app.h"
#include "ops/rootless.h"

namespace anyarch::cli {

namespace {

// The commands that mount, unpack, run containers, or remove what containers wrote (files of
// subordinate ids that only the namespace's root can delete). The rest need no namespace: they
// read and write files the user owns, and talk to registries.
const std::set<std::string> kNeedNamespace = {"build", "run",   "rm",         "rmi",
                                              "prune", "store", "binfmt test"};

std::string CommandPath(CLI::App& app) {
  std::string path;
  CLI::App* cur = &app;
  for (;;) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) return path;
    cur = subs.front();
    path += (path.empty() ? "" : " ") + cur->get_name();
  }
}

}  // namespace

void InstallRootlessEntry(CLI::App& app, Cli& cli) {
  app.parse_complete_callback([&app, &cli] {
    if (::geteuid() == 0) return;
    // The store of an ordinary user is private to them, wherever it is.
    std::error_code ec;
    std::string root = cli.StoreRoot();
    if (!std::filesystem::exists(root, ec) && std::filesystem::create_directories(root, ec))
      ::chmod(root.c_str(), 0700);
    if (!kNeedNamespace.count(CommandPath(app))) return;
    auto r = ops::EnterRootless();
    if (!r) {
      Error e = r.error();
      cli.Fail(e.With("entering rootless mode (anyarch runs as an ordinary user)"));
      throw CLI::RuntimeError(cli.exit_code);
    }
    if (std::string w = ops::SingleIdWarning(*r); !w.empty()) cli.Warn(w);
  });
}

}  // namespace anyarch::cli

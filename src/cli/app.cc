#include "cli/app.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace anyarch::cli {

Cli::Cli() = default;

std::ostream& Cli::out() { return std::cout; }
std::ostream& Cli::err() { return std::cerr; }

void Cli::Fail(const Error& error) {
  EndProgress();
  err() << "anyarch: error: " << error.ToString();
  if (global.debug) err() << " [" << ErrorCodeName(error.code()) << "]";
  err() << "\n";
  exit_code = kExitFailure;
}

bool Cli::Check(const Status& status) {
  if (status) return true;
  Fail(status.error());
  return false;
}

void Cli::Warn(const std::string& message) { err() << "anyarch: warning: " << message << "\n"; }

std::string Cli::StoreRoot() const {
  if (!global.root.empty()) return global.root;
  if (const char* r = std::getenv("ANYARCH_ROOT"); r && *r) return r;
  if (::geteuid() == 0) return "/var/lib/anyarch";
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/anyarch";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/anyarch";
  return "/var/lib/anyarch";
}

transport::Env Cli::Env(int jobs) {
  if (!progress_) progress_ = std::make_unique<ProgressReporter>(global.progress, err());
  return transport::Env{.insecure = global.insecure,
                        .store_root = StoreRoot(),
                        .config_path = ConfigPath(),
                        .docker_config = {},
                        .chunk_size = 0,
                        .jobs = jobs,
                        .reporter = progress_.get()};
}

void Cli::EndProgress() {
  if (progress_) progress_->Finish();
}

std::string Cli::ConfigPath() const {
  if (!global.config_path.empty()) return global.config_path;
  if (const char* c = std::getenv("ANYARCH_CONFIG"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) {
    return std::string(x) + "/anyarch/config.toml";
  }
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.config/anyarch/config.toml";
  return "/etc/anyarch/config.toml";
}

int Main(int argc, char** argv) {
  Cli cli;
  CLI::App app{
      "anyarch builds, runs, checks and publishes container images for many CPU architectures\n"
      "from one x86-64 Linux machine, with no Docker daemon."};
  app.name("anyarch");
  app.set_version_flag("--version", "anyarch 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();
  app.option_defaults()->always_capture_default();
  app.add_option("--root", cli.global.root,
                 "Local store directory (default: $ANYARCH_ROOT, /var/lib/anyarch for root, "
                 "else $XDG_DATA_HOME/anyarch)");
  app.add_option("--config", cli.global.config_path,
                 "Registries config file (default: $XDG_CONFIG_HOME/anyarch/config.toml)");
  app.add_flag("--insecure", cli.global.insecure,
               "Allow plain HTTP and unverified TLS for every registry in this command");
  app.add_flag("--debug", cli.global.debug, "Show error codes with errors");
  app.add_option(
         "--progress", cli.global.progress,
         "How long-running operations show progress on stderr: auto (tty on a terminal, else "
         "plain), plain, tty, json or quiet")
      ->check(CLI::IsMember({"auto", "plain", "tty", "json", "quiet"}));

  RegisterStoreCommands(app, cli);
  RegisterAuthCommands(app, cli);
  RegisterTransferCommands(app, cli);
  RegisterEmulationCommands(app, cli);
  RegisterRunCommands(app, cli);
  RegisterDockerfileCommands(app, cli);
  RegisterBuildCommands(app, cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "anyarch: error: " << e.what() << "\n"
              << "Run 'anyarch --help' (or 'anyarch COMMAND --help') for usage.\n";
    return kExitUsage;
  }
  return cli.exit_code;
}

}  // namespace anyarch::cli

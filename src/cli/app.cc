#include "cli/app.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "base/json.h"
#include "cli/dispatch.h"
#include "ops/rootless.h"

namespace anyarch::cli {

Cli::Cli() = default;

std::ostream& Cli::out() { return std::cout; }
std::ostream& Cli::err() { return std::cerr; }

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return kExitNotFound;
    case ErrorCode::kUnauthorized:
    case ErrorCode::kDenied:
      return kExitDenied;
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
      return kExitUnavailable;
    case ErrorCode::kInvalid:
      return kExitInvalid;
    case ErrorCode::kDigestMismatch:
      return kExitDigest;
    default:
      return kExitFailure;
  }
}

Style Cli::OutStyle() const { return Style(ColourWanted(global.color, STDOUT_FILENO)); }
Style Cli::ErrStyle() const { return Style(ColourWanted(global.color, STDERR_FILENO)); }

void Cli::Fail(const Error& error) {
  EndProgress();
  ErrorStart() << error.ToString();
  if (global.debug) err() << " [" << ErrorCodeName(error.code()) << "]";
  err() << "\n";
  exit_code = ExitCodeFor(error.code());
  if (json_requested && json_requested()) {
    OrderedJson e{{"code", std::string(ErrorCodeName(error.code()))},
                  {"message", error.message()},
                  {"context", error.context()}};
    out() << OrderedJson{{"error", e}}.dump(2) << "\n";
  }
}

bool Cli::Check(const Status& status) {
  if (status) return true;
  Fail(status.error());
  return false;
}

std::ostream& Cli::ErrorStart() { return err() << ErrStyle().Red("anyarch: error:") << " "; }

void Cli::Warn(const std::string& message) {
  err() << ErrStyle().Yellow("anyarch: warning:") << " " << message << "\n";
}

std::string Cli::StoreRoot() const {
  if (!global.root.empty()) return global.root;
  if (const char* r = std::getenv("ANYARCH_ROOT"); r && *r) return r;
  // Root of a rootless namespace is still the ordinary user whose store this is.
  if (::geteuid() == 0 && ops::HostUid() == 0) return "/var/lib/anyarch";
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/anyarch";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/anyarch";
  return "/var/lib/anyarch";
}

transport::Env Cli::Env(int jobs) {
  if (!progress_)
    progress_ = std::make_unique<ProgressReporter>(global.progress, err(), ErrStyle());
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

void SetExamples(CLI::App* cmd, const std::vector<std::string>& lines, const std::string& before) {
  std::string text = before + "\nExample" + (lines.size() > 1 ? "s" : "") + ":\n";
  for (const auto& l : lines) text += "  " + l + "\n";
  cmd->footer(text);
}

namespace {

constexpr const char* kVersion = "anyarch 0.1.0";

// Every option that can be repeated takes exactly one value per occurrence, as docker's do:
// CLI11's default lets `-e A=1 IMAGE env` swallow IMAGE and env into -e.
void OneValuePerOccurrence(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (!o->get_positional() && o->get_items_expected_max() > 1) o->allow_extra_args(false);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    OneValuePerOccurrence(*sub);
  }
}

// --root must be a store or a place one can be made: an existing directory that is empty or
// holds an OCI layout, or a path whose directories can be created. `--root /proc/nope` or a
// file is a mistake to report, not to discover halfway through a command.
std::string StoreDirectory(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec)) return "--root " + path + " is not a directory";
    if (fs::exists(fs::path(path) / "oci-layout", ec) || fs::is_empty(path, ec)) return "";
    return "--root " + path + " is not an anyarch store (no oci-layout file, and not empty)";
  }
  fs::create_directories(path, ec);
  if (ec) return "--root " + path + ": cannot create the store: " + ec.message();
  return "";
}

// The deepest subcommand that was parsed, and whether it or one of its parents got --json.
bool JsonGiven(CLI::App& app) {
  const CLI::Option* o = app.get_option_no_throw("--json");
  if (o && o->count() > 0) return true;
  for (CLI::App* sub : app.get_subcommands()) {
    if (JsonGiven(*sub)) return true;
  }
  return false;
}

// "The following arguments were not expected: -x" becomes "unknown flag -x" for flags.
std::string ParseErrorText(const CLI::ParseError& e) {
  std::string what = e.what();
  const std::string extras = "The following argument was not expected: ";
  const std::string extras2 = "The following arguments were not expected: ";
  for (const auto& p : {extras, extras2}) {
    if (what.rfind(p, 0) == 0) {
      std::string rest = what.substr(p.size());
      if (!rest.empty() && rest[0] == '-') return "unknown flag " + rest;
      return "unexpected argument(s): " + rest;
    }
  }
  return what;
}

// --color as given on a command line that did not parse, so usage errors follow it too.
std::string ColourFlag(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--color=", 0) == 0) return args[i].substr(8);
    if (args[i] == "--color" && i + 1 < args.size()) return args[i + 1];
  }
  return "auto";
}

}  // namespace

int Main(int argc, char** argv) {
  Cli cli;
  CLI::App app{
      "anyarch builds, runs, checks and publishes container images for many CPU architectures\n"
      "from one x86-64 Linux machine, with no Docker daemon."};
  app.name("anyarch");
  app.require_subcommand(1);
  app.fallthrough();
  app.option_defaults()->always_capture_default();
  app.add_option("--root", cli.global.root,
                 "Local store directory (default: $ANYARCH_ROOT, /var/lib/anyarch for root, "
                 "else $XDG_DATA_HOME/anyarch)")
      ->check(StoreDirectory);
  app.add_option("--config", cli.global.config_path,
                 "Registries config file (default: $XDG_CONFIG_HOME/anyarch/config.toml)")
      ->check(CLI::ExistingFile);
  app.add_flag("--insecure", cli.global.insecure,
               "Allow plain HTTP and unverified TLS for every registry in this command");
  app.add_flag("--debug", cli.global.debug, "Show error codes with errors");
  app.add_option(
         "--progress", cli.global.progress,
         "How long-running operations show progress on stderr: auto (tty on a terminal, else "
         "plain), plain, tty, json or quiet")
      ->check(CLI::IsMember({"auto", "plain", "tty", "json", "quiet"}));
  app.add_option("--color", cli.global.color,
                 "Colour in messages: auto (on a terminal, unless NO_COLOR is set), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  RegisterStoreCommands(app, cli);
  RegisterAuthCommands(app, cli);
  RegisterTransferCommands(app, cli);
  RegisterEmulationCommands(app, cli);
  RegisterRunCommands(app, cli);
  RegisterDockerfileCommands(app, cli);
  RegisterBuildCommands(app, cli);
  OneValuePerOccurrence(app);
  InstallHelpFormatter(app);
  cli.json_requested = [&app] { return JsonGiven(app); };
  InstallRootlessEntry(app, cli);

  const std::vector<std::string> argv_words(argv + 1, argv + argc);
  const std::string usage_error =
      Style(ColourWanted(ColourFlag(argv_words), STDERR_FILENO)).Red("anyarch: error:") + " ";
  Dispatch d = Prepare(app, argv_words);
  switch (d.action) {
    case Dispatch::Action::kTopHelp:
      std::cout << TopLevelHelp(app);
      return kExitOk;
    case Dispatch::Action::kVersion:
      if (d.json) {
        std::cout << OrderedJson{{"version", std::string(kVersion).substr(8)}}.dump(2) << "\n";
      } else {
        std::cout << kVersion << "\n";
      }
      return kExitOk;
    case Dispatch::Action::kUsageError:
      std::cerr << usage_error << d.error << "\n";
      return kExitUsage;
    case Dispatch::Action::kParse:
      break;
  }
  // CLI11 parses a reversed vector.
  std::vector<std::string> args(d.args.rbegin(), d.args.rend());
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // reported already (InstallRootlessEntry)
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    std::cerr << usage_error << ParseErrorText(e) << "\n"
              << "Run 'anyarch --help' (or 'anyarch COMMAND --help') for usage.\n";
    return kExitUsage;
  }
  return cli.exit_code;
}

}  // namespace anyarch::cli

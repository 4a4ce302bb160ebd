#include "cli/dispatch.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <sstream>

#include "base/strings.h"

namespace anyarch::cli {
namespace {

struct Summary {
  const char* group;
  const char* name;
  const char* line;
};

// One line per command, in the order `anyarch --help` shows them; the long text stays in each
// command's own --help.
constexpr Summary kSummaries[] = {
    {"Build and run", "build", "Build a Dockerfile for one or more platforms"},
    {"Build and run", "run", "Run an image's command here, emulated where needed"},
    {"Build and run", "ps", "List containers kept by run (without --rm)"},
    {"Build and run", "rm", "Remove kept containers"},
    {"Build and run", "lint", "Check a Dockerfile for multi-architecture traps"},
    {"Images", "pull", "Copy an image from a registry into the local store"},
    {"Images", "push", "Copy an image from the local store to a registry"},
    {"Images", "images", "List the local store's images"},
    {"Images", "tag", "Give a local image another name"},
    {"Images", "rmi", "Remove local images"},
    {"Images", "prune", "Delete what no local name uses"},
    {"Images", "du", "Show what the local store holds and what prune would free"},
    {"Images", "export", "Write a local image to an oci or docker archive"},
    {"Images", "import", "Read an oci or docker archive into the local store"},
    {"Images", "copy", "Copy images between registries, layouts, archives, the store"},
    {"Images", "inspect", "Show an image or index and its platforms"},
    {"Registries", "login", "Store credentials for a registry"},
    {"Registries", "logout", "Remove a registry's credentials"},
    {"Registries", "manifest", "Create, annotate, push and merge multi-platform indexes"},
    {"Registries", "tags", "List a repository's tags"},
    {"Emulation and checks", "binfmt", "Register and test qemu through binfmt_misc"},
    {"Emulation and checks", "verify", "Check every ELF file matches its image's platform"},
    {"Emulation and checks", "file", "Show the OCI platform of ELF files"},
    {"Emulation and checks", "doctor", "Show what this host can do and how to fix the rest"},
    {"Emulation and checks", "store", "Check the local store"},
};

std::vector<const CLI::App*> Commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<std::string> Names(const std::vector<const CLI::App*>& cmds) {
  std::vector<std::string> out;
  for (const auto* c : cmds) out.push_back(c->get_name());
  return out;
}

const CLI::App* Find(const std::vector<const CLI::App*>& cmds, const std::string& name) {
  for (const auto* c : cmds) {
    if (c->get_name() == name) return c;
  }
  return nullptr;
}

std::string UnknownCommand(const std::string& prefix, const std::string& word,
                           const std::vector<std::string>& names) {
  std::string msg = "unknown command \"" + prefix + Printable(word, 40) + "\"";
  if (auto near = ClosestWord(word, names)) msg += "; did you mean \"" + prefix + *near + "\"?";
  msg += "\nRun 'anyarch " + prefix + "--help' for the commands.";
  return msg;
}

// Whether option token `arg` of `cmd` takes the next argument as its value.
bool TakesNextValue(const CLI::App& cmd, const std::string& arg) {
  if (arg.find('=') != std::string::npos) return false;
  const CLI::Option* opt = cmd.get_option_no_throw(arg);
  return opt && opt->get_items_expected_max() > 0;
}

// Index of the first positional word at or after `from`, skipping `cmd`'s options and their
// values; args.size() when there is none. Stops at "--".
std::size_t FirstWord(const CLI::App& cmd, const std::vector<std::string>& args, std::size_t from) {
  for (std::size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return args.size();
    if (a.size() > 1 && a[0] == '-') {
      if (TakesNextValue(cmd, a)) ++i;
      continue;
    }
    return i;
  }
  return args.size();
}

bool IsHelp(const std::string& a) { return a == "-h" || a == "--help" || a == "--help-all"; }

class HelpFormatter final : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    if (app->get_parent() == nullptr && mode == CLI::AppFormatMode::Normal) {
      return TopLevelHelp(*app);
    }
    return CLI::Formatter::make_help(app, std::move(name), mode);
  }

  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::string out = "Usage: " + name;
    if (!app->get_options([](const CLI::Option* o) { return o->nonpositional(); }).empty()) {
      out += " [OPTIONS]";
    }
    for (const CLI::Option* o :
         app->get_options([](const CLI::Option* o) { return o->get_positional(); })) {
      std::string word = o->get_name(true, false);
      std::transform(word.begin(), word.end(), word.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (o->get_items_expected_max() > 1) word += "...";
      out += " " + (o->get_required() ? word : "[" + word + "]");
    }
    // run takes the image and the command as what CLI11 leaves over.
    if (app->get_name() == "run") out += " IMAGE [COMMAND...]";
    if (!Commands(*app).empty()) out += " COMMAND";
    return out + "\n";
  }
};

void SetFormatter(CLI::App& app, const std::shared_ptr<CLI::Formatter>& f) {
  app.formatter(f);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) SetFormatter(*sub, f);
}

}  // namespace

void InstallHelpFormatter(CLI::App& app) { SetFormatter(app, std::make_shared<HelpFormatter>()); }

std::string TopLevelHelp(const CLI::App& app) {
  std::ostringstream out;
  out << "Usage: anyarch [OPTIONS] COMMAND [ARGS...]\n";
  auto cmds = Commands(app);
  std::vector<std::string> shown;
  const char* group = "";
  for (const auto& s : kSummaries) {
    if (!Find(cmds, s.name)) continue;
    if (std::string(group) != s.group) {
      group = s.group;
      out << "\n" << group << ":\n";
    }
    char line[128];
    std::snprintf(line, sizeof line, "  %-9s %s\n", s.name, s.line);
    out << line;
    shown.push_back(s.name);
  }
  bool other = false;
  for (const auto* c : cmds) {
    if (std::find(shown.begin(), shown.end(), c->get_name()) != shown.end()) continue;
    if (c->get_name() == "help" || c->get_name() == "version") continue;
    if (!other) out << "\nOther commands:\n";
    other = true;
    std::string d = c->get_description();
    d = d.substr(0, std::min(d.find('\n'), std::size_t{66}));
    char line[128];
    std::snprintf(line, sizeof line, "  %-9s %s\n", c->get_name().c_str(), d.c_str());
    out << line;
  }
  out << "\nOptions:\n"
      << "  --root DIR (the local store)   --config FILE (registries)   --insecure   --debug\n"
      << "  --progress auto|plain|tty|json|quiet   --color auto|always|never   --version\n"
      << "\nRun 'anyarch help COMMAND' (or 'anyarch COMMAND --help') for a command's options.\n";
  return out.str();
}

Dispatch Prepare(const CLI::App& app, std::vector<std::string> args) {
  Dispatch d;
  auto cmds = Commands(app);
  std::size_t i = FirstWord(app, args, 0);
  bool help = std::any_of(args.begin(), args.begin() + static_cast<long>(i), IsHelp);
  bool version = std::find(args.begin(), args.begin() + static_cast<long>(i), "--version") !=
                 args.begin() + static_cast<long>(i);
  if (version) {
    d.action = Dispatch::Action::kVersion;
    return d;
  }
  if (i == args.size() || help) {
    d.action = Dispatch::Action::kTopHelp;
    return d;
  }
  if (args[i] == "version") {
    d.action = Dispatch::Action::kVersion;
    d.json = std::find(args.begin() + static_cast<long>(i), args.end(), "--json") != args.end();
    return d;
  }
  if (args[i] == "help") {
    // help [COMMAND [SUB]]: the words after help, then --help.
    std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
    args.erase(args.begin() + static_cast<long>(i), args.end());
    if (rest.empty()) {
      d.action = Dispatch::Action::kTopHelp;
      return d;
    }
    args.insert(args.end(), rest.begin(), rest.end());
    args.push_back("--help");
  }
  const CLI::App* cmd = Find(cmds, args[i]);
  if (!cmd) {
    d.action = Dispatch::Action::kUsageError;
    d.error = UnknownCommand("", args[i], Names(cmds));
    return d;
  }
  // A command made of subcommands (manifest, binfmt): its first word must name one.
  auto subs = Commands(*cmd);
  if (!subs.empty() &&
      cmd->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty()) {
    std::size_t j = FirstWord(*cmd, args, i + 1);
    if (j < args.size() && !Find(subs, args[j])) {
      d.action = Dispatch::Action::kUsageError;
      d.error = UnknownCommand(cmd->get_name() + " ", args[j], Names(subs));
      return d;
    }
  }
  d.args = std::move(args);
  return d;
}

}  // namespace anyarch::cli

#include <iostream>
#include <iterator>

#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "ops/login.h"

namespace anyarch::cli {

void RegisterAuthCommands(CLI::App& app, Cli& cli) {
  struct Flags {
    std::string registry, username;
    bool password_stdin = false;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* login = app.add_subcommand(
      "login",
      "Check credentials against a registry and keep them in the docker config.json\n"
      "($DOCKER_CONFIG/config.json or ~/.docker/config.json, mode 0600), where anyarch, docker,\n"
      "skopeo and buildah find them. The password is read from standard input, never from the\n"
      "command line, and is never printed.");
  login->add_option("registry", f->registry, "The registry, host[:port]")->required();
  login->add_option("-u,--username", f->username, "User name")->required();
  login->add_flag("--password-stdin", f->password_stdin,
                  "Read the password from standard input (required)");
  login->add_flag("--json", f->json, "Print JSON");
  SetExamples(login, {"printf '%s' \"$PASSWORD\" | anyarch login -u ci --password-stdin "
                      "127.0.0.1:5000"});
  login->callback([&cli, f] {
    if (!f->password_stdin) {
      return cli.Fail(
          Error(ErrorCode::kInvalid, "give the password on standard input with --password-stdin"));
    }
    std::string password((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
      password.pop_back();
    auto r = ops::Login(
        {.registry = f->registry, .username = f->username, .password = password, .env = cli.Env()});
    if (!r) return cli.Fail(r.error());
    if (f->json) {
      cli.out() << OrderedJson{{"registry", f->registry}, {"config", *r}}.dump(2) << "\n";
      return;
    }
    cli.out() << "Login to " << f->registry << " succeeded; credentials stored in " << *r << "\n";
  });
  auto lf = std::make_shared<Flags>();
  CLI::App* logout =
      app.add_subcommand("logout", "Remove a registry's credentials from the docker config.json");
  logout->add_option("registry", lf->registry, "The registry, host[:port]")->required();
  logout->add_flag("--json", lf->json, "Print JSON");
  SetExamples(logout, {"anyarch logout 127.0.0.1:5000"});
  logout->callback([&cli, lf] {
    auto r = ops::Logout(lf->registry, cli.Env());
    if (!r) return cli.Fail(r.error());
    if (lf->json) {
      cli.out() << OrderedJson{{"registry", lf->registry}, {"config", *r}}.dump(2) << "\n";
      return;
    }
    cli.out() << "Removed credentials for " << lf->registry << " from " << *r << "\n";
  });
}

}  // namespace anyarch::cli

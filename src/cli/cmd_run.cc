#include <iostream>

#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "cli/table.h"
#include "ops/containers.h"
#include "ops/run.h"
#include "ops/verify.h"

namespace anyarch::cli {
namespace {

struct VerifyFlags {
  std::string location;
  std::string platforms;
  bool json = false;
};

void RunVerify(Cli& cli, const VerifyFlags& f) {
  ops::VerifyRequest req{.location = f.location};
  req.insecure = cli.global.insecure;
  req.store_root = cli.StoreRoot();
  req.config_path = cli.ConfigPath();
  if (!f.platforms.empty()) {
    auto ps = platform::ParseList(f.platforms);
    if (!ps) return cli.Fail(ps.error().With("--platform"));
    req.platforms = *ps;
  }
  auto r = ops::Verify(req);
  if (!r) return cli.Fail(r.error());
  if (f.json) {
    OrderedJson j;
    j["source"] = r->source;
    j["ok"] = r->ok();
    OrderedJson arr = OrderedJson::array();
    for (const auto& p : r->platforms) {
      OrderedJson pj;
      pj["platform"] = p.platform.ToString();
      pj["manifest"] = p.manifest_digest;
      pj["files"] = p.files;
      pj["elf_files"] = p.elf_files;
      OrderedJson ms = OrderedJson::array();
      for (const auto& m : p.findings) {
        ms.push_back({{"path", m.path},
                      {"kind", m.kind},
                      {"found", m.found},
                      {"expected", m.expected},
                      {"detail", m.detail}});
      }
      pj["mismatches"] = ms;
      arr.push_back(pj);
    }
    j["platforms"] = arr;
    cli.out() << j.dump(2) << "\n";
  } else {
    for (const auto& p : r->platforms) {
      cli.out() << p.platform.ToString() << " " << p.manifest_digest.substr(0, 19) << ": "
                << p.files << " files, " << p.elf_files << " ELF, "
                << (p.findings.empty() ? "ok" : std::to_string(p.findings.size()) + " mismatch(es)")
                << "\n";
      for (const auto& m : p.findings) {
        cli.out() << "  " << m.kind << " " << (m.path.empty() ? "(image config)" : m.path)
                  << ": found " << m.found << ", expected " << m.expected << " (" << m.detail
                  << ")\n";
      }
    }
  }
  if (!r->ok()) cli.exit_code = kExitFailure;
}

struct RunFlags {
  std::string platform;
  bool rm = false;
  std::vector<std::string> env;
  std::string workdir;
  std::string user;
  std::string entrypoint;
  bool entrypoint_set = false;
  int timeout = 0;
  bool interactive = false;
  bool tty = false;
  std::vector<std::string> volumes;
  std::string network = "default";
  std::vector<std::string> security_opts;
};

// docker run flags anyarch does not have, and what it offers instead.
std::string DockerAlternative(const std::string& flag) {
  std::string f = flag.substr(0, flag.find('='));
  if (f == "-d" || f == "--detach")
    return "anyarch run stays in the foreground; run it in the background with your shell (&)";
  if (f == "-p" || f == "--publish" || f == "-P" || f == "--publish-all")
    return "ports are not published; --network host shares this machine's network";
  if (f == "--mount") return "use -v HOST:CONTAINER[:ro]";
  if (f == "--name") return "containers get a generated id, shown when kept (without --rm)";
  if (f == "--privileged" || f == "--cap-add")
    return "containers always run with Docker's default privileges";
  if (f == "--env-file") return "use -e KEY=VALUE, once per variable";
  if (f == "--pull") return "use anyarch pull first; run uses a pulled image";
  return "";
}

// -v HOST:CONTAINER[:ro|rw] as docker reads it; kInvalid says what is wrong.
Result<ops::Volume> ParseVolume(const std::string& text) {
  auto parts = Split(text, ':');
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalid,
                     "-v \"" + text + "\": " + why + " (expected HOST:CONTAINER[:ro])");
  };
  if (parts.size() < 2 || parts.size() > 3) return bad("wrong number of parts");
  ops::Volume v{.host = parts[0], .container = parts[1]};
  if (v.host.empty() || v.host[0] != '/') {
    return bad("the host path must be absolute (named volumes are not supported)");
  }
  if (v.container.empty() || v.container[0] != '/')
    return bad("the container path must be absolute");
  if (parts.size() == 3) {
    if (parts[2] == "ro") {
      v.readonly = true;
    } else if (parts[2] != "rw") {
      return bad("unknown mode \"" + parts[2] + "\"");
    }
  }
  return v;
}

// docker run's conventions: 125 when anyarch itself fails, 124 for a timeout (like timeout(1)).
constexpr int kExitRunFailed = 125;
constexpr int kExitHang = 124;

void RunRun(Cli& cli, const RunFlags& f, const std::vector<std::string>& rest) {
  if (rest.empty()) {
    cli.ErrorStart() << "run needs an IMAGE (anyarch run [OPTIONS] IMAGE [COMMAND...])\n";
    cli.exit_code = kExitUsage;
    return;
  }
  if (rest[0].size() > 1 && rest[0][0] == '-') {
    // Flags end at the image; a flag before it that run does not know is a mistake, not an
    // image reference.
    std::string alt = DockerAlternative(rest[0]);
    cli.ErrorStart() << "unknown flag " << rest[0] << " for run" << (alt.empty() ? "" : ": " + alt)
                     << "\n"
                     << "Run 'anyarch run --help' for its options.\n";
    cli.exit_code = kExitUsage;
    return;
  }
  ops::RunRequest req;
  for (const auto& v : f.volumes) {
    auto vol = ParseVolume(v);
    if (!vol) {
      cli.Fail(vol.error());
      cli.exit_code = kExitUsage;
      return;
    }
    req.volumes.push_back(*vol);
  }
  req.interactive = f.interactive;
  req.tty = f.tty;
  req.image = rest[0];
  req.command.assign(rest.begin() + 1, rest.end());
  if (!f.platform.empty()) {
    auto p = platform::Parse(f.platform);
    if (!p) {
      cli.Fail(p.error().With("--platform"));
      cli.exit_code = kExitRunFailed;
      return;
    }
    req.platform = *p;
  }
  if (f.entrypoint_set) req.entrypoint = f.entrypoint;
  req.env = f.env;
  req.workdir = f.workdir;
  req.user = f.user;
  req.remove = f.rm;
  req.timeout = std::chrono::seconds(f.timeout);
  if (f.network == "none") {
    req.network = isolation::Network::kNone;
  } else if (f.network == "host") {
    req.network = isolation::Network::kHost;
  } else if (f.network != "default" && f.network != "bridge") {
    cli.ErrorStart() << "--network: '" << f.network << "' is not one of default, none, host\n";
    cli.exit_code = kExitRunFailed;
    return;
  }
  for (const auto& o : f.security_opts) {
    if (o == "seccomp=unconfined" || o == "seccomp:unconfined") {
      req.seccomp = false;
    } else {
      cli.ErrorStart() << "--security-opt: '" << o
                       << "' is not supported (only seccomp=unconfined)\n";
      cli.exit_code = kExitRunFailed;
      return;
    }
  }
  req.store_root = cli.StoreRoot();
  req.insecure = cli.global.insecure;
  req.config_path = cli.ConfigPath();
  req.reporter = cli.Env().reporter;
  req.before_start = [&cli] { cli.EndProgress(); };
  auto r = ops::Run(req);
  cli.EndProgress();
  if (!r) {
    cli.Fail(r.error());
    cli.exit_code = kExitRunFailed;
    return;
  }
  for (const auto& s : r->skipped) cli.Warn("not created: " + s);
  if (r->timed_out) {
    cli.ErrorStart() << "the command did not finish within " << f.timeout << " s and was killed"
                     << (r->emulated ? " (it ran under emulation for " + r->platform.ToString() +
                                           "; emulated programs can hang)"
                                     : "")
                     << "\n";
    cli.exit_code = kExitHang;
    return;
  }
  if (!r->start_error.empty()) cli.ErrorStart() << r->start_error << "\n";
  if (!r->container_dir.empty())
    cli.err() << "anyarch: container files kept in " << r->container_dir
              << " (use --rm to drop them)\n";
  cli.exit_code = r->exit_code;
}

}  // namespace

void RegisterRunCommands(CLI::App& app, Cli& cli) {
  auto rf = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand(
      "run",
      "Run an image's command on this machine, emulated through binfmt_misc where its platform is\n"
      "foreign. Selects the platform from the index, unpacks the layers securely into a rootfs\n"
      "cached per layer chain, and runs the command in new mount, pid, uts and ipc namespaces on "
      "an\n"
      "overlay over that rootfs, with /proc, /dev and /sys set up like container runtimes do.\n"
      "Env, WorkingDir, User, Entrypoint and Cmd come from the image unless overridden. Exit "
      "code:\n"
      "the command's own; 124 when --timeout ended it; 125 when anyarch failed; 127 when the\n"
      "command is not in the image. Needs root.");
  run->prefix_command();
  run->allow_extras();
  run->fallthrough(false);
  run->add_option("--platform", rf->platform, "Platform to run (default: this host's)");
  run->add_flag("--rm", rf->rm, "Remove the container's writable layer afterwards");
  run->add_option("-e,--env", rf->env, "Set an environment variable KEY=VALUE (repeatable)");
  run->add_option("-w,--workdir", rf->workdir, "Working directory inside the container");
  run->add_option("-u,--user", rf->user, "User: name, uid, or user:group");
  run->add_option("--entrypoint", rf->entrypoint, "Replace the image's entrypoint")
      ->each([rf](const std::string&) { rf->entrypoint_set = true; });
  run->add_option("--timeout", rf->timeout,
                  "Kill the command after this many seconds and report a hang");
  run->add_flag("-i,--interactive", rf->interactive,
                "Accepted as docker's -i: the command reads anyarch's standard input");
  run->add_flag(
      "-t,--tty", rf->tty,
      "Give the command a terminal of its own (job control, window size, Ctrl-C), relayed "
      "to this one; without -t the command never gets a controlling terminal");
  run->add_option("-v,--volume", rf->volumes,
                  "Bind-mount HOST:CONTAINER[:ro] (absolute paths; repeatable)");
  run->add_option("--network", rf->network,
                  "default: a network namespace of its own with outbound access (the host's\n"
                  "loopback unreachable); none: loopback only; host: the host's network");
  run->add_option("--security-opt", rf->security_opts,
                  "seccomp=unconfined turns the default seccomp profile off");
  SetExamples(
      run,
      {"anyarch run --rm --platform linux/arm64 oci:./busybox:latest uname -m",
       "anyarch run --rm --platform linux/arm/v7 -e GREETING=hi oci:./busybox:latest sh -c "
       "'echo $GREETING'",
       "anyarch run --rm --timeout 60 --platform linux/s390x oci:./busybox:latest true",
       "anyarch run --rm --platform linux/arm64 127.0.0.1:5000/busybox:latest echo hello"},
      "\nImages: a registry reference (127.0.0.1:5000/app:1), oci:DIR[:TAG], local:REF ...\n"
      "(see docs/run.md). Everything after IMAGE is the command.\n");
  run->callback([&cli, rf, run] { RunRun(cli, *rf, run->remaining()); });

  auto vf = std::make_shared<VerifyFlags>();
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Check that every ELF file in each platform's image is built for that platform, and that\n"
      "every dynamically linked program's interpreter exists in the image. Streams the layers in\n"
      "order without unpacking them, applying whiteouts and opaque directories, so what is "
      "checked\n"
      "is the filesystem a container would see. Reports every mismatch (path, found platform,\n"
      "expected platform) and exits 1 if there is any. This catches the amd64 binary that slipped\n"
      "into an arm64 image before anyone runs it.");
  verify
      ->add_option("image", vf->location,
                   "The image: a registry reference (host/repo:tag) or oci:DIR[:TAG]")
      ->required();
  verify->add_option("--platform", vf->platforms,
                     "Only these platforms, comma-separated (default: all)");
  verify->add_flag("--json", vf->json, "Print JSON");
  SetExamples(verify, {"anyarch verify oci:./busybox:latest",
                       "anyarch verify --platform linux/arm64 oci:./busybox:latest --json"});
  verify->callback([&cli, vf] { RunVerify(cli, *vf); });

  struct PsFlags {
    bool all = false, quiet = false, json = false, no_trunc = false;
    std::vector<std::string> names;
  };
  auto pf = std::make_shared<PsFlags>();
  CLI::App* ps = app.add_subcommand(
      "ps",
      "List the containers anyarch run kept (run without --rm keeps the container's writable\n"
      "layer, as docker does): running ones, or with -a every one, newest first. A container\n"
      "whose anyarch was killed shows as dead. anyarch rm removes them; anyarch prune removes\n"
      "every one that is not running.");
  ps->add_flag("-a,--all", pf->all, "Also the exited and dead ones");
  ps->add_flag("-q,--quiet", pf->quiet, "Only the ids");
  ps->add_flag("--json", pf->json, "Print JSON");
  ps->add_flag("--no-trunc", pf->no_trunc, "Show whole commands (they are cut at 30 characters)");
  SetExamples(ps, {"anyarch ps -a", "anyarch ps -a --no-trunc", "anyarch ps -a --json"});
  ps->callback([&cli, pf] {
    auto r = ops::ListContainers(cli.StoreRoot(), pf->all);
    if (!r) return cli.Fail(r.error());
    if (pf->json) {
      Json arr = Json::array();
      for (const auto& c : *r)
        arr.push_back({{"id", c.id},
                       {"image", c.image},
                       {"platform", c.platform},
                       {"command", c.command},
                       {"created", c.created},
                       {"status", c.status},
                       {"exit_code", c.exit_code},
                       {"dir", c.dir}});
      cli.out() << arr.dump(2) << "\n";
      return;
    }
    if (pf->quiet) {
      for (const auto& c : *r) cli.out() << c.id << "\n";
      return;
    }
    Table table({"ID", "IMAGE", "PLATFORM", "COMMAND", "CREATED", "STATUS"});
    for (const auto& c : *r) {
      std::string cmd = Join(c.command, " ");
      if (!pf->no_trunc && cmd.size() > 30) cmd = cmd.substr(0, 27) + "...";
      std::string status =
          c.status == "exited" ? "exited (" + std::to_string(c.exit_code) + ")" : c.status;
      table.Add({c.id, c.image, c.platform, cmd, c.created, status});
    }
    cli.out() << table.Render(cli.OutStyle());
  });

  CLI::App* rm = app.add_subcommand(
      "rm",
      "Remove kept containers (anyarch ps -a) by id or a unique id prefix of 4 or more\n"
      "characters. A running container is refused; nothing is removed unless every name\n"
      "resolves.");
  rm->add_option("container", pf->names, "Container ids")->required();
  SetExamples(rm, {"anyarch run --platform linux/arm64 oci:./busybox:latest true && "
                   "anyarch rm $(anyarch ps -aq | head -n 1)"});
  rm->callback([&cli, pf] {
    auto r = ops::RemoveContainers(cli.StoreRoot(), pf->names);
    if (!r) return cli.Fail(r.error());
    for (const auto& id : *r) cli.out() << id << "\n";
  });
}

}  // namespace anyarch::cli

// RUN: a command in a container on the stage's snapshot (isolation/container.h), emulated
// through binfmt_misc where the stage's platform is foreign. What it writes lands in the
// step's upper directory, which becomes its layer.
//
// Docker's rules, as BuildKit applies them:
// - shell form runs `SHELL + [command]` (default /bin/sh -c); exec form runs the array as is,
//   with no variable expansion;
// - a heredoc that is the whole command ("RUN <<EOF") is the script: run with the shell, or
//   executed directly when it starts with "#!"; a heredoc after a command is passed to the
//   shell with its body, which then feeds it to the command;
// - the environment is the image's Env, plus the stage's ARGs that ENV does not override, plus
//   the proxy build args (HTTP_PROXY ...), which reach the step but are kept out of the cache
//   key and of the image;
// - User and WorkingDir come from the stage; --network from the flag, else the build's.
// A step that runs longer than --step-timeout is killed with every process it started, and
// the error says that emulated programs can hang.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "base/strings.h"
#include "build/steps.h"
#include "emulation/readiness.h"
#include "isolation/container.h"
#include "isolation/overlay_view.h"
#include "rootfs/user.h"

namespace anyarch::build {

namespace {

bool IsHeredocOnly(const dockerfile::Instruction& in) {
  if (in.heredocs.size() != 1) return false;
  std::string rest = in.args;
  const auto& h = in.heredocs[0];
  if (h.marker_offset + h.marker_size <= rest.size()) rest.erase(h.marker_offset, h.marker_size);
  return std::string(TrimSpace(rest)).empty();
}

// Reads the step's output, reporting it line by line and keeping the last lines for errors.
class OutputPump {
 public:
  OutputPump(int fd, std::function<void(const std::string&)> emit)
      : fd_(fd), emit_(std::move(emit)), thread_([this] { Loop(); }) {}
  ~OutputPump() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  std::string Tail() const {
    std::string out;
    for (const auto& l : last_) out += "  " + l + "\n";
    return out;
  }

 private:
  void Loop() {
    std::string partial;
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      partial.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = partial.find('\n')) != std::string::npos) {
        Line(partial.substr(0, nl));
        partial.erase(0, nl + 1);
      }
      if (partial.size() > 64 * 1024) {  // a line without end: report it in pieces
        Line(partial);
        partial.clear();
      }
    }
    if (!partial.empty()) Line(partial);
    ::close(fd_);
  }
  void Line(const std::string& l) {
    if (emit_) emit_(l);
    last_.push_back(l);
    if (last_.size() > 10) last_.pop_front();
  }

  int fd_;
  std::function<void(const std::string&)> emit_;
  std::deque<std::string> last_;
  std::thread thread_;
};

std::string Display(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

}  // namespace

Result<LayerStep> PrepareRun(StageEnv& env, const ImageState& state, const dockerfile::Step& step) {
  const auto& in = *step.inst;
  std::vector<std::string> argv;
  std::string script;  // a "#!" heredoc, executed as a file
  if (in.json_form) {
    argv = in.json_args;
  } else if (IsHeredocOnly(in)) {
    const auto& body = in.heredocs[0].body;
    if (body.rfind("#!", 0) == 0) {
      script = body;
      argv = {"/dev/.anyarch-heredoc"};
    } else {
      argv = state.Shell();
      argv.push_back(body);
    }
  } else {
    std::string cmd = in.args;
    for (const auto& h : in.heredocs) cmd += "\n" + h.body + h.delimiter;
    argv = state.Shell();
    argv.push_back(cmd);
  }
  if (argv.empty() || argv[0].empty())
    return MakeError(ErrorCode::kInvalid, Where(env, step) + ": RUN needs a command");

  std::vector<std::string> run_env = state.Env();
  auto has = [&](const std::string& k) {
    return std::any_of(run_env.begin(), run_env.end(),
                       [&](const std::string& e) { return e.compare(0, k.size() + 1, k + "=") == 0; });
  };
  for (const auto& [k, v] : env.args) {
    if (!has(k)) run_env.push_back(k + "=" + v);
  }
  if (!has("PATH"))
    run_env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  std::vector<std::string> keyed_env = run_env;
  for (const auto& [k, v] : env.request.build_args) {
    if (dockerfile::IsProxyArg(k) && !has(k)) run_env.push_back(k + "=" + v);
  }

  std::string network = env.request.network;
  for (const auto& [name, value] : step.flags) {
    if (name == "network") {
      network = value;
    } else if (name == "mount") {
      return MakeError(ErrorCode::kUnsupported,
                       Where(env, step) + ": RUN --mount is not supported yet (" + value + ")");
    } else if (name == "security") {
      if (value != "sandbox")
        return MakeError(ErrorCode::kUnsupported,
                         Where(env, step) + ": RUN --security=" + value +
                             " is not allowed (only sandbox, the default)");
    } else {
      return MakeError(ErrorCode::kInvalid, Where(env, step) + ": RUN has no flag --" + name);
    }
  }
  isolation::Network net;
  if (network == "default") {
    net = isolation::Network::kDefault;
  } else if (network == "none") {
    net = isolation::Network::kNone;
  } else if (network == "host") {
    net = isolation::Network::kHost;
  } else {
    return MakeError(ErrorCode::kInvalid, Where(env, step) + ": --network=" + network +
                                              " (use default, none or host)");
  }

  LayerStep out;
  out.definition = {{"kind", "RUN"},       {"argv", argv},         {"env", keyed_env},
                    {"user", state.User()}, {"cwd", state.WorkingDir()}, {"network", network},
                    {"script", script}};
  out.created_by = "RUN " + Display(argv) + " # buildkit";
  const int line = in.pos.line;
  out.execute = [&env, state, step, argv, run_env, net, script, line](const Scratch& scratch) -> Status {
    auto ready = emulation::CheckReadiness(env.platform);
    if (!ready) return Unexpected(std::move(ready.error()).With(Where(env, step)));
    std::vector<std::string> lowers = state.lowers;
    if (lowers.empty()) lowers.push_back(env.empty_dir);
    // A read-only view of the stage, to resolve its User in its own /etc/passwd.
    return isolation::WithOverlays(
        {{.lowers = lowers}}, [&](const std::vector<std::string>& views) -> Status {
          auto ids = rootfs::ResolveUser(views[0], state.User());
          if (!ids) return Unexpected(std::move(ids.error()).With(Where(env, step) + ": USER"));
          isolation::ContainerSpec spec;
          spec.lowers = lowers;
          spec.rootfs = lowers.back();
          spec.state_dir = scratch.state();
          spec.argv = argv;
          spec.env = run_env;
          spec.cwd = state.WorkingDir();
          spec.uid = ids->uid;
          spec.gid = ids->gid;
          spec.hostname = "buildkitsandbox";
          spec.timeout = env.request.step_timeout;
          spec.linux32 = ready->linux32;
          spec.network = net;
          spec.cancel = env.cancel;
          std::string script_file;
          if (!script.empty()) {
            script_file = (std::filesystem::path(scratch.state()) / "heredoc").string();
            ANYARCH_CHECK(WriteFileAtomic(script_file, script, 0755));
            spec.mounts.push_back({.type = isolation::Mount::Type::kBind,
                                   .source = script_file,
                                   .target = "/dev/.anyarch-heredoc",
                                   .readonly = true});
          }
          int pipefd[2];
          if (::pipe2(pipefd, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
          UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
          spec.stdin_fd = null.get();
          spec.stdout_fd = pipefd[1];
          spec.stderr_fd = pipefd[1];
          OutputPump pump(pipefd[0], env.output);
          auto result = isolation::Run(spec);
          ::close(pipefd[1]);
          pump.Join();
          if (!script_file.empty()) ::unlink(script_file.c_str());
          if (!result) return Unexpected(std::move(result.error()).With(Where(env, step)));
          std::string what = "RUN " + Display(argv);
          if (result->cancelled)
            return MakeError(ErrorCode::kCancelled, Where(env, step) + ": " + what + ": interrupted");
          if (result->timed_out) {
            return MakeError(
                ErrorCode::kTimeout,
                Where(env, step) + ": " + what + " ran longer than --step-timeout " +
                    std::to_string(env.request.step_timeout.count()) +
                    "s and was stopped with every process it started" +
                    (ready->emulated ? "; programs emulated by qemu can hang (java -version, "
                                       "npm and yarn on arm are known to), so check it on a "
                                       "native machine or raise the limit"
                                     : ""));
          }
          if (!result->start_error.empty())
            return MakeError(ErrorCode::kInvalid,
                             Where(env, step) + ": " + what + ": " + result->start_error);
          if (result->exit_code != 0) {
            (void)line;
            return MakeError(ErrorCode::kInvalid,
                             Where(env, step) + ": " + what +
                                 " did not complete successfully: exit code " +
                                 std::to_string(result->exit_code) +
                                 (pump.Tail().empty() ? "" : "; its last output:\n" + pump.Tail()));
          }
          return Ok();
        });
  };
  return out;
}

}  // namespace anyarch::build

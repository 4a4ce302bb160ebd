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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "base/in_root.h"
#include "base/strings.h"
#include "build/steps.h"
#include "dockerfile/run.h"
#include "emulation/readiness.h"
#include "isolation/container.h"
#include "isolation/overlay_view.h"
#include "layer/copy_up.h"
#include "rootfs/user.h"

namespace anyarch::build {

namespace {

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

// A --mount as the step will apply it: where its content comes from on this machine.
struct PlannedMount {
  dockerfile::MountSpec spec;
  enum class Source { kContext, kStage, kImage, kCache, kTmpfs, kSecret } source;
  std::vector<std::string> lowers;  // kStage / kImage: the tree to mount a view of
  std::string secret;               // kSecret: the content (never in a key, a layer or a log)
};

Result<std::vector<PlannedMount>> PlanMounts(StageEnv& env, const ImageState& state,
                                             const dockerfile::Step& step, Json& key_mounts,
                                             std::vector<std::string>& secret_env) {
  ANYARCH_TRY(auto specs, dockerfile::ParseMounts(step, state.WorkingDir()));
  std::vector<PlannedMount> out;
  for (const auto& m : specs) {
    PlannedMount pm{.spec = m, .source = PlannedMount::Source::kContext};
    Json k = {{"type", dockerfile::MountTypeName(m.type)},
              {"target", m.target},
              {"readonly", m.readonly}};
    switch (m.type) {
      case dockerfile::MountType::kBind: {
        k["source"] = m.source;
        if (m.from.empty()) {
          auto hash = env.context.Hash(JoinInRoot("", m.source));
          if (!hash)
            return Unexpected(std::move(hash.error()).With(Where(env, step) + ": --mount"));
          k["content"] = hash->ToString();
        } else if (auto idx = env.find_stage(m.from)) {
          ANYARCH_TRY(ImageState st, env.stage_state(*idx));
          pm.source = PlannedMount::Source::kStage;
          pm.lowers = st.lowers.empty() ? std::vector<std::string>{env.empty_dir} : st.lowers;
          k["from"] = st.key.ToString();
        } else {
          ANYARCH_TRY(auto img, env.resolver.Resolve(m.from, env.platform));
          pm.source = PlannedMount::Source::kImage;
          pm.lowers = {img->rootfs};
          k["from"] = img->manifest.raw.digest.ToString();
        }
        break;
      }
      case dockerfile::MountType::kCache:
        if (!m.from.empty())
          return MakeError(ErrorCode::kUnsupported,
                           Where(env, step) + ": --mount=type=cache,from= is not supported yet");
        pm.source = PlannedMount::Source::kCache;
        k["id"] = m.id;
        k["sharing"] = m.sharing;
        break;
      case dockerfile::MountType::kTmpfs:
        pm.source = PlannedMount::Source::kTmpfs;
        k["size"] = m.size;
        break;
      case dockerfile::MountType::kSecret: {
        pm.source = PlannedMount::Source::kSecret;
        k["id"] = m.id;
        k["env"] = m.env;
        const Secret* found = nullptr;
        for (const auto& s : env.request.secrets) {
          if (s.id == m.id) found = &s;
        }
        std::optional<std::string> content;
        if (found && !found->env.empty()) {
          if (const char* v = std::getenv(found->env.c_str())) content = v;
        } else if (found) {
          auto text = ReadFile(found->src, 1 << 20);
          if (!text && text.error().code() != ErrorCode::kNotFound) return Unexpected(text.error());
          if (text) content = std::move(*text);
        }
        if (!content) {
          if (m.required)
            return MakeError(ErrorCode::kNotFound,
                             Where(env, step) + ": the secret \"" + m.id +
                                 "\" is required and was not given (--secret id=" + m.id +
                                 ",src=FILE or id=" + m.id + ",env=VARIABLE)");
          continue;  // an optional secret that is absent is not mounted, as in BuildKit
        }
        if (!m.env.empty()) secret_env.push_back(m.env + "=" + *content);
        if (m.target.empty()) continue;
        pm.secret = std::move(*content);
        break;
      }
      case dockerfile::MountType::kSsh:
        if (!m.required) continue;
        return MakeError(ErrorCode::kUnsupported,
                         Where(env, step) +
                             ": --mount=type=ssh needs an SSH agent, which anyarch "
                             "does not forward yet");
    }
    key_mounts.push_back(k);
    out.push_back(std::move(pm));
  }
  return out;
}

// A lock on a cache mount for sharing=locked: held for the step, released by close.
Result<UniqueFd> LockCache(const std::string& dir) {
  UniqueFd fd(::open((dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Unexpected(ErrnoError(errno, "locking the cache mount " + dir));
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Unexpected(ErrnoError(errno, "locking the cache mount " + dir));
  }
  return fd;
}

}  // namespace

Result<LayerStep> PrepareRun(StageEnv& env, const ImageState& state, const dockerfile::Step& step) {
  const auto& in = *step.inst;
  dockerfile::RunCommand cmd = dockerfile::RunCommandOf(in);
  std::vector<std::string> argv;
  if (cmd.prepend_shell) argv = state.Shell();
  argv.insert(argv.end(), cmd.args.begin(), cmd.args.end());
  if (argv.empty() || argv[0].empty())
    return MakeError(ErrorCode::kInvalid, Where(env, step) + ": RUN needs a command");

  std::vector<std::string> run_env = state.Env();
  auto has = [&](const std::string& k) {
    return std::any_of(run_env.begin(), run_env.end(), [&](const std::string& e) {
      return e.compare(0, k.size() + 1, k + "=") == 0;
    });
  };
  for (const auto& [k, v] : env.args) {
    if (!has(k)) run_env.push_back(k + "=" + v);
  }
  if (!has("PATH"))
    run_env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  std::vector<std::string> keyed_env = run_env;
  // Proxy settings reach the step but neither its key nor the image, as BuildKit does.
  for (const auto& [k, v] : env.request.build_args) {
    if (dockerfile::IsProxyArg(k) && !has(k)) run_env.push_back(k + "=" + v);
  }

  ANYARCH_TRY(auto net_flag, dockerfile::ParseNetwork(step));
  ANYARCH_TRY(auto security, dockerfile::ParseSecurity(step));
  if (security == dockerfile::RunSecurity::kInsecure)
    return MakeError(ErrorCode::kDenied,
                     Where(env, step) +
                         ": RUN --security=insecure is not allowed: anyarch runs "
                         "every step in the hardened container");
  std::string network = env.request.network;
  bool has_network_flag = step.FindFlag("network") != nullptr;
  if (has_network_flag) {
    network = net_flag == dockerfile::RunNetwork::kNone   ? "none"
              : net_flag == dockerfile::RunNetwork::kHost ? "host"
                                                          : "default";
  }
  isolation::Network net = network == "none"   ? isolation::Network::kNone
                           : network == "host" ? isolation::Network::kHost
                                               : isolation::Network::kDefault;
  if (network != "none" && network != "host" && network != "default")
    return MakeError(ErrorCode::kInvalid, "--network=" + network + " (use default, none or host)");

  Json key_mounts = Json::array();
  std::vector<std::string> secret_env;
  ANYARCH_TRY(auto mounts, PlanMounts(env, state, step, key_mounts, secret_env));
  for (auto& e : secret_env) run_env.push_back(std::move(e));

  LayerStep out;
  out.definition = {{"kind", "RUN"},
                    {"argv", argv},
                    {"env", keyed_env},
                    {"user", state.User()},
                    {"cwd", state.WorkingDir()},
                    {"network", network},
                    {"mounts", key_mounts},
                    {"script", cmd.script ? cmd.script->content : ""}};
  out.created_by = "RUN " + Display(argv) + " # buildkit";
  out.reads = state.lowers;
  for (const auto& m : mounts) out.reads.insert(out.reads.end(), m.lowers.begin(), m.lowers.end());
  out.execute = [&env, state, step, argv, run_env, net, cmd,
                 mounts](const Scratch& scratch) -> Status {
    auto ready = emulation::CheckReadiness(env.platform);
    if (!ready) return Unexpected(std::move(ready.error()).With(Where(env, step)));
    std::vector<std::string> lowers = state.lowers;
    if (lowers.empty()) lowers.push_back(env.empty_dir);
    // Views mounted in this step's private namespace, which the container inherits: the
    // stage itself (to resolve its User) and every bind mount from a stage or an image.
    std::vector<isolation::OverlaySpec> views = {{.lowers = lowers}};
    std::vector<int> view_of(mounts.size(), -1);
    ANYARCH_TRY(auto rw_dir, TempDir::Create(std::to_string(::getpid()) + "-mounts",
                                             std::filesystem::path(env.snapshots.store_root()) /
                                                 "build" / "tmp"));
    ::chmod(rw_dir.path().c_str(), 0700);
    for (std::size_t i = 0; i < mounts.size(); ++i) {
      const auto& m = mounts[i];
      if (m.source != PlannedMount::Source::kStage && m.source != PlannedMount::Source::kImage &&
          !(m.source == PlannedMount::Source::kContext && !m.spec.readonly))
        continue;
      isolation::OverlaySpec v{.lowers = m.lowers};
      if (m.source == PlannedMount::Source::kContext) v.lowers = {env.context.root()};
      if (!m.spec.readonly) {
        // A writable bind mount: its writes go to a throw-away upper, never to the source.
        std::string base = (rw_dir.path() / std::to_string(i)).string();
        std::filesystem::create_directories(base + "/u");
        std::filesystem::create_directories(base + "/w");
        v.upper = base + "/u";
        v.work = base + "/w";
      }
      view_of[i] = static_cast<int>(views.size());
      views.push_back(v);
    }
    return isolation::WithOverlays(views, [&](const std::vector<std::string>& merged) -> Status {
      auto ids = rootfs::ResolveUser(merged[0], state.User());
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
      spec.groups = ids->groups;
      spec.hostname = "buildkitsandbox";
      spec.timeout = env.request.step_timeout;
      spec.linux32 = ready->linux32;
      spec.network = net;
      spec.cancel = env.cancel;
      std::vector<UniqueFd> locks;
      std::optional<TempDir> private_cache;
      int secret_n = 0;
      for (std::size_t i = 0; i < mounts.size(); ++i) {
        const auto& m = mounts[i];
        isolation::Mount mount{.type = isolation::Mount::Type::kBind,
                               .target = m.spec.target,
                               .readonly = m.spec.readonly};
        switch (m.source) {
          case PlannedMount::Source::kContext: {
            std::string root = view_of[i] >= 0 ? merged[view_of[i]] : env.context.root();
            UniqueFd rootfd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (rootfd.get() < 0) return Unexpected(ErrnoError(errno, root));
            // The source is resolved inside the context; the mount is made through its fd.
            ANYARCH_TRY(UniqueFd src,
                        OpenInRoot(rootfd.get(), JoinInRoot("", m.spec.source), O_PATH));
            mount.source = m.spec.source;  // for messages
            mount.source_fd = src.get();
            locks.push_back(std::move(src));
            break;
          }
          case PlannedMount::Source::kStage:
          case PlannedMount::Source::kImage: {
            UniqueFd rootfd(::open(merged[view_of[i]].c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            ANYARCH_TRY(UniqueFd src,
                        OpenInRoot(rootfd.get(), JoinInRoot("", m.spec.source), O_PATH));
            mount.source = m.spec.source;  // for messages
            mount.source_fd = src.get();
            locks.push_back(std::move(src));
            break;
          }
          case PlannedMount::Source::kCache: {
            ANYARCH_TRY(std::string dir,
                        env.snapshots.CacheMount(env.platform, m.spec.id, m.spec.mode, m.spec.uid,
                                                 m.spec.gid));
            if (m.spec.sharing == "locked") {
              ANYARCH_TRY(UniqueFd lock, LockCache(dir));
              locks.push_back(std::move(lock));
            } else if (m.spec.sharing == "private") {
              // A private cache is this step's alone: when another step holds it, a fresh one.
              UniqueFd lock(::open((dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
              if (lock.get() >= 0 && ::flock(lock.get(), LOCK_EX | LOCK_NB) == 0) {
                locks.push_back(std::move(lock));
              } else {
                ANYARCH_TRY(auto fresh, TempDir::Create("private-cache", rw_dir.path()));
                dir = fresh.path().string();
                private_cache = std::move(fresh);
              }
            }
            mount.source = dir;
            mount.readonly = false;
            break;
          }
          case PlannedMount::Source::kTmpfs:
            mount.type = isolation::Mount::Type::kTmpfs;
            mount.readonly = false;
            mount.options = m.spec.size ? "size=" + std::to_string(m.spec.size) : "";
            break;
          case PlannedMount::Source::kSecret: {
            // In the step's private temporary directory, removed when the step ends: a secret
            // is never in the snapshot, the layer, the cache or the config.
            std::string file = (rw_dir.path() / ("secret-" + std::to_string(secret_n++))).string();
            ANYARCH_CHECK(WriteFileAtomic(file, m.secret, m.spec.mode ? m.spec.mode : 0400));
            if (::chown(file.c_str(), m.spec.uid, m.spec.gid) != 0)
              return Unexpected(ErrnoError(errno, "chown of a secret file"));
            mount.source = file;
            mount.readonly = true;
            break;
          }
        }
        spec.mounts.push_back(mount);
      }
      std::string script_file;
      if (cmd.script) {
        script_file = (rw_dir.path() / "heredoc").string();
        ANYARCH_CHECK(WriteFileAtomic(script_file, cmd.script->content, cmd.script->mode));
        spec.mounts.push_back({.type = isolation::Mount::Type::kBind,
                               .source = script_file,
                               .target = cmd.script->path,
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
                (ready->emulated ? "; programs emulated by qemu can hang (java -version, npm and "
                                   "yarn on arm are known to): check it on a native machine, or "
                                   "raise the limit"
                                 : ""));
      }
      if (!result->start_error.empty())
        return MakeError(ErrorCode::kInvalid,
                         Where(env, step) + ": " + what + ": " + result->start_error);
      if (result->exit_code != 0) {
        std::string tail = pump.Tail();
        return MakeError(ErrorCode::kInvalid,
                         Where(env, step) + ": " + what +
                             " did not complete successfully: exit code " +
                             std::to_string(result->exit_code) +
                             (tail.empty() ? "" : "; its last output:\n" + tail));
      }
      // merged[0] is the filesystem the step started from.
      auto dropped = layer::DropSpuriousCopyUps(scratch.diff(), merged[0]);
      if (!dropped) return Unexpected(std::move(dropped.error()).With(Where(env, step)));
      return Ok();
    });
  };
  return out;
}

}  // namespace anyarch::build

#include "ops/run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <sstream>

#include "base/fs.h"
#include "base/strings.h"
#include "emulation/readiness.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "isolation/container.h"
#include "isolation/kept.h"
#include "isolation/terminal.h"
#include "rootfs/snapshot.h"
#include "rootfs/user.h"
#include "transport/location.h"

namespace anyarch::ops {

namespace fs = std::filesystem;

namespace {

std::string RandomHex(int n) {
  std::random_device rd;
  static const char* d = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(d[rd() % 16]);
  return s;
}

}  // namespace

Result<RunOutcome> Run(const RunRequest& req) {
  Reporter& rep = req.reporter ? *req.reporter : DiscardReporter();
  RunOutcome out;
  platform::Platform host = platform::Host();
  platform::Platform want = req.platform.value_or(host);
  // An image pulled into the local store is run from there, as docker run does.
  std::string where = transport::PreferLocal(req.image, req.store_root, want);
  ANYARCH_TRY(auto src, transport::OpenSource(where, {.insecure = req.insecure,
                                                      .store_root = req.store_root,
                                                      .config_path = req.config_path}));
  ANYARCH_TRY(auto root, src->GetRootManifest());
  image::Descriptor target = root.ToDescriptor();
  if (image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(root));
    platform::Choice choice;
    ANYARCH_TRY(target, image::SelectPlatform(idx, want, &choice));
    if (!choice.exact) rep.Warn(platform::DescribeSubstitute(want, choice.chosen));
  }
  ANYARCH_TRY(auto raw, src->GetManifest(target));
  ANYARCH_TRY(auto m, image::ParseManifest(raw));
  ANYARCH_TRY(auto cfg_reader, src->OpenBlob(m.config));
  ANYARCH_TRY(std::string cfg_bytes, ReadAll(*cfg_reader, 8 << 20));
  ANYARCH_TRY(auto cfg, image::ParseConfig(std::move(cfg_bytes)));
  out.platform = platform::Normalize(target.platform ? *target.platform : cfg.platform);
  auto single = platform::Choose(want, {out.platform});
  if (!image::IsIndex(root.media_type) && single && !single->exact) {
    rep.Warn(platform::DescribeSubstitute(want, out.platform));
  }
  if (req.platform && !single) {
    return MakeError(ErrorCode::kNotFound, src->Describe() + " is a " + out.platform.ToString() +
                                               " image, not " + want.ToString());
  }
  // Foreign platforms need working emulation; check with the probe before unpacking anything.
  ANYARCH_TRY(auto ready, emulation::CheckReadiness(out.platform));
  out.emulated = ready.emulated;
  ANYARCH_TRY(fs::path rootfs,
              rootfs::UnpackSnapshot(*src, m, cfg, req.store_root, rep, out.skipped));

  isolation::ContainerSpec spec;
  spec.rootfs = rootfs.string();
  std::vector<std::string> entrypoint = cfg.entrypoint;
  if (req.entrypoint)
    entrypoint = req.entrypoint->empty() ? std::vector<std::string>{}
                                         : std::vector<std::string>{*req.entrypoint};
  std::vector<std::string> cmd =
      req.command.empty() ? (req.entrypoint ? std::vector<std::string>{} : cfg.cmd) : req.command;
  spec.argv = entrypoint;
  spec.argv.insert(spec.argv.end(), cmd.begin(), cmd.end());
  if (spec.argv.empty()) {
    return MakeError(
        ErrorCode::kInvalid,
        "the image has no Entrypoint or Cmd; give a command: anyarch run IMAGE CMD...");
  }
  spec.env = cfg.env;
  for (const auto& kv : req.env) {
    std::string key = kv.substr(0, kv.find('='));
    spec.env.erase(
        std::remove_if(spec.env.begin(), spec.env.end(),
                       [&](const std::string& e) { return e.substr(0, e.find('=')) == key; }),
        spec.env.end());
    spec.env.push_back(kv.find('=') == std::string::npos ? kv + "=" : kv);
  }
  if (std::none_of(spec.env.begin(), spec.env.end(),
                   [](const std::string& e) { return e.rfind("PATH=", 0) == 0; })) {
    spec.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }
  spec.cwd = !req.workdir.empty() ? req.workdir : (cfg.working_dir.empty() ? "/" : cfg.working_dir);
  const std::string& user = !req.user.empty() ? req.user : cfg.user;
  auto ids = rootfs::ResolveUser(rootfs, user);
  if (!ids)
    return Unexpected(
        std::move(ids.error()).With(req.user.empty() ? "the image's User" : "--user"));
  spec.uid = ids->uid;
  spec.gid = ids->gid;
  spec.groups = ids->groups;
  spec.timeout = req.timeout;
  spec.network = req.network;
  for (const auto& v : req.volumes) {
    spec.mounts.push_back({.type = isolation::Mount::Type::kBind,
                           .source = v.host,
                           .target = v.container,
                           .readonly = v.readonly,
                           .options = {}});
  }
  spec.seccomp = req.seccomp;
  spec.forward_signals = true;
  spec.linux32 = ready.linux32;
  std::string id = RandomHex(12);
  spec.hostname = id;
  fs::path containers = fs::path(req.store_root) / "containers";
  ANYARCH_CHECK(MakePrivateDir(containers));
  fs::path state = containers / id;
  spec.state_dir = state.string();
  // A kept container is recorded before it starts, so `ps` shows it running (or dead, if this
  // process is killed), and again when it ends.
  isolation::KeptContainer record{.id = id,
                                  .image = req.image,
                                  .platform = out.platform.ToString(),
                                  .command = spec.argv,
                                  .created = Rfc3339(std::nullopt),
                                  .status = "running",
                                  .pid = static_cast<long>(::getpid())};
  if (!req.remove) {
    ANYARCH_CHECK(MakePrivateDir(state));
    ANYARCH_CHECK(isolation::WriteKeptRecord(state.string(), record));
  }
  // Signals for anyarch are passed to the container while it runs (see isolation/container.h).
  if (req.before_start) req.before_start();
  sigset_t old_mask = isolation::BlockForwardedSignals();
  // -t: a terminal of the container's own, relayed to anyarch's stdio (isolation/terminal.h).
  std::unique_ptr<isolation::Terminal> terminal;
  if (req.tty) {
    auto opened = isolation::Terminal::Open();
    if (!opened) {
      ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
      std::error_code ignored;
      fs::remove_all(state, ignored);  // nothing ran: not even a kept container's record stays
      return Unexpected(opened.error());
    }
    terminal = std::move(*opened);
    spec.stdin_fd = spec.stdout_fd = spec.stderr_fd = terminal->slave();
    spec.controlling_tty = true;
  }
  auto result = isolation::Run(spec);
  if (terminal) terminal->Finish();
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  std::error_code ec;
  if (req.remove || !result) {
    fs::remove_all(state, ec);
  } else {
    out.container_dir = state.string();
    record.status = "exited";
    record.exit_code = result->exit_code;
    record.pid = 0;
    ANYARCH_CHECK(isolation::WriteKeptRecord(state.string(), record));
  }
  if (!result) return Unexpected(result.error());
  out.exit_code = result->exit_code;
  out.timed_out = result->timed_out;
  out.start_error = result->start_error;
  return out;
}

}  // namespace anyarch::ops

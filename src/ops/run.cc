#include "ops/run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <sstream>

#include "base/fs.h"
#include "base/strings.h"
#include "emulation/binfmt.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "isolation/container.h"
#include "layer/unpack.h"
#include "ops/location.h"

namespace anyarch::ops {

namespace fs = std::filesystem;

Digest ChainId(const std::vector<Digest>& diff_ids) {
  Digest chain;
  for (std::size_t i = 0; i < diff_ids.size(); ++i) {
    chain = i == 0 ? diff_ids[0] : Sha256Of(chain.ToString() + " " + diff_ids[i].ToString());
  }
  return chain;
}

namespace {

std::string RandomHex(int n) {
  std::random_device rd;
  static const char* d = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(d[rd() % 16]);
  return s;
}

// Looks a user or group up in the rootfs's /etc/passwd or /etc/group.
std::optional<std::pair<unsigned, unsigned>> LookupPasswd(const fs::path& rootfs,
                                                          const std::string& name) {
  auto text = ReadFile(rootfs / "etc/passwd", 1 << 20);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto f = Split(line, ':');
    if (f.size() >= 4 && f[0] == name) return std::make_pair(std::stoul(f[2]), std::stoul(f[3]));
  }
  return std::nullopt;
}

std::optional<unsigned> LookupGroup(const fs::path& rootfs, const std::string& name) {
  auto text = ReadFile(rootfs / "etc/group", 1 << 20);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto f = Split(line, ':');
    if (f.size() >= 3 && f[0] == name) return static_cast<unsigned>(std::stoul(f[2]));
  }
  return std::nullopt;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<std::pair<unsigned, unsigned>> ResolveUser(const fs::path& rootfs, const std::string& spec) {
  if (spec.empty()) return std::make_pair(0u, 0u);
  std::string user = spec.substr(0, spec.find(':'));
  std::string group = spec.find(':') == std::string::npos ? "" : spec.substr(spec.find(':') + 1);
  unsigned uid = 0, gid = 0;
  if (AllDigits(user)) {
    uid = static_cast<unsigned>(std::stoul(user));
    auto pw = LookupPasswd(rootfs, user);
    gid = uid;
    (void)pw;
  } else {
    auto pw = LookupPasswd(rootfs, user);
    if (!pw)
      return MakeError(ErrorCode::kNotFound,
                       "user \"" + user + "\" is not in the image's /etc/passwd");
    uid = pw->first;
    gid = pw->second;
  }
  if (!group.empty()) {
    if (AllDigits(group)) {
      gid = static_cast<unsigned>(std::stoul(group));
    } else {
      auto g = LookupGroup(rootfs, group);
      if (!g)
        return MakeError(ErrorCode::kNotFound,
                         "group \"" + group + "\" is not in the image's /etc/group");
      gid = *g;
    }
  }
  return std::make_pair(uid, gid);
}

// The rootfs for a layer chain, unpacked once and cached under <store>/snapshots/<chain id>.
Result<fs::path> Snapshot(image::ImageSource& src, const image::Manifest& m,
                          const image::ImageConfig& cfg, const std::string& store, Reporter& rep,
                          std::vector<std::string>& skipped) {
  if (cfg.diff_ids.size() != m.layers.size()) {
    return MakeError(ErrorCode::kInvalid,
                     "the image config lists " + std::to_string(cfg.diff_ids.size()) +
                         " layers but the manifest has " + std::to_string(m.layers.size()));
  }
  fs::path base = fs::path(store) / "snapshots";
  std::string id = m.layers.empty() ? "empty" : ChainId(cfg.diff_ids).hex();
  fs::path final_dir = base / id;
  std::error_code ec;
  if (fs::is_directory(final_dir / "rootfs", ec)) return final_dir / "rootfs";
  fs::create_directories(base, ec);
  if (ec) return MakeError(ErrorCode::kIo, base.string() + ": " + ec.message());
  ANYARCH_TRY(TempDir tmp, TempDir::Create(".unpack", base));
  fs::path rootfs = tmp.path() / "rootfs";
  fs::create_directories(rootfs, ec);
  ::chmod(rootfs.c_str(), 0755);
  int i = 0;
  for (const auto& l : m.layers) {
    ++i;
    rep.Progress(
        {.id = l.digest.ToString(),
         .action = "unpack",
         .current = static_cast<std::uint64_t>(i),
         .total = m.layers.size(),
         .detail = "layer " + std::to_string(i) + " of " + std::to_string(m.layers.size())});
    ANYARCH_TRY(auto reader, src.OpenBlob(l));
    auto stats = layer::ApplyLayer(*reader, rootfs.string());
    if (!stats)
      return Unexpected(std::move(stats.error()).With("unpacking layer " + l.digest.ToString()));
    skipped.insert(skipped.end(), stats->skipped.begin(), stats->skipped.end());
  }
  // Publish atomically: a killed unpack leaves only a .unpack.* directory, never a half rootfs.
  if (::rename(tmp.path().c_str(), final_dir.c_str()) != 0) {
    if (fs::is_directory(final_dir / "rootfs", ec)) return final_dir / "rootfs";  // another run won
    return Unexpected(ErrnoError(errno, "publishing " + final_dir.string()));
  }
  tmp.Release();
  return final_dir / "rootfs";
}

}  // namespace

Result<RunOutcome> Run(const RunRequest& req) {
  Reporter& rep = req.reporter ? *req.reporter : DiscardReporter();
  RunOutcome out;
  platform::Platform host = platform::Host();
  platform::Platform want = req.platform.value_or(host);
  ANYARCH_TRY(auto src, OpenSource(req.image, {.insecure = req.insecure, .store_root = req.store_root, .config_path = req.config_path}));
  ANYARCH_TRY(auto root, src->GetRootManifest());
  image::Descriptor target = root.ToDescriptor();
  if (image::IsIndex(root.media_type)) {
    ANYARCH_TRY(auto idx, image::ParseIndex(root));
    ANYARCH_TRY(target, image::SelectPlatform(idx, want));
  }
  ANYARCH_TRY(auto raw, src->GetManifest(target));
  ANYARCH_TRY(auto m, image::ParseManifest(raw));
  ANYARCH_TRY(auto cfg_reader, src->OpenBlob(m.config));
  ANYARCH_TRY(std::string cfg_bytes, ReadAll(*cfg_reader, 8 << 20));
  ANYARCH_TRY(auto cfg, image::ParseConfig(std::move(cfg_bytes)));
  out.platform = platform::Normalize(target.platform ? *target.platform : cfg.platform);
  if (req.platform && !platform::Matches(want, out.platform)) {
    return MakeError(ErrorCode::kNotFound, src->Describe() + " is a " + out.platform.ToString() +
                                               " image, not " + want.ToString());
  }
  // Foreign platforms need working emulation; check with the probe before unpacking anything.
  if (!platform::Matches(host, out.platform)) {
    const emulation::ArchSpec* arch = emulation::FindArch(out.platform.ToString());
    if (!arch) arch = emulation::FindArch(out.platform.architecture);
    if (!arch) {
      return MakeError(ErrorCode::kUnsupported,
                       "anyarch cannot emulate " + out.platform.ToString());
    }
    if (!arch->probe_code.empty()) {
      auto probe = emulation::Probe(*arch);
      if (probe.outcome != emulation::ProbeOutcome::kPass &&
          probe.outcome != emulation::ProbeOutcome::kNative) {
        return MakeError(ErrorCode::kUnavailable,
                         out.platform.ToString() + " needs emulation, which does not work here (" +
                             probe.detail + "); run: anyarch binfmt install " +
                             std::string(arch->cpu));
      }
    }
    out.emulated = true;
  }
  ANYARCH_TRY(fs::path rootfs, Snapshot(*src, m, cfg, req.store_root, rep, out.skipped));

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
  ANYARCH_TRY(auto ids, ResolveUser(rootfs, !req.user.empty() ? req.user : cfg.user));
  spec.uid = ids.first;
  spec.gid = ids.second;
  spec.timeout = req.timeout;
  spec.linux32 = (out.platform.architecture == "386" && host.architecture == "amd64") ||
                 (out.platform.architecture == "arm" && host.architecture == "arm64");
  std::string id = RandomHex(12);
  spec.hostname = id;
  fs::path state = fs::path(req.store_root) / "containers" / id;
  spec.state_dir = state.string();
  auto result = isolation::Run(spec);
  std::error_code ec;
  if (req.remove || !result) {
    fs::remove_all(state, ec);
  } else {
    out.container_dir = state.string();
  }
  if (!result) return Unexpected(result.error());
  out.exit_code = result->exit_code;
  out.timed_out = result->timed_out;
  out.start_error = result->start_error;
  return out;
}

}  // namespace anyarch::ops

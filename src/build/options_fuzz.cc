// libFuzzer target: the values of `anyarch build`'s own flags, each through the pure function
// the CLI or the builder calls. The first byte picks the parser (and, for some, a mode), the
// rest is the value:
//   0 --output        build::ParseOutput
//   1 --secret        build::ParseSecret
//   2 RUN --mount     dockerfile::ParseMountValue (with and without an expander), then
//                     dockerfile::ParseMounts as step_run.cc calls it; one value per line
//   3 RUN --network   dockerfile::ParseNetwork and ParseSecurity on a hand-built step
//                     (network value, a newline, then the security value)
//   4 --platform      platform::Parse of each comma-separated entry (as the CLI splits them)
//                     and platform::ParseList
//   5 --build-context the VALUE of NAME=VALUE through Resolver::LocationOf, then
//                     transport::ParseLocation (the CLI splits NAME=VALUE inline)
//   6 --compression   layer::ParseCompression
//   7 --cache-to / --cache-from  build::ParseCacheSpec (mode bit 0: to)
// Beyond not crashing, every accepted value must have the fields its header promises (a known
// output type with a dest where one is needed, a secret with an id and a source, a mount with
// its type's defaults, an absolute clean target that is not /), parsing must agree with itself
// (a --mount without "$" reads the same with and without an expander, ParseMounts is
// idempotent, a platform round-trips through its text), and a refused value must come back as
// an error of the expected class.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "build/build.h"
#include "build/resolve.h"
#include "dockerfile/ast.h"
#include "dockerfile/dockerignore.h"
#include "dockerfile/evaluate.h"
#include "dockerfile/mounts.h"
#include "dockerfile/run.h"
#include "layer/compress.h"
#include "platform/platform.h"
#include "ref/reference.h"
#include "transport/location.h"

namespace {

using namespace anyarch;

void Check(bool ok) {
  if (!ok) std::abort();
}

template <typename T>
void CheckInvalid(const Result<T>& r) {
  Check(r.error().code() == ErrorCode::kInvalid && !r.error().message().empty());
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool IsOneOf(const std::string& s, std::initializer_list<std::string_view> set) {
  for (auto v : set) {
    if (s == v) return true;
  }
  return false;
}

void FuzzOutput(const std::string& in) {
  auto o = build::ParseOutput(in);
  if (!o) return CheckInvalid(o);
  Check(IsOneOf(o->type, {"registry", "oci", "docker", "local", "tar", "image"}));
  if (IsOneOf(o->type, {"oci", "docker", "local", "tar"})) Check(!o->dest.empty());
  for (const auto& [k, v] : o->attrs) {
    Check(IsOneOf(k, {"push", "name", "compression", "oci-mediatypes"}));
  }
  // type=image,push=true is the registry output.
  if (o->type == "image") Check(o->attrs.count("push") == 0);
  if (in.find('=') == std::string::npos) {
    // A bare path: the final filesystem, or a tar on stdout for "-".
    Check(in == "-" ? o->type == "tar" && o->dest == "-" : o->type == "local" && o->dest == in);
  } else {
    // key=value,...: no value spans a comma, and values are trimmed.
    Check(o->dest.find(',') == std::string::npos);
    Check(o->dest.empty() || std::string(TrimSpace(o->dest)) == o->dest);
  }
}

void FuzzSecret(const std::string& in) {
  auto s = build::ParseSecret(in);
  if (!s) return CheckInvalid(s);
  Check(!s->id.empty() && s->id.find(',') == std::string::npos);
  Check(!s->src.empty() || !s->env.empty());
  Check(s->src.find(',') == std::string::npos && s->env.find(',') == std::string::npos);
}

// The defaults and exclusions mounts.h states for one parsed value (before ParseMounts).
void CheckMountValue(const dockerfile::MountSpec& m) {
  using dockerfile::MountType;
  Check(std::string(dockerfile::MountTypeName(m.type)) != "?");
  const bool cache = m.type == MountType::kCache, tmpfs = m.type == MountType::kTmpfs;
  const bool secret = m.type == MountType::kSecret, ssh = m.type == MountType::kSsh;
  if (cache) {
    Check(IsOneOf(m.sharing, {"shared", "private", "locked"}));
  } else {
    Check(m.sharing.empty());
  }
  if (!m.readonly_given) Check(m.readonly == !(cache || tmpfs));
  if (m.size != 0) Check(tmpfs);
  if (!m.env.empty()) Check(secret);
  if (m.required) Check(secret || ssh);
  if (m.file_info_given) Check(cache || secret || ssh);
  if (!m.file_info_given) {
    Check(m.mode == (cache ? 0755u : secret ? 0400u : ssh ? 0600u : 0u));
    Check(m.uid == 0 && m.gid == 0);
  }
  if (secret) Check(m.from.empty() && !(m.id_given && !m.source.empty()));
  if (ssh) Check(m.source.empty());
}

bool SameMount(const dockerfile::MountSpec& a, const dockerfile::MountSpec& b) {
  return a.type == b.type && a.target == b.target && a.source == b.source && a.from == b.from &&
         a.readonly == b.readonly && a.id == b.id && a.sharing == b.sharing &&
         a.required == b.required && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid &&
         a.file_info_given == b.file_info_given && a.size == b.size && a.env == b.env &&
         a.target_given == b.target_given && a.id_given == b.id_given &&
         a.readonly_given == b.readonly_given;
}

// What ParseMounts promises for the mounts of a RUN with every default applied.
void CheckPlannedMounts(const std::vector<dockerfile::MountSpec>& mounts) {
  using dockerfile::MountType;
  int ssh_index = 0;
  for (const auto& m : mounts) {
    Check(StartsWith(dockerfile::MountSpecText(m), dockerfile::MountTypeName(m.type)));
    switch (m.type) {
      case MountType::kBind:
      case MountType::kCache:
      case MountType::kTmpfs:
        Check(StartsWith(m.target, "/") && m.target != "/");
        Check(dockerfile::GoClean(m.target) == m.target);
        if (m.type != MountType::kTmpfs) {
          Check(StartsWith(m.source, "/") && dockerfile::GoClean(m.source) == m.source);
        }
        if (m.type == MountType::kCache) Check(!m.id.empty());
        break;
      case MountType::kSecret:
        Check(!m.id.empty() && m.source.empty());
        Check(!m.target.empty() || !m.env.empty());
        break;
      case MountType::kSsh:
        Check(!m.id.empty() && !m.target.empty());
        if (!m.target_given) {
          Check(m.target == "/run/buildkit/ssh_agent." + std::to_string(ssh_index));
        }
        ++ssh_index;
        break;
    }
  }
}

// mode bit 0: values go through an expander (as the evaluator reads them) that turns "$" into
// a comma, and fails on "$!"; bit 1: ParseMounts reads the --mount flags of the instruction
// itself instead of Step::mounts; bits 2-3: the working directory.
void FuzzMounts(unsigned mode, std::string_view in) {
  dockerfile::MountExpander expand = [](const std::string& v) -> Result<std::string> {
    if (v.find("$!") != std::string::npos)
      return MakeError(ErrorCode::kInvalid, "bad substitution");
    std::string out;
    for (char c : v) out += c == '$' ? std::string("a,b") : std::string(1, c);
    return out;
  };
  dockerfile::MountExpander identity = [](const std::string& v) -> Result<std::string> {
    return v;
  };
  static const char* const kWorkdirs[] = {"", "/", "/work", "/a/../b/./c/"};
  const std::string workdir = kWorkdirs[(mode >> 2) & 3];

  dockerfile::Instruction inst;
  inst.kind = dockerfile::Kind::kRun;
  inst.keyword = "RUN";
  inst.pos.line = 7;
  dockerfile::Step step;
  step.inst = &inst;
  auto lines = Split(in, '\n');
  if (lines.size() > 8) lines.resize(8);
  for (const auto& line : lines) {
    auto plain = dockerfile::ParseMountValue(line, nullptr);
    if (plain) CheckMountValue(*plain);
    if (!plain) CheckInvalid(plain);
    if (line.find('$') == std::string::npos) {
      // Nothing to expand: reading it with an expander must give the same answer.
      auto same = dockerfile::ParseMountValue(line, &identity);
      Check(same.has_value() == plain.has_value());
      if (same) Check(SameMount(*same, *plain));
    }
    if (mode & 2) {
      inst.flags.push_back(dockerfile::Flag{.name = "mount", .value = line, .has_value = true});
      continue;
    }
    auto m = dockerfile::ParseMountValue(line, (mode & 1) ? &expand : &identity);
    if (!m) {
      CheckInvalid(m);
      return;
    }
    CheckMountValue(*m);
    step.mounts.push_back(*m);
  }
  auto mounts = dockerfile::ParseMounts(step, workdir);
  if (!mounts) {
    CheckInvalid(mounts);
    Check(StartsWith(mounts.error().message(), "line 7: "));
    return;
  }
  Check(mounts->size() == lines.size());
  CheckPlannedMounts(*mounts);
  // Defaults applied once stay as they are: ParseMounts over its own result changes nothing.
  dockerfile::Step again;
  again.mounts = *mounts;
  auto twice = dockerfile::ParseMounts(again, workdir);
  Check(twice.has_value() && twice->size() == mounts->size());
  for (std::size_t i = 0; i < mounts->size(); ++i) Check(SameMount((*twice)[i], (*mounts)[i]));
}

// mode bit 0: no --network flag; bit 1: no --security flag.
void FuzzNetwork(unsigned mode, std::string_view in) {
  auto nl = in.find('\n');
  std::string network(in.substr(0, nl));
  std::string security(nl == std::string_view::npos ? "" : in.substr(nl + 1));
  dockerfile::Step step;
  if (!(mode & 1)) step.flags.emplace_back("network", network);
  if (!(mode & 2)) step.flags.emplace_back("security", security);
  auto net = dockerfile::ParseNetwork(step);
  if (mode & 1 || network == "default") {
    Check(net && *net == dockerfile::RunNetwork::kDefault);
  } else if (network == "none") {
    Check(net && *net == dockerfile::RunNetwork::kNone);
  } else if (network == "host") {
    Check(net && *net == dockerfile::RunNetwork::kHost);
  } else {
    Check(!net);
    CheckInvalid(net);
  }
  auto sec = dockerfile::ParseSecurity(step);
  if (mode & 2 || security == "sandbox") {
    Check(sec && *sec == dockerfile::RunSecurity::kSandbox);
  } else if (security == "insecure") {
    Check(sec && *sec == dockerfile::RunSecurity::kInsecure);
  } else {
    Check(!sec);
    CheckInvalid(sec);
  }
}

void FuzzPlatforms(std::string_view in) {
  bool all_ok = true;
  std::vector<platform::Platform> parsed;
  for (const auto& one : Split(in, ',')) {
    if (one == "local") continue;  // the CLI's name for this host
    auto p = platform::Parse(one);
    if (!p) {
      CheckInvalid(p);
      all_ok = false;
      continue;
    }
    Check(!p->os.empty() && !p->architecture.empty());
    Check(platform::Normalize(*p) == *p);
    auto back = platform::Parse(p->ToString());
    Check(back && *back == *p);
    parsed.push_back(*p);
  }
  if (in.find("local") != std::string_view::npos) return;
  auto list = platform::ParseList(in);
  Check(list.has_value() == all_ok);
  if (!list) return CheckInvalid(list);
  for (std::size_t i = 0; i < list->size(); ++i) {
    for (std::size_t j = i + 1; j < list->size(); ++j) Check(!((*list)[i] == (*list)[j]));
  }
  for (const auto& p : parsed) Check(std::find(list->begin(), list->end(), p) != list->end());
}

void FuzzBuildContext(const std::string& value) {
  transport::Transports transports(transport::Env{});
  build::Resolver resolver(transports, build::ResolverOptions{.build_contexts = {{"ctx", value}}});
  std::string where = resolver.LocationOf("ctx", platform::Platform{"linux", "amd64"});
  Check(where == (StartsWith(value, "docker-image://") ? value.substr(15) : value));
  auto loc = transport::ParseLocation(where);
  if (!loc) {
    Check(loc.error().code() == ErrorCode::kInvalid ||
          loc.error().code() == ErrorCode::kUnsupported);
    return;
  }
  Check(IsOneOf(loc->transport, {"oci", "oci-archive", "docker-archive", "local", "registry"}));
  if (loc->transport == "local" || loc->transport == "registry") {
    // A normalised reference is its own normal form.
    Check(!loc->reference.empty());
    auto r = ref::Parse(loc->reference);
    Check(r && r->ToString() == loc->reference);
  } else {
    Check(!loc->path.empty());
  }
}

void FuzzCompression(const std::string& in) {
  auto c = layer::ParseCompression(in);
  if (!c) return CheckInvalid(c);
  auto back = layer::ParseCompression(layer::CompressionName(*c));
  Check(back && *back == *c);
}

}  // namespace

// An accepted cache spec is a registry reference, an OCI layout's "cache" tag, or (--cache-to
// only, mode=min) inline.
void FuzzCacheSpec(unsigned mode, const std::string& in) {
  auto r = build::ParseCacheSpec(in, (mode & 1) != 0);
  if (!r) return CheckInvalid(r);
  Check(IsOneOf(r->type, {"registry", "local", "inline"}));
  if (r->type == "inline") return Check((mode & 1) != 0 && r->location.empty() && !r->max);
  Check(!r->location.empty());
  if (r->type == "registry") {
    auto loc = transport::ParseLocation(r->location);
    Check(loc.has_value() && loc->transport == "registry");
  } else {
    Check(StartsWith(r->location, "oci:") && r->location.size() > 10 &&
          r->location.compare(r->location.size() - 6, 6, ":cache") == 0);
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const unsigned mode = data[0] / 8;
  switch (data[0] % 8) {
    case 0:
      FuzzOutput(in);
      break;
    case 1:
      FuzzSecret(in);
      break;
    case 2:
      FuzzMounts(mode, in);
      break;
    case 3:
      FuzzNetwork(mode, in);
      break;
    case 4:
      FuzzPlatforms(in);
      break;
    case 5:
      FuzzBuildContext(in);
      break;
    case 6:
      FuzzCompression(in);
      break;
    case 7:
      FuzzCacheSpec(mode, in);
      break;
  }
  return 0;
}

#include "dockerfile/mounts.h"

#include <algorithm>
#include <cctype>

#include "base/strings.h"
#include "dockerfile/dockerignore.h"
#include "dockerfile/evaluate.h"

namespace anyarch::dockerfile {

const char* MountTypeName(MountType type) {
  switch (type) {
    case MountType::kBind:
      return "bind";
    case MountType::kCache:
      return "cache";
    case MountType::kTmpfs:
      return "tmpfs";
    case MountType::kSecret:
      return "secret";
    case MountType::kSsh:
      return "ssh";
  }
  return "?";
}

namespace {

Error Invalid(const std::string& why) { return Error(ErrorCode::kInvalid, why); }

// One record of Go's encoding/csv (comma-separated, "quoted" fields with "" for a quote).
Result<std::vector<std::string>> CsvFields(std::string_view s) {
  if (s.empty()) return MakeError(ErrorCode::kInvalid, "an empty --mount value");
  std::vector<std::string> out;
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (true) {
        if (i >= s.size())
          return MakeError(ErrorCode::kInvalid, "a quote in the value is not closed");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(s[i++]);
      }
      if (i < s.size() && s[i] != ',') {
        return MakeError(ErrorCode::kInvalid, "text after a quoted field (expected ',')");
      }
    } else {
      while (i < s.size() && s[i] != ',') {
        if (s[i] == '"') {
          return MakeError(ErrorCode::kInvalid,
                           "a bare \" in an unquoted field (quote the whole field)");
        }
        field.push_back(s[i++]);
      }
    }
    out.push_back(std::move(field));
    if (i >= s.size()) break;
    ++i;  // ','
  }
  return out;
}

// Go's strconv.ParseBool.
std::optional<bool> GoBool(const std::string& v) {
  static const char* const kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char* const kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
  if (std::find(std::begin(kTrue), std::end(kTrue), v) != std::end(kTrue)) return true;
  if (std::find(std::begin(kFalse), std::end(kFalse), v) != std::end(kFalse)) return false;
  return std::nullopt;
}

// Go's strconv.ParseUint(v, base, 32).
std::optional<std::uint32_t> GoUint32(const std::string& v, int base) {
  if (v.empty()) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : v) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : 99;
    if (d >= base) return std::nullopt;
    n = n * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
    if (n > 0xFFFFFFFFull) return std::nullopt;
  }
  return static_cast<std::uint32_t>(n);
}

// docker/go-units RAMInBytes: "64m", "1.5g", "512", "1GiB" (powers of 1024).
std::optional<std::uint64_t> RamBytes(const std::string& v) {
  std::size_t i = 0;
  while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
  if (i == 0 || v[0] == '.') return std::nullopt;
  std::string number = v.substr(0, i);
  std::string unit = v.substr(i);
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  std::string u = ToLower(unit);
  if (!u.empty() && u.back() == 'b') u.pop_back();
  if (!u.empty() && u.back() == 'i') u.pop_back();
  static const std::string kUnits = "kmgtp";
  double mult = 1;
  if (u.size() == 1 && kUnits.find(u[0]) != std::string::npos) {
    for (std::size_t k = 0; k <= kUnits.find(u[0]); ++k) mult *= 1024;
  } else if (!u.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  double n = std::strtod(number.c_str(), &end);
  if (!end || *end != '\0') return std::nullopt;
  // 2^64 and above do not fit (and converting them would be undefined): refused, not wrapped.
  if (!(n * mult < 18446744073709551616.0)) return std::nullopt;
  return static_cast<std::uint64_t>(n * mult);
}

std::string Base(const std::string& p) {
  std::string c = GoClean(p);
  if (c == "/") return "/";
  auto slash = c.rfind('/');
  return slash == std::string::npos ? c : c.substr(slash + 1);
}

}  // namespace

Result<MountSpec> ParseMountValue(std::string_view value, const MountExpander* expand) {
  auto fields = CsvFields(value);
  if (!fields)
    return Unexpected(Invalid("--mount=" + std::string(value) + ": " + fields.error().message()));
  MountSpec m;
  bool sharing_given = false;
  std::optional<std::uint32_t> mode, uid, gid;
  bool size_given = false, env_given = false, required_given = false;
  const std::string type_err_prefix = "--mount=" + std::string(value) + ": ";
  auto bad = [&](const std::string& why) { return Unexpected(Invalid(type_err_prefix + why)); };
  for (const auto& field : *fields) {
    auto eq = field.find('=');
    std::string key = ToLower(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        m.readonly = true;
        m.readonly_given = true;
        continue;
      }
      if (key == "readwrite" || key == "rw") {
        m.readonly = false;
        m.readonly_given = true;
        continue;
      }
      if (key == "required") {
        if (m.type != MountType::kSecret && m.type != MountType::kSsh) {
          return bad("\"required\" is only for secret and ssh mounts (give type= first), not " +
                     std::string(MountTypeName(m.type)));
        }
        m.required = true;
        required_given = true;
        continue;
      }
      return bad("\"" + field + "\" must be a key=value pair");
    }
    std::string v = field.substr(eq + 1);
    if (expand) {
      ANYARCH_TRY(v, (*expand)(v));
    } else if (v.find('$') != std::string::npos) {
      continue;  // checked once expanded
    }
    if (key == "type") {
      std::string t = ToLower(v);
      if (t == "bind") {
        m.type = MountType::kBind;
      } else if (t == "cache") {
        m.type = MountType::kCache;
      } else if (t == "tmpfs") {
        m.type = MountType::kTmpfs;
      } else if (t == "secret") {
        m.type = MountType::kSecret;
      } else if (t == "ssh") {
        m.type = MountType::kSsh;
      } else {
        return bad("unsupported mount type \"" + v +
                   "\" (expected bind, cache, tmpfs, secret or ssh)");
      }
    } else if (key == "from") {
      m.from = v;
    } else if (key == "source" || key == "src") {
      m.source = v;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m.target = v;
      m.target_given = true;
    } else if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
      auto b = GoBool(v);
      if (!b) return bad(key + " takes true or false, not \"" + v + "\"");
      m.readonly = (key == "readonly" || key == "ro") ? *b : !*b;
      m.readonly_given = true;
    } else if (key == "required") {
      if (m.type != MountType::kSecret && m.type != MountType::kSsh) {
        return bad("\"required\" is only for secret and ssh mounts (give type= first), not " +
                   std::string(MountTypeName(m.type)));
      }
      auto b = GoBool(v);
      if (!b) return bad("required takes true or false, not \"" + v + "\"");
      m.required = *b;
      required_given = true;
    } else if (key == "id") {
      m.id = v;
      m.id_given = true;
    } else if (key == "sharing") {
      std::string sh = ToLower(v);
      if (sh != "shared" && sh != "private" && sh != "locked") {
        return bad("sharing takes shared, private or locked, not \"" + v + "\"");
      }
      m.sharing = sh;
      sharing_given = true;
    } else if (key == "mode") {
      mode = GoUint32(v, 8);
      if (!mode) return bad("mode takes an octal number such as 0644, not \"" + v + "\"");
    } else if (key == "uid" || key == "gid") {
      auto n = GoUint32(v, 10);
      if (!n) return bad(key + " takes a number, not \"" + v + "\"");
      (key == "uid" ? uid : gid) = n;
    } else if (key == "size") {
      auto n = RamBytes(v);
      if (!n) return bad("size takes bytes or a size such as 64m or 1g, not \"" + v + "\"");
      m.size = *n;
      size_given = true;
    } else if (key == "env") {
      m.env = v;
      env_given = true;
    } else {
      return bad("unknown option \"" + key +
                 "\" (expected type, from, source, target, ro, rw, id, sharing, required, mode, "
                 "uid, gid, size or env)");
    }
  }
  const std::string type = MountTypeName(m.type);
  bool file_info =
      m.type == MountType::kSecret || m.type == MountType::kSsh || m.type == MountType::kCache;
  if ((mode || uid || gid) && !file_info) {
    return bad(std::string(mode  ? "mode"
                           : uid ? "uid"
                                 : "gid") +
               " is not allowed for " + type + " mounts (only cache, secret and ssh)");
  }
  if (size_given && m.type != MountType::kTmpfs) {
    return bad("size is only for tmpfs mounts, not " + type);
  }
  if (env_given && m.type != MountType::kSecret) {
    return bad("env is only for secret mounts, not " + type);
  }
  if (sharing_given && m.type != MountType::kCache) {
    return bad("sharing is only for cache mounts, not " + type);
  }
  // Checked again here: a later type= can change the type that "required" was accepted for.
  if (required_given && m.type != MountType::kSecret && m.type != MountType::kSsh) {
    return bad("\"required\" is only for secret and ssh mounts, not " + type);
  }
  if (!m.readonly_given) m.readonly = !(m.type == MountType::kCache || m.type == MountType::kTmpfs);
  if (m.type == MountType::kCache && m.sharing.empty()) m.sharing = "shared";
  if (m.type == MountType::kSecret) {
    if (!m.from.empty()) return bad("a secret mount takes no from=");
    if (m.source.empty() && m.target.empty() && m.id.empty()) {
      return bad("a secret mount needs id=, source= or target=");
    }
    if (!m.source.empty() && m.id_given) return bad("source and id cannot both be set");
  }
  if (m.type == MountType::kSsh && !m.source.empty()) {
    return bad("an ssh mount takes no source=");
  }
  m.file_info_given = mode || uid || gid;
  std::uint32_t default_mode = m.type == MountType::kCache    ? 0755
                               : m.type == MountType::kSecret ? 0400
                               : m.type == MountType::kSsh    ? 0600
                                                              : 0;
  m.mode = mode.value_or(default_mode);
  m.uid = uid.value_or(0);
  m.gid = gid.value_or(0);
  return m;
}

std::string MountSpecText(const MountSpec& m) {
  auto octal = [](std::uint32_t v) {
    std::string o;
    do {
      o.insert(o.begin(), static_cast<char>('0' + (v & 7)));
      v >>= 3;
    } while (v);
    return "0" + o;
  };
  std::string out = MountTypeName(m.type);
  auto add = [&out](const std::string& s) { out += " " + s; };
  if (!m.target.empty()) add("target=" + m.target);
  switch (m.type) {
    case MountType::kBind:
    case MountType::kCache:
      if (m.type == MountType::kCache) add("id=" + m.id + " sharing=" + m.sharing);
      if (!m.from.empty()) {
        add("from=" + m.from);
      } else if (m.type == MountType::kBind) {
        add("from=(context)");
      }
      add("source=" + m.source);
      add(m.readonly ? "ro" : "rw");
      if (m.type == MountType::kCache) {
        add("mode=" + octal(m.mode) + " uid=" + std::to_string(m.uid) +
            " gid=" + std::to_string(m.gid));
      }
      break;
    case MountType::kTmpfs:
      add(m.readonly ? "ro" : "rw");
      add("size=" + (m.size ? std::to_string(m.size) : std::string("unlimited")));
      break;
    case MountType::kSecret:
    case MountType::kSsh:
      add("id=" + m.id);
      if (!m.env.empty()) add("env=" + m.env);
      add(m.required ? "required" : "optional");
      add("mode=" + octal(m.mode) + " uid=" + std::to_string(m.uid) +
          " gid=" + std::to_string(m.gid));
      break;
  }
  return out;
}

Result<std::vector<MountSpec>> ParseMounts(const Step& step, const std::string& workdir) {
  std::vector<MountSpec> mounts = step.mounts;
  const int line = step.inst ? step.inst->pos.line : 0;
  auto where = [&](const std::string& why) {
    return Unexpected(Invalid("line " + std::to_string(line) + ": " + why));
  };
  if (mounts.empty() && step.inst) {
    for (const Flag* f : step.inst->FlagsNamed("mount")) {
      auto m = ParseMountValue(f->value, nullptr);
      if (!m) return where(m.error().message());
      mounts.push_back(std::move(*m));
    }
  }
  std::string dir = workdir.empty() ? "/" : workdir;
  int ssh_index = 0;
  for (auto& m : mounts) {
    switch (m.type) {
      case MountType::kBind:
      case MountType::kCache:
      case MountType::kTmpfs: {
        if (m.type == MountType::kCache && m.id.empty()) m.id = GoClean(m.target);
        std::string target = GoClean(m.target);
        if (target.empty() || target[0] != '/') target = GoClean("/" + dir + "/" + m.target);
        if (target == "/") {
          return where("--mount target " +
                       (m.target.empty() ? std::string("(the working directory /)")
                                         : "\"" + m.target + "\"") +
                       ": a mount cannot cover / (give target=<path>)");
        }
        m.target = target;
        if (m.type != MountType::kTmpfs) m.source = GoClean("/" + m.source);
        break;
      }
      case MountType::kSecret:
        if (!m.source.empty()) m.id = m.source;
        if (m.id.empty() && !m.target.empty()) m.id = Base(m.target);
        if (m.target.empty() && m.env.empty()) m.target = "/run/secrets/" + Base(m.id);
        m.source.clear();
        break;
      case MountType::kSsh:
        if (m.id.empty()) m.id = "default";
        if (m.target.empty()) m.target = "/run/buildkit/ssh_agent." + std::to_string(ssh_index);
        ++ssh_index;
        break;
    }
  }
  return mounts;
}

}  // namespace anyarch::dockerfile

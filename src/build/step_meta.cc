// The instructions that change only the image config, with Docker's rules (BuildKit's
// Dockerfile reference is the authority):
// - CMD and ENTRYPOINT in shell form run through the stage's SHELL; ENTRYPOINT resets a CMD
//   inherited from the base image, but keeps one set earlier in the same stage;
// - EXPOSE without a protocol is tcp; "80/TCP" is lowercased; a range is refused (BuildKit
//   expands ranges; anyarch says so instead of writing something different);
// - HEALTHCHECK durations are stored in nanoseconds; NONE disables an inherited check;
//   CMD-SHELL for the shell form;
// - ONBUILD stores the trigger as written, to run in a child build;
// - MAINTAINER sets the config's "author".
#include <cctype>

#include "base/strings.h"
#include "build/steps.h"

namespace anyarch::build {

namespace {

using dockerfile::Kind;

std::vector<std::string> CommandOf(const ImageState& state, const dockerfile::Instruction& in) {
  if (in.json_form) return in.json_args;
  std::vector<std::string> argv = state.Shell();
  argv.push_back(in.args);
  return argv;
}

std::string JsonArgs(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + Json(v[i]).dump();
  return out + "]";
}

// Go's time.ParseDuration for the forms Dockerfiles use: "30s", "1m30s", "500ms", "1h".
Result<std::int64_t> ParseDuration(const std::string& text) {
  static const std::pair<const char*, std::int64_t> kUnits[] = {
      {"ns", 1},           {"us", 1000},         {"µs", 1000},          {"ms", 1000000},
      {"s", 1000000000LL}, {"m", 60000000000LL}, {"h", 3600000000000LL}};
  std::int64_t total = 0;
  std::size_t i = 0;
  if (text == "0") return 0;
  if (text.empty()) return MakeError(ErrorCode::kInvalid, "empty duration");
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
      ++j;
    if (j == i) return MakeError(ErrorCode::kInvalid, "bad duration \"" + text + "\"");
    double value = std::stod(text.substr(i, j - i));
    std::size_t k = j;
    while (k < text.size() && !std::isdigit(static_cast<unsigned char>(text[k]))) ++k;
    std::string unit = text.substr(j, k - j);
    bool found = false;
    for (const auto& [name, ns] : kUnits) {
      if (unit == name) {
        total += static_cast<std::int64_t>(value * static_cast<double>(ns));
        found = true;
      }
    }
    if (!found) return MakeError(ErrorCode::kInvalid, "bad duration \"" + text + "\"");
    i = k;
  }
  return total;
}

Status ApplyHealthcheck(StageEnv& env, ImageState& state, const dockerfile::Step& step) {
  const auto& in = *step.inst;
  std::string args(TrimSpace(in.args));
  std::string upper = ToLower(args);
  Json& cfg = state.Run();
  if (upper == "none") {
    cfg["Healthcheck"] = {{"Test", {"NONE"}}};
    return Ok();
  }
  if (upper.rfind("cmd", 0) != 0)
    return MakeError(ErrorCode::kInvalid,
                     Where(env, step) + ": HEALTHCHECK needs NONE or CMD followed by a command");
  std::string rest(TrimSpace(args.substr(3)));
  Json hc = Json::object();
  std::vector<std::string> test;
  if (!rest.empty() && rest[0] == '[') {
    auto j = ParseJson(rest, "HEALTHCHECK CMD");
    if (!j || !j->is_array())
      return MakeError(ErrorCode::kInvalid, Where(env, step) + ": HEALTHCHECK CMD: bad JSON array");
    test.push_back("CMD");
    for (const auto& a : *j) {
      if (!a.is_string())
        return MakeError(ErrorCode::kInvalid,
                         Where(env, step) + ": HEALTHCHECK CMD: the array must hold strings");
      test.push_back(a.get<std::string>());
    }
  } else {
    test = {"CMD-SHELL", rest};
  }
  hc["Test"] = test;
  for (const auto& f : in.flags) {
    if (f.name == "interval" || f.name == "timeout" || f.name == "start-period" ||
        f.name == "start-interval") {
      auto d = ParseDuration(f.value);
      if (!d) return Unexpected(std::move(d.error()).With(Where(env, step) + ": --" + f.name));
      static const std::map<std::string, std::string> kField = {
          {"interval", "Interval"},
          {"timeout", "Timeout"},
          {"start-period", "StartPeriod"},
          {"start-interval", "StartInterval"}};
      hc[kField.at(f.name)] = *d;
    } else if (f.name == "retries") {
      if (f.value.empty() || f.value.find_first_not_of("0123456789") != std::string::npos)
        return MakeError(
            ErrorCode::kInvalid,
            Where(env, step) + ": --retries must be a number, not \"" + f.value + "\"");
      hc["Retries"] = std::stoll(f.value);
    } else {
      return MakeError(ErrorCode::kInvalid,
                       Where(env, step) + ": HEALTHCHECK has no flag --" + f.name);
    }
  }
  cfg["Healthcheck"] = hc;
  return Ok();
}

}  // namespace

std::string Where(const StageEnv& env, const dockerfile::Step& step) {
  std::string file = env.request.dockerfile.empty() ? "Dockerfile" : env.request.dockerfile;
  return file + ":" + std::to_string(step.inst->pos.line) + " (" + env.platform.ToString() + ")";
}

bool IsMetaKind(Kind kind) {
  switch (kind) {
    case Kind::kEnv:
    case Kind::kArg:
    case Kind::kLabel:
    case Kind::kExpose:
    case Kind::kVolume:
    case Kind::kUser:
    case Kind::kCmd:
    case Kind::kEntrypoint:
    case Kind::kShell:
    case Kind::kStopsignal:
    case Kind::kHealthcheck:
    case Kind::kOnbuild:
    case Kind::kMaintainer:
      return true;
    default:
      return false;
  }
}

Status ApplyMeta(StageEnv& env, ImageState& state, const dockerfile::Step& step) {
  const auto& in = *step.inst;
  Json& cfg = state.Run();
  std::string history = std::string(dockerfile::KindName(in.kind)) + " " + in.args;
  switch (in.kind) {
    case Kind::kEnv:
      for (const auto& w : step.words) {
        auto eq = w.find('=');
        state.SetEnv(w.substr(0, eq), eq == std::string::npos ? "" : w.substr(eq + 1));
      }
      history = "ENV " + Join(step.words, " ");
      break;
    case Kind::kArg:
      for (const auto& w : step.words) {
        auto eq = w.find('=');
        if (eq != std::string::npos) env.args[w.substr(0, eq)] = w.substr(eq + 1);
      }
      // BuildKit records no history for ARG.
      return Ok();
    case Kind::kLabel: {
      if (!cfg.contains("Labels") || !cfg["Labels"].is_object()) cfg["Labels"] = Json::object();
      for (const auto& w : step.words) {
        auto eq = w.find('=');
        cfg["Labels"][w.substr(0, eq)] = eq == std::string::npos ? "" : w.substr(eq + 1);
      }
      history = "LABEL " + Join(step.words, " ");
      break;
    }
    case Kind::kExpose: {
      if (!cfg.contains("ExposedPorts") || !cfg["ExposedPorts"].is_object())
        cfg["ExposedPorts"] = Json::object();
      std::vector<std::string> ports;
      for (const auto& w : step.words) {
        std::string port = ToLower(w);
        if (port.find('/') == std::string::npos) port += "/tcp";
        std::string num = port.substr(0, port.find('/'));
        std::string proto = port.substr(port.find('/') + 1);
        if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos ||
            (proto != "tcp" && proto != "udp" && proto != "sctp"))
          return MakeError(ErrorCode::kInvalid,
                           Where(env, step) + ": EXPOSE: \"" + w +
                               "\" is not a port (a number, optionally /tcp, /udp or /sctp)");
        cfg["ExposedPorts"][port] = Json::object();
        ports.push_back(port);
      }
      history = "EXPOSE " + Join(ports, " ");
      break;
    }
    case Kind::kVolume: {
      if (!cfg.contains("Volumes") || !cfg["Volumes"].is_object()) cfg["Volumes"] = Json::object();
      for (const auto& w : step.words) {
        if (w.empty())
          return MakeError(ErrorCode::kInvalid, Where(env, step) + ": VOLUME with an empty path");
        cfg["Volumes"][w] = Json::object();
      }
      history = "VOLUME " + JsonArgs(step.words);
      break;
    }
    case Kind::kUser:
      if (step.words.empty() || step.words[0].empty())
        return MakeError(ErrorCode::kInvalid, Where(env, step) + ": USER needs a user");
      cfg["User"] = step.words[0];
      history = "USER " + step.words[0];
      break;
    case Kind::kCmd: {
      auto argv = CommandOf(state, in);
      cfg["Cmd"] = argv;
      env.cmd_set = true;
      history = "CMD " + JsonArgs(argv);
      break;
    }
    case Kind::kEntrypoint: {
      auto argv = CommandOf(state, in);
      cfg["Entrypoint"] = argv;
      if (!env.cmd_set) cfg["Cmd"] = nullptr;
      history = "ENTRYPOINT " + JsonArgs(argv);
      break;
    }
    case Kind::kShell:
      if (!in.json_form || in.json_args.empty())
        return MakeError(
            ErrorCode::kInvalid,
            Where(env, step) + ": SHELL needs the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]");
      cfg["Shell"] = in.json_args;
      history = "SHELL " + JsonArgs(in.json_args);
      break;
    case Kind::kStopsignal:
      if (step.words.empty() || step.words[0].empty())
        return MakeError(ErrorCode::kInvalid, Where(env, step) + ": STOPSIGNAL needs a signal");
      cfg["StopSignal"] = step.words[0];
      history = "STOPSIGNAL " + step.words[0];
      break;
    case Kind::kHealthcheck:
      ANYARCH_CHECK(ApplyHealthcheck(env, state, step));
      history = "HEALTHCHECK " + in.args;
      break;
    case Kind::kOnbuild: {
      if (!cfg.contains("OnBuild") || !cfg["OnBuild"].is_array()) cfg["OnBuild"] = Json::array();
      std::string trigger = in.onbuild ? in.onbuild->keyword + " " + in.onbuild->args : in.args;
      cfg["OnBuild"].push_back(trigger);
      history = "ONBUILD " + trigger;
      break;
    }
    case Kind::kMaintainer:
      state.config["author"] = in.args;
      history = "MAINTAINER " + in.args;
      break;
    default:
      return MakeError(ErrorCode::kInternal, "not a metadata instruction");
  }
  state.AddHistory(history, true, env.created);
  return Ok();
}

}  // namespace anyarch::build

#include "dockerfile/evaluate.h"

#include <algorithm>
#include <cctype>
#include <functional>

#include "base/json.h"
#include "base/strings.h"
#include "dockerfile/expand.h"
#include "dockerfile/syntax_error.h"

namespace anyarch::dockerfile {

const char* StageModeName(StageMode mode) {
  switch (mode) {
    case StageMode::kTarget:
      return "target";
    case StageMode::kBuildShared:
      return "build-shared";
    case StageMode::kBuildPerTarget:
      return "build-per-target";
    case StageMode::kPinned:
      return "pinned";
  }
  return "?";
}

bool IsProxyArg(const std::string& name) {
  static const char* const kProxy[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                       "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                       "ALL_PROXY",  "all_proxy"};
  return std::find(std::begin(kProxy), std::end(kProxy), name) != std::end(kProxy);
}

bool IsPlatformArg(const std::string& name) {
  static const char* const kArgs[] = {"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                                      "BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT"};
  return std::find(std::begin(kArgs), std::end(kArgs), name) != std::end(kArgs);
}

namespace {

bool IsTargetArg(const std::string& name) {
  return name.rfind("TARGET", 0) == 0 && IsPlatformArg(name);
}

std::map<std::string, std::string> AutomaticArgs(const platform::Platform& target,
                                                 const platform::Platform& build) {
  return {
      {"TARGETPLATFORM", target.ToString()}, {"TARGETOS", target.os},
      {"TARGETARCH", target.architecture},   {"TARGETVARIANT", target.variant},
      {"BUILDPLATFORM", build.ToString()},   {"BUILDOS", build.os},
      {"BUILDARCH", build.architecture},     {"BUILDVARIANT", build.variant},
  };
}

// Splits "k=v" (quotes kept in v) from a raw word.
std::pair<std::string, std::optional<std::string>> KeyValue(const std::string& word) {
  auto eq = word.find('=');
  if (eq == std::string::npos) return {word, std::nullopt};
  return {word.substr(0, eq), word.substr(eq + 1)};
}

class Evaluator {
 public:
  Evaluator(const Dockerfile& df, const EvalOptions& opt) : df_(df), opt_(opt) {}

  Result<Plan> Run() {
    plan_.target = platform::Normalize(opt_.target);
    plan_.build = platform::Normalize(opt_.build);
    auto automatic = AutomaticArgs(plan_.target, plan_.build);

    // Global scope: ARGs before the first FROM.
    std::size_t i = 0;
    std::map<std::string, std::string> globals = automatic;
    for (; i < df_.instructions.size() && df_.instructions[i].kind != Kind::kFrom; ++i) {
      const Instruction& in = df_.instructions[i];
      if (in.kind != Kind::kArg) {
        return Unexpected(Err(in.pos, std::string(KindName(in.kind)) +
                                          " before the first FROM: only ARG may come before FROM"));
      }
      for (const auto& w : SplitRawWords(in.args, df_.escape)) {
        auto [name, def] = KeyValue(w.text);
        declared_.insert(name);
        std::string value;
        if (auto it = opt_.build_args.find(name); it != opt_.build_args.end()) {
          value = it->second;
        } else if (def) {
          ANYARCH_TRY(auto r, Expand(*def, in, MapLookup(globals)));
          value = r;
        } else if (auto a = automatic.find(name); a != automatic.end()) {
          value = a->second;
        } else {
          // Declared without a value: unset, not empty.
          unset_globals_.insert(name);
          globals.erase(name);
          plan_.global_args[name] = "";
          continue;
        }
        globals[name] = value;
        plan_.global_args[name] = value;
      }
    }
    if (i == df_.instructions.size()) {
      Position p = df_.instructions.empty() ? Position{1, 1} : df_.instructions.back().pos;
      return Unexpected(Err(p, "no FROM instruction: a Dockerfile needs at least one stage"));
    }

    Stage* cur = nullptr;
    std::map<std::string, std::string> stage_args;  // declared in this stage
    std::map<std::string, std::string> env;
    for (; i < df_.instructions.size(); ++i) {
      const Instruction& in = df_.instructions[i];
      if (in.kind == Kind::kFrom) {
        if (cur) cur->args = stage_args;
        stage_args.clear();
        env.clear();
        ANYARCH_CHECK(BeginStage(in, globals));
        cur = &plan_.stages.back();
        continue;
      }
      // Within a stage: ENV wins over ARG.
      auto lookup = [&](const std::string& name) -> std::optional<std::string> {
        if (auto e = env.find(name); e != env.end()) return e->second;
        if (auto a = stage_args.find(name); a != stage_args.end()) return a->second;
        return std::nullopt;
      };
      Step step;
      step.inst = &in;
      switch (in.kind) {
        case Kind::kArg:
          for (const auto& w : SplitRawWords(in.args, df_.escape)) {
            auto [name, def] = KeyValue(w.text);
            declared_.insert(name);
            std::string value;
            if (auto it = opt_.build_args.find(name); it != opt_.build_args.end()) {
              value = it->second;
            } else if (def) {
              ANYARCH_TRY(auto r, Expand(*def, in, lookup));
              value = r;
            } else if (auto g = globals.find(name); g != globals.end()) {
              value = g->second;
            } else {
              value = "";
            }
            stage_args[name] = value;
            step.words.push_back(name + "=" + value);
          }
          break;
        case Kind::kEnv:
        case Kind::kLabel: {
          auto words = SplitRawWords(in.args, df_.escape);
          std::vector<std::pair<std::string, std::string>> pairs;
          if (!words.empty() && words[0].text.find('=') == std::string::npos) {
            // Legacy form: key, then the rest of the line as the value.
            std::string rest = in.args.substr(words[0].offset + words[0].text.size());
            ANYARCH_TRY(auto v, Expand(std::string(TrimSpace(rest)), in, lookup));
            ANYARCH_TRY(auto k, Expand(words[0].text, in, lookup));
            pairs.emplace_back(k, v);
          } else {
            for (const auto& w : words) {
              auto [k, v] = KeyValue(w.text);
              ANYARCH_TRY(auto ek, Expand(k, in, lookup));
              ANYARCH_TRY(auto ev, Expand(v.value_or(""), in, lookup));
              pairs.emplace_back(ek, ev);
            }
          }
          // All values were expanded with the environment before this instruction.
          for (auto& [k, v] : pairs) {
            if (in.kind == Kind::kEnv) env[k] = v;
            step.words.push_back(k + "=" + v);
          }
          break;
        }
        case Kind::kAdd:
        case Kind::kCopy:
        case Kind::kExpose:
        case Kind::kVolume:
        case Kind::kUser:
        case Kind::kStopsignal: {
          if (in.json_form) {
            for (const auto& a : in.json_args) {
              ANYARCH_TRY(auto v, Expand(a, in, lookup));
              step.words.push_back(v);
            }
          } else {
            std::set<std::string> refs;
            auto r = ExpandWords(in.args, lookup, &refs, ExpandOptions{.escape = df_.escape});
            if (!r) return Unexpected(Err(in.args_pos, r.error().message()));
            step.words = *r;
          }
          for (const auto& f : in.flags) {
            ANYARCH_TRY(auto v, Expand(f.value, in, lookup));
            step.flags[f.name] = v;
          }
          if (in.kind == Kind::kCopy) {
            if (auto it = step.flags.find("from"); it != step.flags.end()) {
              ANYARCH_CHECK(AddFromDependency(*cur, it->second, "COPY --from", in));
            }
          }
          break;
        }
        case Kind::kWorkdir: {
          ANYARCH_TRY(auto v, Expand(in.args, in, lookup));
          step.words.push_back(v);
          break;
        }
        case Kind::kRun:
          for (const Flag* f : in.FlagsNamed("mount")) {
            ANYARCH_TRY(auto v, Expand(f->value, in, lookup));
            for (const auto& kv : Split(v, ',')) {
              auto [k, val] = KeyValue(kv);
              if (ToLower(k) == "from" && val) {
                ANYARCH_CHECK(AddFromDependency(*cur, *val, "RUN --mount from", in));
              }
            }
            step.flags["mount"] = v;
          }
          break;
        default:
          break;
      }
      cur->steps.push_back(std::move(step));
    }
    if (cur) cur->args = stage_args;

    ANYARCH_CHECK(SelectTarget());
    MarkModes();
    for (const auto& [name, value] : opt_.build_args) {
      (void)value;
      if (!declared_.count(name) && !IsProxyArg(name)) plan_.unused_build_args.push_back(name);
    }
    return std::move(plan_);
  }

 private:
  Error Err(Position pos, const std::string& message) {
    return SyntaxError(df_.filename, df_.source, pos, message);
  }

  static Lookup MapLookup(const std::map<std::string, std::string>& m) {
    return [&m](const std::string& name) -> std::optional<std::string> {
      auto it = m.find(name);
      if (it == m.end()) return std::nullopt;
      return it->second;
    };
  }

  Result<std::string> Expand(const std::string& text, const Instruction& in, const Lookup& lookup) {
    auto r = ExpandWord(text, lookup, ExpandOptions{.escape = df_.escape});
    if (!r) return Unexpected(Err(in.args_pos, r.error().message()));
    return r->value;
  }

  int FindStage(const std::string& name_or_index) const {
    std::string n = ToLower(name_or_index);
    bool digits = !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    if (digits) {
      long idx = std::strtol(n.c_str(), nullptr, 10);
      if (idx >= 0 && idx < static_cast<long>(plan_.stages.size())) return static_cast<int>(idx);
      return -2;  // an index that does not exist (yet)
    }
    for (const auto& s : plan_.stages) {
      if (!s.name.empty() && s.name == n) return s.index;
    }
    return -1;
  }

  bool NamedLater(const std::string& name) const {
    std::string n = ToLower(name);
    for (const auto& in : df_.instructions) {
      if (in.kind != Kind::kFrom) continue;
      auto words = SplitRawWords(in.args, df_.escape);
      if (words.size() == 3 && ToLower(words[2].text) == n) return true;
    }
    return false;
  }

  Status AddFromDependency(Stage& stage, const std::string& from, const std::string& via,
                           const Instruction& in) {
    int s = FindStage(from);
    if (s >= 0) {
      if (s == stage.index) {
        return Unexpected(Err(in.pos, via + "=" + from + " refers to the stage it is in"));
      }
      stage.deps.push_back({s, via, in.pos.line});
      return Ok();
    }
    if (s == -2) {
      return Unexpected(
          Err(in.pos, via + "=" + from + ": there is no earlier stage with index " + from));
    }
    if (NamedLater(from)) {
      return Unexpected(Err(in.pos, via + "=" + from +
                                        " refers to a stage defined later in the file; "
                                        "stages can only use earlier stages"));
    }
    stage.external_images.push_back(from);
    return Ok();
  }

  Status BeginStage(const Instruction& in, const std::map<std::string, std::string>& globals) {
    Stage st;
    st.index = static_cast<int>(plan_.stages.size());
    st.pos = in.pos;
    auto words = SplitRawWords(in.args, df_.escape);
    auto lookup = MapLookup(globals);
    ANYARCH_TRY(st.base, Expand(words[0].text, in, lookup));
    if (st.base.empty()) {
      return Unexpected(
          Err(in.args_pos, "FROM \"" + words[0].text +
                               "\" expands to an empty image name (is the ARG declared "
                               "before the first FROM and given a value?)"));
    }
    if (words.size() == 3) st.name = ToLower(words[2].text);
    for (const auto& s : plan_.stages) {
      if (!st.name.empty() && s.name == st.name) {
        return Unexpected(Err(in.pos, "duplicate stage name \"" + st.name +
                                          "\" (first used on line " + std::to_string(s.pos.line) +
                                          ")"));
      }
    }
    int base = FindStage(st.base);
    if (base >= 0) {
      st.base_stage = base;
      st.deps.push_back({base, "FROM", in.pos.line});
      st.platform = plan_.stages[static_cast<std::size_t>(base)].platform;
      st.mode = plan_.stages[static_cast<std::size_t>(base)].mode;
    } else {
      st.platform = plan_.target;
      st.mode = StageMode::kTarget;
    }
    if (const Flag* f = in.FindFlag("platform")) {
      st.platform_flag = f->value;
      ANYARCH_TRY(std::string v, Expand(f->value, in, lookup));
      auto refs = ReferencedVariables(f->value, df_.escape);
      auto p = platform::Parse(v);
      if (!p) {
        return Unexpected(Err(f->pos, "--platform=" + f->value + " expands to \"" + v +
                                          "\": " + p.error().message()));
      }
      st.platform = *p;
      if (refs.count("BUILDPLATFORM") || refs.count("BUILDARCH")) {
        st.mode = StageMode::kBuildShared;
      } else if (refs.count("TARGETPLATFORM") || refs.count("TARGETARCH")) {
        st.mode = StageMode::kTarget;
      } else {
        st.mode = StageMode::kPinned;
      }
    }
    plan_.stages.push_back(std::move(st));
    return Ok();
  }

  Status SelectTarget() {
    if (opt_.target_stage.empty()) {
      plan_.target_index = static_cast<int>(plan_.stages.size()) - 1;
    } else {
      int s = FindStage(opt_.target_stage);
      if (s < 0) {
        std::vector<std::string> names;
        for (const auto& st : plan_.stages) {
          names.push_back(st.name.empty() ? std::to_string(st.index) : st.name);
        }
        return MakeError(ErrorCode::kInvalid,
                         "--target \"" + opt_.target_stage +
                             "\" names no stage; the stages are: " + Join(names, ", "));
      }
      plan_.target_index = s;
    }
    std::function<void(int)> mark = [&](int s) {
      Stage& st = plan_.stages[static_cast<std::size_t>(s)];
      if (st.needed) return;
      st.needed = true;
      for (const auto& d : st.deps) mark(d.stage);
    };
    mark(plan_.target_index);
    return Ok();
  }

  // A build-platform stage that declares a TARGET* arg has to run once per target: declared
  // ARGs are in the environment of its RUN commands (tools like xx read TARGETPLATFORM from
  // there), so its result differs per target even when no instruction spells $TARGETARCH.
  // The same holds for a stage built on such a stage.
  void MarkModes() {
    for (auto& st : plan_.stages) {
      bool per_target = false;
      for (const auto& [name, value] : st.args) {
        (void)value;
        if (IsTargetArg(name)) per_target = true;
      }
      if (st.base_stage >= 0 && plan_.stages[static_cast<std::size_t>(st.base_stage)].mode ==
                                    StageMode::kBuildPerTarget) {
        per_target = true;
      }
      if (st.mode == StageMode::kBuildShared && per_target) st.mode = StageMode::kBuildPerTarget;
    }
  }

  const Dockerfile& df_;
  const EvalOptions& opt_;
  Plan plan_;
  std::set<std::string> declared_;
  std::set<std::string> unset_globals_;
};

}  // namespace

Result<Plan> Evaluate(const Dockerfile& df, const EvalOptions& options) {
  Evaluator e(df, options);
  return e.Run();
}

Result<std::vector<Plan>> EvaluateAll(const Dockerfile& df,
                                      const std::vector<platform::Platform>& targets,
                                      const EvalOptions& base_options) {
  std::vector<Plan> out;
  for (const auto& t : targets) {
    EvalOptions o = base_options;
    o.target = t;
    ANYARCH_TRY(Plan p, Evaluate(df, o));
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

std::string StageLabel(const Stage& s) {
  return std::to_string(s.index) + (s.name.empty() ? "" : " \"" + s.name + "\"");
}

}  // namespace

std::string PlansToText(const std::vector<Plan>& plans) {
  std::string out;
  for (const auto& p : plans) {
    const Stage& t = p.stages[static_cast<std::size_t>(p.target_index)];
    out += "platform " + p.target.ToString() + " (built on " + p.build.ToString() +
           "), target stage " + StageLabel(t) + "\n";
    std::vector<std::string> pruned;
    for (const auto& s : p.stages) {
      if (!s.needed) {
        pruned.push_back(StageLabel(s));
        continue;
      }
      out += "  stage " + StageLabel(s) + ": from " + s.base + ", runs on " +
             s.platform.ToString() + " (" + StageModeName(s.mode) + ")";
      std::vector<std::string> needs;
      std::vector<Dependency> deps = s.deps;
      std::stable_sort(deps.begin(), deps.end(),
                       [](const Dependency& a, const Dependency& b) { return a.stage < b.stage; });
      for (const auto& d : deps) {
        std::string n = std::to_string(d.stage) + " via " + d.via;
        if (std::find(needs.begin(), needs.end(), n) == needs.end()) needs.push_back(n);
      }
      if (!needs.empty()) out += ", needs " + Join(needs, ", ");
      if (!s.external_images.empty())
        out += ", copies from images " + Join(s.external_images, ", ");
      out += ", " + std::to_string(s.steps.size()) + " instructions\n";
    }
    if (!pruned.empty()) out += "  not needed: " + Join(pruned, ", ") + "\n";
  }
  return out;
}

std::string PlansToJson(const std::vector<Plan>& plans) {
  OrderedJson arr = OrderedJson::array();
  for (const auto& p : plans) {
    OrderedJson j;
    j["platform"] = p.target.ToString();
    j["build_platform"] = p.build.ToString();
    j["target_stage"] = p.target_index;
    OrderedJson stages = OrderedJson::array();
    for (const auto& s : p.stages) {
      OrderedJson sj;
      sj["index"] = s.index;
      sj["name"] = s.name;
      sj["base"] = s.base;
      sj["base_stage"] = s.base_stage;
      sj["platform"] = s.platform.ToString();
      sj["mode"] = StageModeName(s.mode);
      sj["needed"] = s.needed;
      OrderedJson deps = OrderedJson::array();
      for (const auto& d : s.deps)
        deps.push_back({{"stage", d.stage}, {"via", d.via}, {"line", d.line}});
      sj["needs"] = deps;
      sj["external_images"] = s.external_images;
      sj["instructions"] = s.steps.size();
      sj["line"] = s.pos.line;
      stages.push_back(sj);
    }
    j["stages"] = stages;
    j["unused_build_args"] = p.unused_build_args;
    arr.push_back(j);
  }
  return arr.dump(2);
}

}  // namespace anyarch::dockerfile

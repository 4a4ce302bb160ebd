#include "dockerfile/evaluate.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <optional>

#include "base/json.h"
#include "base/strings.h"
#include "dockerfile/dockerignore.h"
#include "dockerfile/expand.h"
#include "dockerfile/run.h"
#include "dockerfile/syntax_error.h"
#include "ref/reference.h"

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

std::optional<platform::Platform> ArchRepositoryPlatform(const std::string& image) {
  static const std::map<std::string, std::string> kRepos = {
      {"amd64", "linux/amd64"},           {"arm64v8", "linux/arm64/v8"},
      {"arm32v7", "linux/arm/v7"},        {"arm32v6", "linux/arm/v6"},
      {"arm32v5", "linux/arm/v5"},        {"i386", "linux/386"},
      {"ppc64le", "linux/ppc64le"},       {"s390x", "linux/s390x"},
      {"mips64le", "linux/mips64le"},     {"riscv64", "linux/riscv64"},
      {"windows-amd64", "windows/amd64"},
  };
  auto r = ref::Parse(image);
  if (!r || r->registry != ref::kDockerHub) return std::nullopt;
  auto slash = r->repository.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto it = kRepos.find(r->repository.substr(0, slash));
  if (it == kRepos.end()) return std::nullopt;
  auto p = platform::Parse(it->second);
  if (!p) return std::nullopt;
  return platform::Normalize(*p);
}

const std::string* Step::FindFlag(const std::string& name) const {
  const std::string* found = nullptr;
  for (const auto& [k, v] : flags) {
    if (k == name) found = &v;
  }
  return found;
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

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// Where byte i of a piece of text being expanded is in the file.
using PosFn = std::function<Position(std::size_t)>;

PosFn InArgs(const Instruction& in, std::size_t base) {
  return [&in, base](std::size_t o) { return in.ArgPos(base + o); };
}
PosFn InFlag(const Flag& f) {
  return [&f](std::size_t o) { return f.ValuePos(o); };
}
PosFn InBody(const Heredoc& h) {
  return [&h](std::size_t o) { return h.BodyPos(o); };
}
PosFn At(Position p) {
  return [p](std::size_t) { return p; };
}

class Evaluator {
 public:
  Evaluator(const Dockerfile& df, const EvalOptions& opt) : df_(df), opt_(opt) {}

  Result<Plan> Run() {
    plan_.target = platform::Normalize(opt_.target);
    plan_.build = platform::Normalize(opt_.build);
    auto automatic = AutomaticArgs(plan_.target, plan_.build);
    for (const auto& in : df_.instructions) {
      if (in.kind != Kind::kFrom) continue;
      auto words = SplitRawWords(in.args, df_.escape);
      stage_names_.push_back(words.size() == 3 ? ToLower(words[2].text) : "");
    }

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
        global_declared_.insert(name);
        std::string value;
        if (auto it = opt_.build_args.find(name); it != opt_.build_args.end()) {
          value = it->second;
        } else if (def) {
          ANYARCH_TRY(value,
                      Expand(*def, InArgs(in, w.offset + name.size() + 1), MapLookup(globals)));
        } else if (auto a = automatic.find(name); a != automatic.end()) {
          value = a->second;
        } else {
          // Declared without a value: unset, not empty.
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
    std::map<std::string, std::string> stage_args;  // declared in this stage, with a value
    std::map<std::string, std::string> env;
    for (; i < df_.instructions.size(); ++i) {
      const Instruction& in = df_.instructions[i];
      if (in.kind == Kind::kFrom) {
        if (cur) {
          cur->args = stage_args;
          cur->env = env;
        }
        ANYARCH_CHECK(BeginStage(in, globals));
        cur = &plan_.stages.back();
        // A stage built on another starts where that one ended.
        if (cur->base_stage >= 0) {
          const Stage& parent = plan_.stages[static_cast<std::size_t>(cur->base_stage)];
          stage_args = parent.args;
          env = parent.env;
          cur->workdir = parent.workdir;
        } else {
          stage_args.clear();
          env.clear();
          if (opt_.image_env && ToLower(cur->base) != "scratch") {
            auto image_env = opt_.image_env(cur->base, cur->platform);
            if (!image_env) return Unexpected(image_env.error());
            for (const auto& kv : *image_env) {
              auto eq = kv.find('=');
              env[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
            }
          }
        }
        continue;
      }
      // Within a stage: ENV wins over ARG.
      Lookup lookup = [&](const std::string& name) -> std::optional<std::string> {
        if (auto e = env.find(name); e != env.end()) return e->second;
        if (auto a = stage_args.find(name); a != stage_args.end()) return a->second;
        return std::nullopt;
      };
      Step step;
      step.inst = &in;
      step.workdir = cur->workdir;
      switch (in.kind) {
        case Kind::kArg:
          step.expanded = true;
          for (const auto& w : SplitRawWords(in.args, df_.escape)) {
            auto [name, def] = KeyValue(w.text);
            declared_.insert(name);
            if (auto it = opt_.build_args.find(name); it != opt_.build_args.end()) {
              stage_args[name] = it->second;
            } else if (def) {
              ANYARCH_TRY(stage_args[name],
                          Expand(*def, InArgs(in, w.offset + name.size() + 1), lookup));
            } else if (auto g = globals.find(name); g != globals.end()) {
              stage_args[name] = g->second;
            }
            // Otherwise the ARG keeps the value it has (from an earlier ARG here or in the
            // parent stage), or stays unset.
            auto v = stage_args.find(name);
            step.words.push_back(v == stage_args.end() ? name : name + "=" + v->second);
          }
          break;
        case Kind::kEnv:
        case Kind::kLabel: {
          step.expanded = true;
          auto words = SplitRawWords(in.args, df_.escape);
          std::vector<std::pair<std::string, std::string>> pairs;
          if (!words.empty() && words[0].text.find('=') == std::string::npos) {
            // Legacy form: key, then the rest of the line as the value.
            std::size_t rest = words[0].offset + words[0].text.size();
            while (rest < in.args.size() &&
                   std::isspace(static_cast<unsigned char>(in.args[rest]))) {
              ++rest;
            }
            ANYARCH_TRY(auto v, Expand(in.args.substr(rest), InArgs(in, rest), lookup));
            ANYARCH_TRY(auto k, Expand(words[0].text, InArgs(in, words[0].offset), lookup));
            pairs.emplace_back(k, v);
          } else {
            for (const auto& w : words) {
              auto [k, v] = KeyValue(w.text);
              ANYARCH_TRY(auto ek, Expand(k, InArgs(in, w.offset), lookup));
              ANYARCH_TRY(auto ev,
                          Expand(v.value_or(""), InArgs(in, w.offset + k.size() + 1), lookup));
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
          step.expanded = true;
          if (in.json_form) {
            for (const auto& a : in.json_args) {
              ANYARCH_TRY(auto v, Expand(a, At(in.args_pos), lookup));
              step.words.push_back(v);
            }
          } else {
            // Heredoc markers are not paths: blank them out, keeping every other offset.
            std::string text = in.args;
            for (const auto& h : in.heredocs) {
              for (std::size_t k = h.marker_offset;
                   k < h.marker_offset + h.marker_size && k < text.size(); ++k) {
                text[k] = ' ';
              }
            }
            std::size_t off = 0;
            auto r = ExpandWords(text, lookup, nullptr, ExpandOptions{.escape = df_.escape}, &off);
            if (!r) return Unexpected(Err(in.ArgPos(off), r.error().message()));
            step.words = *r;
          }
          for (const auto& f : in.flags) {
            // A boolean flag without a value (--link) is true.
            ANYARCH_TRY(auto v, Expand(f.has_value ? f.value : "true", InFlag(f), lookup));
            step.flags.emplace_back(f.name, v);
          }
          if (in.kind == Kind::kCopy) {
            if (const Flag* f = in.FindFlag("from")) {
              ANYARCH_CHECK(
                  AddFromDependency(*cur, *step.FindFlag("from"), "COPY --from", f->value, f->pos));
            }
          }
          if (in.kind == Kind::kAdd || in.kind == Kind::kCopy) {
            for (const auto& h : in.heredocs) {
              std::string content = h.body;
              if (h.expand) {
                // BuildKit expands heredoc files with a fresh "\" lexer that leaves quotes alone.
                ANYARCH_TRY(content,
                            Expand(h.body, InBody(h), lookup,
                                   ExpandOptions{.escape = '\\', .process_quotes = false}));
              }
              step.heredocs.emplace_back(h.delimiter, content);
            }
          }
          break;
        }
        case Kind::kWorkdir: {
          step.expanded = true;
          ANYARCH_TRY(auto v, Expand(in.args, InArgs(in, 0), lookup));
          step.words.push_back(v);
          // A relative WORKDIR is relative to the previous one ("/" for the base image's
          // unknown one, which is what BuildKit assumes for an image without WorkingDir).
          cur->workdir = GoClean(!v.empty() && v[0] == '/'
                                     ? v
                                     : (cur->workdir.empty() ? "/" : cur->workdir) + "/" + v);
          break;
        }
        case Kind::kRun:
          for (const auto& f : in.flags) {
            if (f.name != "mount") {
              step.flags.emplace_back(f.name, f.value);
              continue;
            }
            // BuildKit expands each option value on its own; an error inside one points at
            // that value in the flag.
            bool expansion_failed = false;
            std::size_t cursor = 0;
            MountExpander expand = [&](const std::string& v) -> Result<std::string> {
              std::size_t at = f.value.find(v, cursor);
              if (at == std::string::npos) at = 0;
              cursor = at + v.size();
              auto r = Expand(
                  v, [&f, at](std::size_t o) { return f.ValuePos(at + o); }, lookup);
              if (!r) expansion_failed = true;
              return r;
            };
            auto m = ParseMountValue(f.value, &expand);
            if (!m) {
              if (expansion_failed) return Unexpected(std::move(m).error());
              return Unexpected(Err(f.pos, m.error().message()));
            }
            if (!m->from.empty() || f.value.find("from=") != std::string::npos) {
              std::string written;
              for (const auto& raw : Split(f.value, ',')) {
                if (ToLower(KeyValue(raw).first) == "from")
                  written = KeyValue(raw).second.value_or("");
              }
              if (!written.empty() || !m->from.empty()) {
                ANYARCH_CHECK(AddFromDependency(*cur, m->from, "RUN --mount from", written, f.pos));
              }
            }
            step.mounts.push_back(std::move(*m));
            ANYARCH_TRY(auto v, Expand(f.value, InFlag(f), lookup));
            step.flags.emplace_back("mount", v);
          }
          break;
        default:
          break;
      }
      cur->steps.push_back(std::move(step));
    }
    if (cur) {
      cur->args = stage_args;
      cur->env = env;
    }

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

  // Expands `text`; an error points at the "$" or quote at fault through `pos`.
  Result<std::string> Expand(const std::string& text, const PosFn& pos, const Lookup& lookup,
                             std::optional<ExpandOptions> options = std::nullopt,
                             std::set<std::string>* referenced = nullptr) {
    std::size_t off = 0;
    auto r = ExpandWord(text, lookup, options.value_or(ExpandOptions{.escape = df_.escape}), &off);
    if (!r) return Unexpected(Err(pos(off), r.error().message()));
    if (referenced) referenced->insert(r->referenced.begin(), r->referenced.end());
    return r->value;
  }

  // A stage by name (FROM); -1 when there is none.
  int FindStageByName(const std::string& name) const {
    std::string n = ToLower(name);
    for (const auto& s : plan_.stages) {
      if (!s.name.empty() && s.name == n) return s.index;
    }
    return -1;
  }

  // COPY --from / RUN --mount from=: a stage by name or index, else an image.
  Status AddFromDependency(Stage& stage, const std::string& from, const std::string& via,
                           const std::string& written, Position pos) {
    if (from.empty()) {
      return Unexpected(Err(pos, via + "=" + written +
                                     " expands to an empty string: it must name a stage or "
                                     "an image (is the ARG declared in this stage and set?)"));
    }
    int s = -1;
    std::string n = ToLower(from);
    if (AllDigits(n)) {
      long idx = n.size() > 9 ? -1 : std::strtol(n.c_str(), nullptr, 10);
      if (idx < 0 || idx >= static_cast<long>(stage_names_.size())) {
        return Unexpected(Err(pos, via + "=" + from + ": invalid stage index " + from +
                                       " (the Dockerfile has " +
                                       std::to_string(stage_names_.size()) + " stages)"));
      }
      s = static_cast<int>(idx);
    } else {
      for (std::size_t k = 0; k < stage_names_.size(); ++k) {
        if (!stage_names_[k].empty() && stage_names_[k] == n) {
          s = static_cast<int>(k);
          break;
        }
      }
    }
    if (s == stage.index) {
      return Unexpected(Err(pos, via + "=" + from + " refers to the stage it is in"));
    }
    if (s > stage.index) {
      return Unexpected(Err(pos, via + "=" + from + " refers to stage " + std::to_string(s) +
                                     ", defined later in the file: a stage can only use "
                                     "earlier stages (BuildKit: it needs to be defined before "
                                     "the current stage)"));
    }
    if (s >= 0) {
      stage.deps.push_back({s, via, pos.line});
      return Ok();
    }
    if (auto r = ref::Parse(from); !r) {
      return Unexpected(Err(
          pos, via + "=" + from +
                   " names no stage and is not a valid image reference: " + r.error().message()));
    }
    stage.external_images.push_back(from);
    return Ok();
  }

  // Why the variables `refs` of a FROM line may have expanded to nothing.
  std::string UnsetHint(const std::set<std::string>& refs,
                        const std::map<std::string, std::string>& globals) const {
    std::vector<std::string> notes;
    for (const auto& name : refs) {
      if (globals.count(name)) continue;
      if (global_declared_.count(name)) {
        notes.push_back("ARG " + name + " has no value (give it a default or --build-arg)");
      } else {
        notes.push_back("$" + name +
                        " is not declared (FROM only sees ARGs declared before "
                        "the first FROM)");
      }
    }
    return notes.empty() ? "" : "; " + Join(notes, "; ");
  }

  Status BeginStage(const Instruction& in, const std::map<std::string, std::string>& globals) {
    Stage st;
    st.index = static_cast<int>(plan_.stages.size());
    st.pos = in.pos;
    auto words = SplitRawWords(in.args, df_.escape);
    auto lookup = MapLookup(globals);
    std::set<std::string> refs;
    Position image_pos = in.ArgPos(words[0].offset);
    ANYARCH_TRY(st.base,
                Expand(words[0].text, InArgs(in, words[0].offset), lookup, std::nullopt, &refs));
    if (st.base.empty()) {
      return Unexpected(Err(image_pos, "FROM \"" + words[0].text +
                                           "\" expands to an empty image name" +
                                           UnsetHint(refs, globals)));
    }
    if (words.size() == 3) st.name = ToLower(words[2].text);
    for (const auto& s : plan_.stages) {
      if (!st.name.empty() && s.name == st.name) {
        return Unexpected(Err(in.pos, "duplicate stage name \"" + st.name +
                                          "\" (first used on line " + std::to_string(s.pos.line) +
                                          ")"));
      }
    }
    // FROM resolves stages by name only: "FROM 0" is an image.
    int base = FindStageByName(st.base);
    if (base >= 0) {
      st.base_stage = base;
      st.deps.push_back({base, "FROM", in.pos.line});
      st.platform = plan_.stages[static_cast<std::size_t>(base)].platform;
      st.mode = plan_.stages[static_cast<std::size_t>(base)].mode;
    } else {
      if (auto r = ref::Parse(st.base); !r) {
        return Unexpected(Err(image_pos, "FROM \"" + words[0].text + "\" expands to \"" + st.base +
                                             "\", which is not a valid image reference: " +
                                             r.error().message() + UnsetHint(refs, globals)));
      }
      st.platform = plan_.target;
      st.mode = StageMode::kTarget;
    }
    std::optional<platform::Platform> only =
        st.base_stage < 0 ? ArchRepositoryPlatform(st.base) : std::nullopt;
    if (const Flag* f = in.FindFlag("platform")) {
      st.platform_flag = f->value;
      ANYARCH_TRY(std::string v, Expand(f->value, InFlag(*f), lookup));
      auto frefs = ReferencedVariables(f->value, df_.escape);
      auto p = platform::Parse(v);
      if (!p) {
        return Unexpected(Err(f->pos, "--platform=" + f->value + " expands to \"" + v +
                                          "\": " + p.error().message()));
      }
      st.platform = *p;
      if (frefs.count("BUILDPLATFORM") || frefs.count("BUILDARCH")) {
        st.mode = StageMode::kBuildShared;
      } else if (frefs.count("TARGETPLATFORM") || frefs.count("TARGETARCH")) {
        st.mode = StageMode::kTarget;
      } else {
        st.mode = StageMode::kPinned;
      }
    }
    if (only && !platform::Matches(platform::Normalize(st.platform), *only)) {
      st.base_platform_conflict = "base image " + st.base + " holds " + only->ToString() +
                                  " only, which cannot run on " + st.platform.ToString();
    }
    plan_.stages.push_back(std::move(st));
    return Ok();
  }

  Status SelectTarget() {
    if (opt_.target_stage.empty()) {
      plan_.target_index = static_cast<int>(plan_.stages.size()) - 1;
    } else {
      int s = FindStageByName(opt_.target_stage);
      if (s < 0 && AllDigits(opt_.target_stage) && opt_.target_stage.size() < 9) {
        long idx = std::strtol(opt_.target_stage.c_str(), nullptr, 10);
        if (idx < static_cast<long>(plan_.stages.size())) s = static_cast<int>(idx);
      }
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
  std::set<std::string> declared_;         // every ARG name in the file
  std::set<std::string> global_declared_;  // ARGs before the first FROM
  std::vector<std::string> stage_names_;   // per FROM, lowercase; empty when unnamed
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

// JSON text that never throws: bytes that are not UTF-8 become U+FFFD.
template <typename J>
std::string JsonText(const J& j, int indent = -1) {
  return j.dump(indent, ' ', false, J::error_handler_t::replace);
}

// "    12 COPY --from=build ["/out/app","/usr/bin/app"]": an instruction as the plan sees it.
std::string StepLine(const Step& st) {
  std::string out = "    " + std::to_string(st.inst->pos.line) + " " + KindName(st.inst->kind);
  for (const auto& [name, value] : st.flags) out += " --" + name + "=" + value;
  out += st.expanded ? " " + JsonText(Json(st.words)) : " (not expanded)";
  if (st.inst->kind == Kind::kRun && !st.inst->heredocs.empty()) {
    // What the shell is given (BuildKit's dispatchRun).
    RunCommand cmd = RunCommandOf(*st.inst);
    out += " runs " + JsonText(Json(cmd.args));
    if (cmd.script)
      out += " written to " + cmd.script->path + " " + JsonText(Json(cmd.script->content));
  }
  if (!st.mounts.empty()) {
    // With the defaults BuildKit applies, against the working directory known here.
    auto mounts = ParseMounts(st, st.workdir.empty() ? "/" : st.workdir);
    if (!mounts) {
      out += " mounts: " + mounts.error().message();
    } else {
      for (const auto& m : *mounts) out += " [" + MountSpecText(m) + "]";
    }
  }
  for (const auto& [name, content] : st.heredocs)
    out += " <<" + name + " " + JsonText(Json(content));
  return out + "\n";
}

}  // namespace

std::string PlansToText(const std::vector<Plan>& plans, const PlanTextOptions& options) {
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
      if (!s.base_platform_conflict.empty()) out += ", WRONG PLATFORM: " + s.base_platform_conflict;
      out += ", " + std::to_string(s.steps.size()) + " instructions\n";
      if (options.steps) {
        for (const auto& st : s.steps) out += StepLine(st);
      }
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
      if (!s.base_platform_conflict.empty())
        sj["base_platform_conflict"] = s.base_platform_conflict;
      OrderedJson steps = OrderedJson::array();
      for (const auto& st : s.steps) {
        OrderedJson step;
        step["line"] = st.inst->pos.line;
        step["instruction"] = KindName(st.inst->kind);
        step["expanded"] = st.expanded;
        step["words"] = st.words;
        OrderedJson flags = OrderedJson::array();
        for (const auto& [name, value] : st.flags)
          flags.push_back({{"name", name}, {"value", value}});
        step["flags"] = flags;
        OrderedJson heredocs = OrderedJson::array();
        for (const auto& [name, content] : st.heredocs) {
          heredocs.push_back({{"name", name}, {"content", content}});
        }
        step["heredocs"] = heredocs;
        steps.push_back(step);
      }
      sj["steps"] = steps;
      stages.push_back(sj);
    }
    j["stages"] = stages;
    j["unused_build_args"] = p.unused_build_args;
    arr.push_back(j);
  }
  return JsonText(arr, 2);
}

}  // namespace anyarch::dockerfile

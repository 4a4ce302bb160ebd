#include "dockerfile/lint.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "base/strings.h"
#include "dockerfile/expand.h"
#include "dockerfile/syntax_error.h"
#include "ref/reference.h"

namespace anyarch::dockerfile {
namespace {

const char* const kArchWords[] = {
    "amd64",  "x86_64", "x86-64", "aarch64", "arm64",   "armhf", "armel",    "armv7l",   "armv7",
    "armv6l", "i386",   "i686",   "ppc64le", "ppc64el", "s390x", "mips64el", "mips64le", "riscv64"};

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The first architecture name that stands as a token (not inside a longer word).
std::string FindArchWord(const std::string& text) {
  std::string lower = ToLower(text);
  for (const char* w : kArchWords) {
    std::string word(w);
    std::size_t pos = 0;
    while ((pos = lower.find(word, pos)) != std::string::npos) {
      bool left = pos == 0 || !IsWordChar(lower[pos - 1]);
      std::size_t end = pos + word.size();
      bool right = end >= lower.size() || !IsWordChar(lower[end]);
      if (left && right) return word;
      pos = end;
    }
  }
  return {};
}

// Whether a token of a RUN command names a file: a URL, a path, or a file name with an archive
// or package extension. Only these are checked for architecture names, so package names
// (gcc-aarch64-linux-gnu), target triples and `dpkg --add-architecture arm64` are not reported.
bool FileLikeToken(const std::string& token) {
  if (token.find('/') != std::string::npos) return true;
  static const char* const kExtensions[] = {
      ".tar.gz",   ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst", ".tar",
      ".zip",      ".deb", ".rpm",    ".apk", ".gz",      ".xz",   ".bz2",     ".zst",
      ".appimage", ".so",  ".run",    ".bin", ".msi",     ".exe",  ".jar",     ".whl"};
  std::string lower = ToLower(token);
  for (const char* e : kExtensions) {
    std::string ext(e);
    if (lower.size() > ext.size() && lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0)
      return true;
  }
  return false;
}

// The first architecture name in a file-like token of shell text.
std::string FindArchInFiles(const std::string& text) {
  std::string token;
  auto flush = [&]() -> std::string {
    std::string t = token;
    token.clear();
    while (!t.empty() && std::string("\"'`;&|)(<>,").find(t.back()) != std::string::npos)
      t.pop_back();
    while (!t.empty() && std::string("\"'`;&|)(<>,").find(t.front()) != std::string::npos)
      t.erase(t.begin());
    if (t.empty() || !FileLikeToken(t)) return {};
    return FindArchWord(t);
  };
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (auto a = flush(); !a.empty()) return a;
    } else {
      token.push_back(c);
    }
  }
  return flush();
}

// An instruction that looks at the platform it runs for is architecture-aware.
bool ArchAware(const std::string& text, char escape) {
  for (const auto& name : ReferencedVariables(text, escape)) {
    if (IsPlatformArg(name)) return true;
  }
  std::string lower = ToLower(text);
  return lower.find("uname -m") != std::string::npos ||
         lower.find("dpkg --print-architecture") != std::string::npos ||
         lower.find("$(arch)") != std::string::npos || lower.find("`arch`") != std::string::npos ||
         lower.find("apk --print-arch") != std::string::npos;
}

// Everything an instruction says, heredoc bodies included (for the architecture checks).
std::string FullText(const Instruction& in) {
  std::string text = in.args;
  for (const auto& f : in.flags) text += " --" + f.name + "=" + f.value;
  for (const auto& h : in.heredocs) text += "\n" + h.body;
  return text;
}

std::string Basename(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsShell(const std::string& program) {
  static const std::set<std::string> shells = {"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"};
  return shells.count(Basename(program)) > 0;
}

// The script of an exec-form command that runs a shell (["sh", "-c", "script"]), if it is one.
std::optional<std::string> ShellScriptOfExec(const std::vector<std::string>& argv) {
  if (argv.size() < 3 || !IsShell(argv[0])) return std::nullopt;
  const std::string& opt = argv[1];
  if (opt.size() < 2 || opt[0] != '-' || opt.find('c') == std::string::npos) return std::nullopt;
  return argv[2];
}

// Whether a heredoc body that is run as a script is a shell script: no "#!" line, or one that
// names a shell (also through /usr/bin/env).
bool ShellScriptBody(const std::string& body) {
  if (body.rfind("#!", 0) != 0) return true;
  std::string first = body.substr(2, body.find('\n') - 2);
  std::vector<std::string> words;
  for (const auto& w : Split(first, ' ')) {
    if (!TrimSpace(w).empty()) words.push_back(std::string(TrimSpace(w)));
  }
  if (words.empty()) return true;
  std::size_t k = 0;
  if (Basename(words[0]) == "env") {
    k = 1;
    while (k < words.size() && words[k][0] == '-') ++k;
  }
  return k < words.size() && IsShell(words[k]);
}

// A piece of an instruction that variables are expanded in, by the frontend or by the shell of
// a RUN, and how it is expanded.
struct VariableText {
  std::string text;
  ExpandOptions options;
};

// What of `in` sees build variables: the frontend's expansions (ARG defaults, ENV, COPY args,
// unquoted COPY/ADD heredocs in raw mode, flags ...) and what the RUN shell expands (the
// command, heredoc bodies it runs as scripts or reads unquoted, the script of ["sh","-c",...]).
// Empty for instructions nothing expands (CMD, ENTRYPOINT, HEALTHCHECK, SHELL, MAINTAINER,
// ONBUILD: they run later or not at all).
std::vector<VariableText> TextWithVariables(const Instruction& in, char escape) {
  const ExpandOptions shell{.escape = escape};
  std::vector<VariableText> out;
  switch (in.kind) {
    case Kind::kOnbuild:
    case Kind::kCmd:
    case Kind::kEntrypoint:
    case Kind::kHealthcheck:
    case Kind::kShell:
    case Kind::kMaintainer:
    case Kind::kFrom:
      return out;
    case Kind::kArg: {
      // Only the defaults refer to variables.
      std::string text;
      for (const auto& w : SplitRawWords(in.args, escape)) {
        auto eq = w.text.find('=');
        if (eq != std::string::npos) text += " " + w.text.substr(eq + 1);
      }
      out.push_back({text, shell});
      return out;
    }
    case Kind::kRun: {
      if (!in.json_form) {
        out.push_back({in.args, shell});
      } else if (auto script = ShellScriptOfExec(in.json_args)) {
        out.push_back({*script, shell});
      }
      for (const auto& f : in.FlagsNamed("mount")) out.push_back({f->value, shell});
      // "RUN <<EOF" alone runs the body as a script (quoting the delimiter does not change
      // that in BuildKit); otherwise the shell reads the heredoc, expanding it unless quoted.
      bool alone = in.heredocs.size() == 1 && in.args.size() == in.heredocs[0].marker_size;
      for (const auto& h : in.heredocs) {
        if (alone ? ShellScriptBody(h.body) : h.expand) out.push_back({h.body, shell});
      }
      return out;
    }
    default: {
      std::string text = in.args;
      for (const auto& f : in.flags) text += " " + f.value;
      out.push_back({text, shell});
      if (in.kind == Kind::kAdd || in.kind == Kind::kCopy) {
        for (const auto& h : in.heredocs) {
          if (h.expand) {
            out.push_back({h.body, ExpandOptions{.escape = '\\', .process_quotes = false}});
          }
        }
      }
      return out;
    }
  }
}

bool HasYesFlag(const std::vector<std::string>& words) {
  for (const auto& w : words) {
    if (w == "--yes" || w == "--assume-yes" || w == "-qq" || w == "-q=2" || w == "--quiet=2")
      return true;
    if (w.size() > 1 && w[0] == '-' && w[1] != '-' && w.find('y') != std::string::npos) return true;
  }
  return false;
}

// One command's words: "apt-get install" (or "apt install") without a yes flag.
bool AptCommandWithoutYes(const std::vector<std::string>& words) {
  auto apt = std::find_if(words.begin(), words.end(), [](const std::string& w) {
    return Basename(w) == "apt-get" || Basename(w) == "apt";
  });
  if (apt == words.end()) return false;
  auto inst = std::find(apt, words.end(), "install");
  if (inst == words.end()) return false;
  return !HasYesFlag(std::vector<std::string>(apt, words.end()));
}

// Finds "apt-get install" (or "apt install") commands without a yes flag in shell text.
bool AptWithoutYes(const std::string& text) {
  std::string t = text;
  for (const char* sep : {"&&", "||", ";", "|", "\n"}) {
    std::size_t p = 0;
    std::string s(sep);
    while ((p = t.find(s, p)) != std::string::npos) {
      t.replace(p, s.size(), std::string(s.size(), '\x1f'));
    }
  }
  for (const auto& cmd : Split(t, '\x1f')) {
    std::vector<std::string> words;
    for (const auto& w : Split(cmd, ' ')) {
      auto tw = std::string(TrimSpace(w));
      if (!tw.empty()) words.push_back(tw);
    }
    if (AptCommandWithoutYes(words)) return true;
  }
  return false;
}

const std::set<std::string>& ArchOrgs() {
  static const std::set<std::string> orgs = {"amd64",    "arm64v8", "arm32v7",      "arm32v6",
                                             "arm32v5",  "i386",    "ppc64le",      "s390x",
                                             "mips64le", "riscv64", "windows-amd64"};
  return orgs;
}

// For each stage, the stage it is built FROM (-1 for an image), by the literal names (used when
// there are no plans to take them from).
std::vector<int> LiteralParents(const Dockerfile& df) {
  std::vector<int> parents;
  std::vector<std::string> names;
  for (const auto& in : df.instructions) {
    if (in.kind != Kind::kFrom) continue;
    auto words = SplitRawWords(in.args, df.escape);
    int parent = -1;
    std::string base = words.empty() ? "" : ToLower(words[0].text);
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (!names[k].empty() && names[k] == base) parent = static_cast<int>(k);
    }
    parents.push_back(parent);
    names.push_back(words.size() == 3 ? ToLower(words[2].text) : "");
  }
  return parents;
}

// undeclared-arg for one assignment of parent stages: a stage starts with the ARGs and ENV of
// the stage it is built on. Findings go to `out` by instruction index, once each.
void UndeclaredArgs(const Dockerfile& df, const std::set<std::string>& globals,
                    const std::vector<int>& parents,
                    std::map<std::size_t, std::vector<LintWarning>>& out,
                    std::set<std::string>& seen) {
  struct Vars {
    std::set<std::string> declared, env;
  };
  std::vector<Vars> finals;  // per stage, at its end
  Vars cur;
  int stage = -1;
  std::set<std::string> later_args;
  for (std::size_t i = 0; i < df.instructions.size(); ++i) {
    const Instruction& in = df.instructions[i];
    if (in.kind == Kind::kFrom) {
      if (stage >= 0) finals.push_back(cur);
      ++stage;
      int parent = static_cast<std::size_t>(stage) < parents.size()
                       ? parents[static_cast<std::size_t>(stage)]
                       : -1;
      cur = parent >= 0 && static_cast<std::size_t>(parent) < finals.size()
                ? finals[static_cast<std::size_t>(parent)]
                : Vars{};
      later_args.clear();
      for (std::size_t k = i + 1;
           k < df.instructions.size() && df.instructions[k].kind != Kind::kFrom; ++k) {
        if (df.instructions[k].kind != Kind::kArg) continue;
        for (const auto& w : SplitRawWords(df.instructions[k].args, df.escape)) {
          later_args.insert(w.text.substr(0, w.text.find('=')));
        }
      }
      continue;
    }
    if (stage < 0) continue;
    std::set<std::string> reported;
    for (const auto& piece : TextWithVariables(in, df.escape)) {
      for (const auto& name : ReferencedVariables(piece.text, piece.options)) {
        if (cur.declared.count(name) || cur.env.count(name) || IsProxyArg(name) ||
            reported.count(name))
          continue;
        std::string why;
        if (globals.count(name)) {
          why = "is a global ARG; a stage must redeclare it (ARG " + name + ") before using it";
        } else if (later_args.count(name)) {
          why = "is declared by an ARG later in this stage; move the ARG up";
        } else if (IsPlatformArg(name)) {
          why =
              "is an automatic platform ARG; declare it in this stage (ARG " + name + ") to use it";
        } else {
          continue;
        }
        reported.insert(name);
        std::string message = "$" + name + " is empty here: it " + why;
        if (seen.insert(std::to_string(i) + "\n" + message).second) {
          out[i].push_back({"undeclared-arg", in.pos, message});
        }
      }
    }
    if (in.kind == Kind::kArg) {
      for (const auto& w : SplitRawWords(in.args, df.escape))
        cur.declared.insert(w.text.substr(0, w.text.find('=')));
    }
    if (in.kind == Kind::kEnv) {
      for (const auto& w : SplitRawWords(in.args, df.escape))
        cur.env.insert(w.text.substr(0, w.text.find('=')));
    }
  }
}

// True when a shell-form command starting with "[" was meant as exec form: the text inside
// the brackets is a comma-separated list, or one quoted string (['a'], ["a" "b"]). A test
// command is not: RUN [ "$X" = "true" ] && ..., RUN [ -f /x ].
bool LooksLikeJsonArray(std::string_view text) {
  std::string_view t = TrimSpace(text);
  // "[" is a command only when a blank follows it; ["a", ['a'] and [a, b] are arrays.
  if (t.size() >= 2 && t.front() == '[' && t[1] != ' ' && t[1] != '\t') return true;
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') return false;
  std::string_view inner = TrimSpace(t.substr(1, t.size() - 2));
  char quote = 0;
  for (char c : inner) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == ',') {
      return true;
    }
  }
  if (inner.size() < 2 || (inner.front() != '"' && inner.front() != '\'')) return false;
  return inner.find(inner.front(), 1) == inner.size() - 1;
}

}  // namespace

std::string BuildKitRuleName(const std::string& rule) {
  static const std::map<std::string, std::string> kNames = {
      {"empty-continuation", "NoEmptyContinuation"},
      {"maintainer", "MaintainerDeprecated"},
      {"undefined-arg-in-from", "UndefinedArgInFrom"},
      {"undeclared-arg", "UndefinedVar"},
      {"pinned-platform", "FromPlatformFlagConstDisallowed"},
      {"arch-specific-base", "InvalidBaseImagePlatform"},
  };
  auto it = kNames.find(rule);
  return it == kNames.end() ? "" : it->second;
}

bool CheckDirective::Skips(const std::string& rule) const {
  if (skip_all) return true;
  if (skip.count(ToLower(rule))) return true;
  std::string bk = BuildKitRuleName(rule);
  return !bk.empty() && skip.count(ToLower(bk));
}

Result<CheckDirective> ParseCheckDirective(const Dockerfile& df) {
  CheckDirective d;
  for (const auto& dir : df.directives) {
    if (dir.name != "check") continue;
    auto bad = [&](const std::string& why) {
      return Unexpected(
          SyntaxError(df.filename, df.source, dir.pos, "# check=" + dir.value + ": " + why));
    };
    for (const auto& part : Split(dir.value, ';')) {
      std::string p(TrimSpace(part));
      if (p.empty()) continue;
      auto eq = p.find('=');
      std::string key = ToLower(std::string(TrimSpace(p.substr(0, eq))));
      std::string value = eq == std::string::npos ? "" : std::string(TrimSpace(p.substr(eq + 1)));
      if (key == "skip") {
        for (const auto& r : Split(value, ',')) {
          std::string name = ToLower(std::string(TrimSpace(r)));
          if (name == "all") d.skip_all = true;
          if (!name.empty()) d.skip.insert(name);
        }
      } else if (key == "error") {
        std::string v = ToLower(value);
        if (v == "true" || v == "1" || v == "t") {
          d.error = true;
        } else if (v == "false" || v == "0" || v == "f") {
          d.error = false;
        } else {
          return bad("error takes true or false, not \"" + value + "\"");
        }
      } else if (key == "experimental") {
        for (const auto& r : Split(value, ',')) {
          std::string name = ToLower(std::string(TrimSpace(r)));
          if (name == "all") d.experimental_all = true;
          if (!name.empty()) d.experimental.insert(name);
        }
      } else {
        return bad("unknown setting \"" + key + "\" (expected skip, error or experimental)");
      }
    }
  }
  return d;
}

Result<std::vector<LintWarning>> Lint(const Dockerfile& df, const LintOptions& options) {
  std::vector<LintWarning> out;
  const bool multi = options.platforms.size() > 1;
  std::string platform_list;
  for (const auto& p : options.platforms) {
    platform_list += (platform_list.empty() ? "" : ", ") + p.ToString();
  }

  for (const auto& pos : df.empty_continuations) {
    out.push_back(
        {"empty-continuation", pos,
         "empty line inside a continued instruction; remove it (BuildKit deprecates this)"});
  }

  // Every target platform is evaluated: which stage a stage is built on, whether it is needed
  // and which build args are used can differ per platform (FROM base-${TARGETARCH}).
  std::vector<Plan> plans;
  if (!options.platforms.empty()) {
    EvalOptions eo{.build = options.build,
                   .build_args = options.build_args,
                   .target_stage = options.target_stage};
    ANYARCH_TRY(plans, EvaluateAll(df, options.platforms, eo));
  }

  std::set<std::string> globals;
  for (const auto& in : df.instructions) {
    if (in.kind == Kind::kFrom) break;
    if (in.kind == Kind::kArg) {
      for (const auto& w : SplitRawWords(in.args, df.escape))
        globals.insert(w.text.substr(0, w.text.find('=')));
    }
  }

  // Variables used before the stage declares them, for every platform's stage graph.
  std::map<std::size_t, std::vector<LintWarning>> undeclared;
  {
    std::vector<std::vector<int>> parent_sets;
    if (plans.empty()) parent_sets.push_back(LiteralParents(df));
    for (const auto& p : plans) {
      std::vector<int> parents;
      for (const auto& s : p.stages) parents.push_back(s.base_stage);
      if (std::find(parent_sets.begin(), parent_sets.end(), parents) == parent_sets.end())
        parent_sets.push_back(parents);
    }
    std::set<std::string> seen;
    for (const auto& parents : parent_sets) UndeclaredArgs(df, globals, parents, undeclared, seen);
  }

  bool in_stage = false;
  for (std::size_t i = 0; i < df.instructions.size(); ++i) {
    const Instruction& in = df.instructions[i];
    if (in.kind == Kind::kFrom) {
      in_stage = true;
      // FROM checks.
      auto words = SplitRawWords(in.args, df.escape);
      const std::string& image = words[0].text;
      if (image.find('$') == std::string::npos) {
        auto r = ref::Parse(image);
        if (r && r->registry == ref::kDockerHub) {
          std::string org = r->repository.substr(0, r->repository.find('/'));
          // Which platforms of the build this base cannot run on, and for which stage.
          std::vector<std::string> conflicts;
          std::string stage_label;
          for (const auto& p : plans) {
            for (const auto& st : p.stages) {
              // Only a stage the build needs: an unused one is never pulled.
              if (st.pos.line != in.pos.line || st.base_platform_conflict.empty() || !st.needed)
                continue;
              std::string where = st.platform.ToString();
              if (std::find(conflicts.begin(), conflicts.end(), where) == conflicts.end())
                conflicts.push_back(where);
              stage_label = st.name.empty() ? std::to_string(st.index) : "\"" + st.name + "\"";
            }
          }
          auto only = ArchRepositoryPlatform(image);
          if (only && !conflicts.empty()) {
            LintWarning w{
                "arch-specific-base", in.args_pos,
                "stage " + stage_label + ": base image \"" + image + "\" holds " +
                    only->ToString() + " only and cannot run on " + Join(conflicts, ", ") +
                    "; use the multi-platform image \"" + r->repository.substr(org.size() + 1) +
                    (r->tag.empty() ? "" : ":" + r->tag) +
                    "\" (FROM picks the platform), or FROM --platform=" + only->ToString() +
                    " if this stage must run there"};
            w.error = true;
            out.push_back(std::move(w));
          } else if (ArchOrgs().count(org)) {
            out.push_back({"arch-specific-base", in.args_pos,
                           "base image \"" + image + "\" comes from the " + org +
                               " repository, which holds one architecture only; use the "
                               "multi-platform image (e.g. \"" +
                               r->repository.substr(org.size() + 1) +
                               (r->tag.empty() ? "" : ":" + r->tag) +
                               "\") and let --platform choose"});
          }
        }
      }
      const Flag* platform_flag = in.FindFlag("platform");
      if (platform_flag && multi && platform_flag->value.find('$') == std::string::npos) {
        out.push_back({"pinned-platform", platform_flag->pos,
                       "FROM --platform=" + platform_flag->value +
                           " pins this stage to one platform in a build for " + platform_list +
                           "; use $BUILDPLATFORM for build tools or $TARGETPLATFORM (the "
                           "default)"});
      }
      // FROM sees only the global ARGs and the automatic platform ARGs.
      auto undefined = [&](const std::string& text, Position pos, const std::string& what) {
        for (const auto& name : ReferencedVariables(text, df.escape)) {
          if (globals.count(name) || IsPlatformArg(name)) continue;
          out.push_back({"undefined-arg-in-from", pos,
                         "$" + name + " in the " + what +
                             " of FROM is not an ARG declared before the first FROM, so it "
                             "expands to nothing; declare it there (ARG " +
                             name + "=...)"});
        }
      };
      undefined(image, in.args_pos, "image");
      if (platform_flag) undefined(platform_flag->value, platform_flag->pos, "--platform");
      continue;
    }
    if (!in_stage) continue;
    const Instruction& eff = in.onbuild ? *in.onbuild : in;

    if (in.kind == Kind::kMaintainer) {
      out.push_back(
          {"maintainer", in.pos,
           "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=\"...\""});
    }

    if (auto u = undeclared.find(i); u != undeclared.end()) {
      out.insert(out.end(), u->second.begin(), u->second.end());
    }

    // JSON form that is not JSON.
    if ((eff.kind == Kind::kCmd || eff.kind == Kind::kEntrypoint || eff.kind == Kind::kRun) &&
        !eff.json_form && LooksLikeJsonArray(eff.args)) {
      out.push_back({"json-form", eff.args_pos,
                     std::string(KindName(eff.kind)) +
                         " looks like an exec-form JSON array but is not valid JSON (strings need "
                         "double quotes), so it runs as a shell command: " +
                         eff.args});
    }

    if (eff.kind == Kind::kRun) {
      bool apt = false;
      if (eff.json_form) {
        auto script = ShellScriptOfExec(eff.json_args);
        apt = script ? AptWithoutYes(*script) : AptCommandWithoutYes(eff.json_args);
      } else {
        std::string text = eff.args;
        for (const auto& h : eff.heredocs) text += "\n" + h.body;
        apt = AptWithoutYes(text);
      }
      if (apt) {
        out.push_back(
            {"apt-get-yes", eff.pos,
             "apt-get install without -y waits for an answer that never comes in a build; add -y "
             "(and --no-install-recommends)"});
      }
    }

    if (multi && (eff.kind == Kind::kAdd || eff.kind == Kind::kCopy || eff.kind == Kind::kRun)) {
      std::string text = FullText(eff);
      if (!ArchAware(text, df.escape)) {
        std::string arch;
        if (eff.kind == Kind::kRun) {
          // Only files: URLs, paths and archive names, not package names or target triples.
          arch = FindArchInFiles(eff.json_form ? Join(eff.json_args, " ") : text);
        } else {
          std::string words = eff.args;
          for (const auto& fl : eff.flags) {
            if (fl.name == "from") words += " " + fl.value;
          }
          arch = FindArchWord(words);
        }
        if (!arch.empty()) {
          out.push_back(
              {"hardcoded-arch", eff.pos,
               std::string(KindName(eff.kind)) + " hard-codes the architecture \"" + arch +
                   "\" in a build for " + platform_list +
                   ": every platform gets the same file; use ${TARGETARCH} (after ARG TARGETARCH "
                   "in this stage) or map it in the command"});
        }
      }
    }
  }

  // Unused stages and build args: not needed, or not consumed, for any platform.
  if (!plans.empty()) {
    if (options.target_stage.empty()) {
      for (std::size_t k = 0; k < plans.front().stages.size(); ++k) {
        bool needed = std::any_of(plans.begin(), plans.end(), [k](const Plan& p) {
          return k < p.stages.size() && p.stages[k].needed;
        });
        if (needed) continue;
        const Stage& s = plans.front().stages[k];
        out.push_back(
            {"unused-stage", s.pos,
             "stage " + (s.name.empty() ? std::to_string(s.index) : "\"" + s.name + "\"") +
                 " is not used by the final stage, so it is never built; remove it or build it "
                 "with --target"});
      }
    }
    for (const auto& name : plans.front().unused_build_args) {
      bool everywhere = std::all_of(plans.begin(), plans.end(), [&name](const Plan& p) {
        return std::find(p.unused_build_args.begin(), p.unused_build_args.end(), name) !=
               p.unused_build_args.end();
      });
      if (!everywhere) continue;
      out.push_back({"unused-build-arg",
                     {0, 0},
                     "--build-arg " + name + " is not consumed by any ARG instruction"});
    }
  }
  ANYARCH_TRY(CheckDirective check, ParseCheckDirective(df));
  std::vector<LintWarning> kept;
  for (auto& w : out) {
    if (check.Skips(w.rule)) continue;
    if (check.error) w.error = true;
    kept.push_back(std::move(w));
  }
  std::stable_sort(kept.begin(), kept.end(), [](const LintWarning& a, const LintWarning& b) {
    return a.pos.line < b.pos.line;
  });
  return kept;
}

}  // namespace anyarch::dockerfile

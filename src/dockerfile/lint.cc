#include "dockerfile/lint.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "base/strings.h"
#include "dockerfile/expand.h"
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

std::string FullText(const Instruction& in) {
  std::string text = in.args;
  for (const auto& f : in.flags) text += " --" + f.name + "=" + f.value;
  for (const auto& h : in.heredocs) text += "\n" + h.body;
  return text;
}

bool HasYesFlag(const std::vector<std::string>& words) {
  for (const auto& w : words) {
    if (w == "--yes" || w == "--assume-yes" || w == "-qq" || w == "-q=2" || w == "--quiet=2")
      return true;
    if (w.size() > 1 && w[0] == '-' && w[1] != '-' && w.find('y') != std::string::npos) return true;
  }
  return false;
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
    auto apt = std::find_if(words.begin(), words.end(),
                            [](const std::string& w) { return w == "apt-get" || w == "apt"; });
    if (apt == words.end()) continue;
    auto inst = std::find(apt, words.end(), "install");
    if (inst == words.end()) continue;
    if (!HasYesFlag(std::vector<std::string>(apt, words.end()))) return true;
  }
  return false;
}

const std::set<std::string>& ArchOrgs() {
  static const std::set<std::string> orgs = {"amd64",    "arm64v8", "arm32v7",      "arm32v6",
                                             "arm32v5",  "i386",    "ppc64le",      "s390x",
                                             "mips64le", "riscv64", "windows-amd64"};
  return orgs;
}

}  // namespace

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

  // Per-stage scan for ARG declarations and their uses.
  std::set<std::string> globals;
  for (const auto& in : df.instructions) {
    if (in.kind == Kind::kFrom) break;
    if (in.kind == Kind::kArg) {
      for (const auto& w : SplitRawWords(in.args, df.escape))
        globals.insert(w.text.substr(0, w.text.find('=')));
    }
  }
  bool in_stage = false;
  std::set<std::string> declared, env_names, later_args;
  for (std::size_t i = 0; i < df.instructions.size(); ++i) {
    const Instruction& in = df.instructions[i];
    if (in.kind == Kind::kFrom) {
      in_stage = true;
      declared.clear();
      env_names.clear();
      later_args.clear();
      for (std::size_t k = i + 1;
           k < df.instructions.size() && df.instructions[k].kind != Kind::kFrom; ++k) {
        if (df.instructions[k].kind != Kind::kArg) continue;
        for (const auto& w : SplitRawWords(df.instructions[k].args, df.escape)) {
          later_args.insert(w.text.substr(0, w.text.find('=')));
        }
      }
      // FROM checks.
      auto words = SplitRawWords(in.args, df.escape);
      const std::string& image = words[0].text;
      if (image.find('$') == std::string::npos) {
        auto r = ref::Parse(image);
        if (r && r->registry == ref::kDockerHub) {
          std::string org = r->repository.substr(0, r->repository.find('/'));
          if (ArchOrgs().count(org)) {
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
      if (const Flag* f = in.FindFlag("platform");
          f && multi && f->value.find('$') == std::string::npos) {
        out.push_back(
            {"pinned-platform", f->pos,
             "FROM --platform=" + f->value + " pins this stage to one platform in a build for " +
                 platform_list +
                 "; use $BUILDPLATFORM for build tools or $TARGETPLATFORM (the default)"});
      }
      continue;
    }
    if (!in_stage) continue;
    const Instruction& eff = in.onbuild ? *in.onbuild : in;

    if (in.kind == Kind::kMaintainer) {
      out.push_back(
          {"maintainer", in.pos,
           "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=\"...\""});
    }

    // Variables used before the stage declares them.
    if (in.kind != Kind::kOnbuild && in.kind != Kind::kCmd && in.kind != Kind::kEntrypoint &&
        in.kind != Kind::kHealthcheck && in.kind != Kind::kShell) {
      std::string text = FullText(in);
      if (in.kind == Kind::kArg) {
        // Only the defaults refer to variables.
        text.clear();
        for (const auto& w : SplitRawWords(in.args, df.escape)) {
          auto eq = w.text.find('=');
          if (eq != std::string::npos) text += " " + w.text.substr(eq + 1);
        }
      }
      std::set<std::string> reported;
      for (const auto& name : ReferencedVariables(text, df.escape)) {
        if (declared.count(name) || env_names.count(name) || IsProxyArg(name) ||
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
        out.push_back({"undeclared-arg", in.pos, "$" + name + " is empty here: it " + why});
      }
    }
    if (in.kind == Kind::kArg) {
      for (const auto& w : SplitRawWords(in.args, df.escape))
        declared.insert(w.text.substr(0, w.text.find('=')));
    }
    if (in.kind == Kind::kEnv) {
      for (const auto& w : SplitRawWords(in.args, df.escape))
        env_names.insert(w.text.substr(0, w.text.find('=')));
    }

    // JSON form that is not JSON.
    if ((eff.kind == Kind::kCmd || eff.kind == Kind::kEntrypoint || eff.kind == Kind::kRun) &&
        !eff.json_form && !eff.args.empty() && eff.args.front() == '[') {
      out.push_back({"json-form", eff.args_pos,
                     std::string(KindName(eff.kind)) +
                         " looks like an exec-form JSON array but is not valid JSON (strings need "
                         "double quotes), so it runs as a shell command: " +
                         eff.args});
    }

    if (eff.kind == Kind::kRun) {
      std::string text = eff.args;
      for (const auto& h : eff.heredocs) text += "\n" + h.body;
      if (AptWithoutYes(text)) {
        out.push_back(
            {"apt-get-yes", eff.pos,
             "apt-get install without -y waits for an answer that never comes in a build; add -y "
             "(and --no-install-recommends)"});
      }
    }

    if (multi && (eff.kind == Kind::kAdd || eff.kind == Kind::kCopy || eff.kind == Kind::kRun)) {
      std::string text = FullText(eff);
      if (!ArchAware(text, df.escape)) {
        std::string arch = FindArchWord(eff.kind == Kind::kRun ? text : eff.args + " " + [&] {
          std::string f;
          for (const auto& fl : eff.flags) {
            if (fl.name == "from") f += " " + fl.value;
          }
          return f;
        }());
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

  // Unused stages and build args come from evaluation.
  if (!options.platforms.empty()) {
    EvalOptions eo{.target = options.platforms.front(),
                   .build = options.build,
                   .build_args = options.build_args,
                   .target_stage = options.target_stage};
    ANYARCH_TRY(Plan plan, Evaluate(df, eo));
    if (options.target_stage.empty()) {
      for (const auto& s : plan.stages) {
        if (s.needed) continue;
        out.push_back(
            {"unused-stage", s.pos,
             "stage " + (s.name.empty() ? std::to_string(s.index) : "\"" + s.name + "\"") +
                 " is not used by the final stage, so it is never built; remove it or build it "
                 "with --target"});
      }
    }
    for (const auto& name : plan.unused_build_args) {
      out.push_back({"unused-build-arg",
                     {0, 0},
                     "--build-arg " + name + " is not consumed by any ARG instruction"});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const LintWarning& a, const LintWarning& b) {
    return a.pos.line < b.pos.line;
  });
  return out;
}

}  // namespace anyarch::dockerfile

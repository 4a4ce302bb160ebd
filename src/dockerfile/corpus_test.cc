// Runs the Dockerfile corpus in tests/dockerfiles: every file parses, evaluates for
// linux/amd64 and linux/arm64 (built on linux/amd64), and its plan, with every instruction's
// expanded arguments, matches the checked-in plan.txt. tests/dockerfiles/regen.sh rewrites
// the expectations (review the diff by hand).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "base/fs.h"
#include "dockerfile/evaluate.h"
#include "dockerfile/lint.h"
#include "dockerfile/parser.h"

namespace anyarch::dockerfile {
namespace {

namespace fs = std::filesystem;

fs::path CorpusDir() {
  const char* src = std::getenv("ANYARCH_SOURCE_DIR");
  return fs::path(src ? src : ".") / "tests" / "dockerfiles";
}

TEST(Corpus, EveryFileParsesAndMatchesItsPlan) {
  fs::path dir = CorpusDir();
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " (set ANYARCH_SOURCE_DIR)";
  std::vector<platform::Platform> targets = {*platform::Parse("linux/amd64"),
                                             *platform::Parse("linux/arm64")};
  EvalOptions base{.build = *platform::Parse("linux/amd64")};
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory()) continue;
    fs::path df_path = entry.path() / "Dockerfile";
    if (!fs::exists(df_path)) continue;
    ++count;
    SCOPED_TRACE(entry.path().filename().string());
    auto text = ReadFile(df_path);
    ASSERT_TRUE(text);
    auto df = Parse(*text, ParseOptions{.filename = df_path.string()});
    ASSERT_TRUE(df) << df.error().ToString();
    auto plans = EvaluateAll(*df, targets, base);
    ASSERT_TRUE(plans) << plans.error().ToString();
    auto want = ReadFile(entry.path() / "plan.txt");
    ASSERT_TRUE(want) << "missing plan.txt";
    EXPECT_EQ(PlansToText(*plans, {.steps = true}), *want);
    LintOptions lo{.platforms = targets, .build = base.build};
    auto lint = Lint(*df, lo);
    EXPECT_TRUE(lint) << (lint ? "" : lint.error().ToString());
  }
  EXPECT_GE(count, 40);
}

}  // namespace
}  // namespace anyarch::dockerfile

// The progress display: tty bars with bytes and a percentage that give way to one summary
// line, plain and json output exactly as scripts have always read them, fetch events tty-only.
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

namespace anyarch::cli {
namespace {

const std::string kA = "sha256:aaaaaaaaaaaa0000000000000000000000000000000000000000000000000000";
const std::string kB = "sha256:bbbbbbbbbbbb0000000000000000000000000000000000000000000000000000";

TEST(ProgressTest, TtyDrawsABarPerBlobThenCollapsesToASummary) {
  std::ostringstream out;
  ProgressReporter p("tty", out, Style(), 120);
  p.Progress({.id = kA, .action = "copy", .current = 1 << 20, .total = 2 << 20});
  std::string first = out.str();
  EXPECT_NE(first.find("aaaaaaaaaaaa  [======>     ]   50%  1.0 MiB / 2.0 MiB"), std::string::npos)
      << first;
  EXPECT_NE(first.find("0/1 done, 1.0 MiB of 2.0 MiB"), std::string::npos) << first;
  p.Progress({.id = kA, .action = "copy", .current = 2 << 20, .total = 2 << 20, .done = true});
  p.Progress({.id = kB, .action = "skip", .current = 10, .total = 10, .done = true});
  EXPECT_NE(out.str().find("[============]  100%  2.0 MiB / 2.0 MiB  copied"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("bbbbbbbbbbbb  already there"), std::string::npos) << out.str();
  out.str("");
  p.Finish();
  // Every drawn line is erased (two bars and the totals line), then the summary.
  std::string erase;
  for (int i = 0; i < 3; ++i) erase += "\033[1A\033[2K";
  EXPECT_EQ(out.str().rfind(erase + "\r", 0), 0u) << out.str();
  EXPECT_NE(out.str().find("done: copied 1 blob (2.0 MiB), 1 already there in "), std::string::npos)
      << out.str();
  // Finish again: nothing left to collapse.
  out.str("");
  p.Finish();
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressTest, TtyBarsShowRateAndTimeLeftOnceMeasurable) {
  std::ostringstream out;
  ProgressReporter p("tty", out, Style(), 100);
  p.Progress({.id = kA, .action = "copy", .current = 1 << 20, .total = 4 << 20});
  EXPECT_EQ(out.str().find("ETA"), std::string::npos) << "no rate after one event";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  p.Progress({.id = kA, .action = "copy", .current = 2 << 20, .total = 4 << 20});
  EXPECT_NE(out.str().find("MiB/s  ETA "), std::string::npos) << out.str();
}

TEST(ProgressTest, TtyLinesFitTheTerminal) {
  std::ostringstream out;
  ProgressReporter p("tty", out, Style(), 40);
  p.Progress({.id = kA, .action = "fetch", .current = 5, .total = 10, .detail = "layer 1 of 2"});
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) {
    auto start = line.rfind('\r');
    line = start == std::string::npos ? line : line.substr(start + 1);
    EXPECT_LE(line.size(), 39u) << line;
  }
}

TEST(ProgressTest, FetchEventsStayOutOfPlainAndJson) {
  for (const char* mode : {"plain", "json"}) {
    std::ostringstream out;
    ProgressReporter p(mode, out);
    p.Progress({.id = kA, .action = "fetch", .current = 10, .total = 10, .done = true});
    EXPECT_EQ(out.str(), "") << mode;
  }
}

TEST(ProgressTest, PlainAndJsonAreUnchanged) {
  std::ostringstream plain, json;
  ProgressReporter p("plain", plain), j("json", json);
  for (Reporter* r : {static_cast<Reporter*>(&p), static_cast<Reporter*>(&j)}) {
    r->Progress({.id = kA, .action = "copy", .current = 1, .total = 2});
    r->Progress({.id = kA, .action = "copy", .current = 2, .total = 2, .done = true});
    r->Progress({.id = kB, .action = "mount", .current = 3, .total = 3, .done = true});
    r->Warn("careful");
  }
  p.Finish();
  EXPECT_EQ(plain.str(),
            "copied sha256:aaaaaaaaaaaa (2 B)\nmounted sha256:bbbbbbbbbbbb\n"
            "anyarch: warning: careful\n");
  EXPECT_EQ(json.str(), "{\"id\":\"" + kA +
                            "\",\"action\":\"copy\",\"current\":1,\"total\":2,\"done\":false}\n"
                            "{\"id\":\"" +
                            kA +
                            "\",\"action\":\"copy\",\"current\":2,\"total\":2,\"done\":true}\n"
                            "{\"id\":\"" +
                            kB +
                            "\",\"action\":\"mount\",\"current\":3,\"total\":3,\"done\":true}\n"
                            "{\"warning\":\"careful\"}\n");
}

TEST(ProgressTest, TtyWarningsAreColouredAndPrintAboveTheBars) {
  std::ostringstream out;
  ProgressReporter p("tty", out, Style(true), 100);
  p.Progress({.id = kA, .action = "copy", .current = 1, .total = 2});
  p.Warn("slow");
  std::string s = out.str();
  auto warn = s.find("\033[1;33manyarch: warning:\033[0m slow\n");
  ASSERT_NE(warn, std::string::npos) << s;
  EXPECT_NE(s.find("aaaaaaaaaaaa  [======>", warn), std::string::npos)
      << "the bars are drawn again below";
}

}  // namespace
}  // namespace anyarch::cli

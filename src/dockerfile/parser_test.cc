#include "dockerfile/parser.h"

#include <gtest/gtest.h>

#include "dockerfile/heredoc.h"
#include "dockerfile/run.h"
#include "dockerfile/syntax_error.h"

namespace anyarch::dockerfile {
namespace {

Dockerfile MustParse(const std::string& text) {
  auto r = Parse(text);
  EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
  return r ? std::move(*r) : Dockerfile{};
}

// Every instruction, with and without its flags, parses to the right kind and arguments.
struct GoodCase {
  std::string text;
  Kind kind;
  std::string args;
  std::vector<std::pair<std::string, std::string>> flags;
  bool json = false;
};

TEST(Parser, EveryInstructionAndFlag) {
  const GoodCase cases[] = {
      {"FROM alpine", Kind::kFrom, "alpine", {}},
      {"from alpine AS base", Kind::kFrom, "alpine AS base", {}},
      {"FROM --platform=$BUILDPLATFORM golang:1.22 as build",
       Kind::kFrom,
       "golang:1.22 as build",
       {{"platform", "$BUILDPLATFORM"}}},
      {"RUN make", Kind::kRun, "make", {}},
      {"RUN [\"make\", \"all\"]", Kind::kRun, "[\"make\", \"all\"]", {}, true},
      {"RUN --mount=type=cache,target=/root/.cache go build",
       Kind::kRun,
       "go build",
       {{"mount", "type=cache,target=/root/.cache"}}},
      {"RUN --mount=type=bind,from=build,source=/out,target=/in ls /in",
       Kind::kRun,
       "ls /in",
       {{"mount", "type=bind,from=build,source=/out,target=/in"}}},
      {"RUN --mount=type=tmpfs,target=/tmp,size=64m true",
       Kind::kRun,
       "true",
       {{"mount", "type=tmpfs,target=/tmp,size=64m"}}},
      {"RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
       Kind::kRun,
       "npm ci",
       {{"mount", "type=secret,id=npmrc,target=/root/.npmrc"}}},
      {"RUN --mount=type=ssh git clone x", Kind::kRun, "git clone x", {{"mount", "type=ssh"}}},
      {"RUN --network=none --security=insecure make",
       Kind::kRun,
       "make",
       {{"network", "none"}, {"security", "insecure"}}},
      {"CMD [\"app\", \"--serve\"]", Kind::kCmd, "[\"app\", \"--serve\"]", {}, true},
      {"CMD app --serve", Kind::kCmd, "app --serve", {}},
      {"ENTRYPOINT [\"/entry.sh\"]", Kind::kEntrypoint, "[\"/entry.sh\"]", {}, true},
      {"SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
       Kind::kShell,
       "[\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
       {},
       true},
      {"LABEL a=b \"c d\"=\"e f\"", Kind::kLabel, "a=b \"c d\"=\"e f\"", {}},
      {"ENV A=1 B=\"two words\"", Kind::kEnv, "A=1 B=\"two words\"", {}},
      {"ENV LEGACY value with spaces", Kind::kEnv, "LEGACY value with spaces", {}},
      {"ARG VERSION=1.0", Kind::kArg, "VERSION=1.0", {}},
      {"ARG A B=2", Kind::kArg, "A B=2", {}},
      {"EXPOSE 80 443/tcp 8000-8010/udp", Kind::kExpose, "80 443/tcp 8000-8010/udp", {}},
      {"VOLUME /data /logs", Kind::kVolume, "/data /logs", {}},
      {"VOLUME [\"/data\"]", Kind::kVolume, "[\"/data\"]", {}, true},
      {"USER app:app", Kind::kUser, "app:app", {}},
      {"WORKDIR /src/app", Kind::kWorkdir, "/src/app", {}},
      {"STOPSIGNAL SIGTERM", Kind::kStopsignal, "SIGTERM", {}},
      {"HEALTHCHECK NONE", Kind::kHealthcheck, "NONE", {}},
      {"HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=5s --retries=3 "
       "CMD curl -f http://localhost/",
       Kind::kHealthcheck,
       "CMD curl -f http://localhost/",
       {{"interval", "30s"},
        {"timeout", "3s"},
        {"start-period", "1m"},
        {"start-interval", "5s"},
        {"retries", "3"}}},
      {"ADD --chown=1:1 --chmod=755 --link a.tar.gz /opt/",
       Kind::kAdd,
       "a.tar.gz /opt/",
       {{"chown", "1:1"}, {"chmod", "755"}, {"link", ""}}},
      {"ADD --checksum=sha256:abc https://x/y.tgz /y.tgz",
       Kind::kAdd,
       "https://x/y.tgz /y.tgz",
       {{"checksum", "sha256:abc"}}},
      {"ADD --keep-git-dir=true https://github.com/x/y.git /y",
       Kind::kAdd,
       "https://github.com/x/y.git /y",
       {{"keep-git-dir", "true"}}},
      {"ADD --exclude=*.md --exclude=docs . /app",
       Kind::kAdd,
       ". /app",
       {{"exclude", "*.md"}, {"exclude", "docs"}}},
      {"COPY --from=build --chown=app --chmod=0644 --link=false /out /app",
       Kind::kCopy,
       "/out /app",
       {{"from", "build"}, {"chown", "app"}, {"chmod", "0644"}, {"link", "false"}}},
      {"COPY --parents --exclude=**/*.test ./cmd/*/main.go /src/",
       Kind::kCopy,
       "./cmd/*/main.go /src/",
       {{"parents", ""}, {"exclude", "**/*.test"}}},
      {"COPY [\"a b\", \"/c\"]", Kind::kCopy, "[\"a b\", \"/c\"]", {}, true},
      {"MAINTAINER Jane <jane@example.com>", Kind::kMaintainer, "Jane <jane@example.com>", {}},
  };
  for (const auto& c : cases) {
    auto df = Parse("FROM scratch\n" + c.text + "\n");
    if (c.kind == Kind::kFrom) df = Parse(c.text + "\n");
    ASSERT_TRUE(df) << c.text << ": " << df.error().ToString();
    const Instruction& in = df->instructions.back();
    EXPECT_EQ(in.kind, c.kind) << c.text;
    EXPECT_EQ(in.args, c.args) << c.text;
    EXPECT_EQ(in.json_form, c.json) << c.text;
    ASSERT_EQ(in.flags.size(), c.flags.size()) << c.text;
    for (std::size_t i = 0; i < c.flags.size(); ++i) {
      EXPECT_EQ(in.flags[i].name, c.flags[i].first) << c.text;
      EXPECT_EQ(in.flags[i].value, c.flags[i].second) << c.text;
    }
  }
}

TEST(Parser, OnbuildWrapsAnInstruction) {
  auto df = MustParse("FROM x\nONBUILD COPY --chown=1 . /app\nONBUILD RUN make\n");
  ASSERT_EQ(df.instructions.size(), 3u);
  ASSERT_TRUE(df.instructions[1].onbuild);
  EXPECT_EQ(df.instructions[1].onbuild->kind, Kind::kCopy);
  EXPECT_EQ(df.instructions[1].onbuild->flags[0].name, "chown");
  EXPECT_EQ(df.instructions[2].onbuild->args, "make");
  Dockerfile copy = df;  // deep copy keeps the trigger
  ASSERT_TRUE(copy.instructions[1].onbuild);
  EXPECT_EQ(copy.instructions[1].onbuild->args, ". /app");
}

TEST(Parser, DirectivesAndEscape) {
  auto df = MustParse("# syntax=docker/dockerfile:1.7\n# escape=`\nFROM x\nRUN echo a `\n  b\n");
  ASSERT_EQ(df.directives.size(), 2u);
  EXPECT_EQ(df.directives[0].name, "syntax");
  EXPECT_EQ(df.directives[0].value, "docker/dockerfile:1.7");
  EXPECT_EQ(df.escape, '`');
  EXPECT_EQ(df.instructions[1].args, "echo a   b");
  // A directive after a comment is just a comment.
  auto late = MustParse("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n");
  EXPECT_EQ(late.escape, '\\');
  EXPECT_TRUE(late.directives.empty());
  EXPECT_EQ(late.instructions[1].args, "a  b");
}

TEST(Parser, ContinuationsCommentsAndEmptyLines) {
  auto df = MustParse(
      "FROM x\n"
      "RUN apt-get update \\\n"
      "# a comment inside\n"
      "    && apt-get install -y a \\\n"
      "\n"
      "    b\n"
      "  # indented comment\n"
      "CMD [\"b\"]\n");
  ASSERT_EQ(df.instructions.size(), 3u);
  EXPECT_EQ(df.instructions[1].args, "apt-get update     && apt-get install -y a     b");
  EXPECT_EQ(df.instructions[1].pos.line, 2);
  EXPECT_EQ(df.instructions[1].end_line, 6);
  ASSERT_EQ(df.empty_continuations.size(), 1u);
  EXPECT_EQ(df.empty_continuations[0].line, 5);
  EXPECT_EQ(df.instructions[2].pos.line, 8);
  // CRLF line endings.
  auto crlf = MustParse("FROM x\r\nRUN a \\\r\n  b\r\n");
  EXPECT_EQ(crlf.instructions[1].args, "a   b");
}

TEST(Parser, Heredocs) {
  auto df = MustParse(
      "FROM x\n"
      "RUN <<EOF\n"
      "apt-get update\n"
      "apt-get install -y curl\n"
      "EOF\n"
      "RUN <<-EOT bash\n"
      "\techo tabs stripped\n"
      "\tEOT\n"
      "COPY <<\"A\" /a.txt <<'B' /b.txt\n"
      "$NOT_EXPANDED\n"
      "A\n"
      "second\n"
      "B\n"
      "RUN python3 <<PY > /out\n"
      "print(1 << 2)\n"
      "PY\n"
      "RUN echo $((1<<2)) <<<here\n"
      "CMD done\n");
  ASSERT_EQ(df.instructions.size(), 7u);
  const auto& r1 = df.instructions[1];
  ASSERT_EQ(r1.heredocs.size(), 1u);
  EXPECT_EQ(r1.heredocs[0].delimiter, "EOF");
  EXPECT_EQ(r1.heredocs[0].body, "apt-get update\napt-get install -y curl\n");
  EXPECT_TRUE(r1.heredocs[0].expand);
  EXPECT_EQ(r1.end_line, 5);
  const auto& r2 = df.instructions[2];
  ASSERT_EQ(r2.heredocs.size(), 1u);
  EXPECT_TRUE(r2.heredocs[0].strip_tabs);
  EXPECT_EQ(r2.heredocs[0].body, "echo tabs stripped\n");
  const auto& c = df.instructions[3];
  ASSERT_EQ(c.heredocs.size(), 2u);
  EXPECT_EQ(c.heredocs[0].delimiter, "A");
  EXPECT_FALSE(c.heredocs[0].expand);
  EXPECT_EQ(c.heredocs[0].body, "$NOT_EXPANDED\n");
  EXPECT_EQ(c.heredocs[1].delimiter, "B");
  EXPECT_EQ(c.heredocs[1].body, "second\n");
  EXPECT_EQ(df.instructions[4].heredocs.size(), 1u);
  EXPECT_EQ(df.instructions[4].heredocs[0].body, "print(1 << 2)\n");
  // Shell arithmetic and here-strings are not heredocs.
  EXPECT_TRUE(df.instructions[5].heredocs.empty());
  EXPECT_EQ(df.instructions[6].kind, Kind::kCmd);
}

// Errors: message fragment, line and column.
struct BadCase {
  std::string text;
  std::string mentions;
  int line;
  int column;
};

TEST(Parser, ErrorsPointAtTheProblem) {
  const BadCase cases[] = {
      {"FROM x\nRUNN make\n", "unknown instruction \"RUNN\" (did you mean RUN?)", 2, 1},
      {"FROM x\nFOO bar\n", "unknown instruction \"FOO\"", 2, 1},
      {"FROM x\nCOPY --chmdo=644 a b\n", "unknown flag --chmdo for COPY", 2, 6},
      {"FROM x\n  RUN --foo make\n", "unknown flag --foo for RUN", 2, 7},
      {"FROM x\nENV --a=b c=d\n", "it takes no flags", 2, 5},
      {"FROM x\nCOPY --from a b\n", "flag --from needs a value", 2, 6},
      {"FROM x\nCOPY --link=maybe a b\n", "takes true or false", 2, 6},
      {"FROM x\nCOPY --from=a --from=b c d\n", "flag --from given twice", 2, 15},
      {"FROM x\nRUN --mount=type=nfs,target=/x a\n", "unsupported mount type \"nfs\"", 2, 5},
      {"FROM x\nRUN --mount=type=tmpfs,target=/t,color=y a\n", "unknown option \"color\"", 2, 5},
      {"FROM x\nRUN --mount=type=cache,target=/c,sharing=bad a\n", "sharing takes", 2, 5},
      {"FROM x\nRUN --network=bridge a\n", "--network takes default, none or host", 2, 5},
      {"FROM x\nRUN --security=low a\n", "--security takes sandbox or insecure", 2, 5},
      {"FROM\n", "FROM needs at least one argument", 1, 1},
      {"FROM a b\n", "FROM takes an image", 1, 8},
      {"FROM a FOR b\n", "expected \"AS\"", 1, 8},
      {"FROM a AS 1st\n", "invalid stage name", 1, 11},
      {"FROM x\nSHELL /bin/sh -c\n", "SHELL needs a JSON array", 2, 7},
      {"FROM x\nUSER a b\n", "USER takes exactly one argument", 2, 8},
      {"FROM x\nSTOPSIGNAL\n", "STOPSIGNAL needs at least one argument", 2, 1},
      {"FROM x\nLABEL onlykey\n", "LABEL needs key=value pairs", 2, 7},
      {"FROM x\nENV A=1 B\n", "ENV expects key=value, found \"B\"", 2, 9},
      {"FROM x\nARG 9lives\n", "invalid ARG name", 2, 5},
      {"FROM x\nHEALTHCHECK --interval=often CMD true\n", "takes a duration", 2, 13},
      {"FROM x\nHEALTHCHECK --retries=x CMD true\n", "takes a whole number", 2, 13},
      {"FROM x\nHEALTHCHECK --retries=3 NONE\n", "NONE takes no flags", 2, 25},
      {"FROM x\nHEALTHCHECK RUN true\n", "expects CMD or NONE", 2, 13},
      {"FROM x\nCOPY onlyone\n", "at least one source and a destination", 2, 6},
      {"FROM x\nADD --checksum=md5:x a b\n", "--checksum takes sha256", 2, 5},
      {"FROM x\nRUN <<EOF\necho\n", "heredoc <<EOF is not terminated", 2, 5},
      {"FROM x\nONBUILD FROM y\n", "not allowed as an ONBUILD trigger", 2, 9},
      {"FROM x\nONBUILD ONBUILD RUN a\n", "cannot be nested", 2, 9},
      {"FROM x\nONBUILD\n", "ONBUILD needs an instruction", 2, 1},
      {"# escape=x\nFROM y\n", "invalid escape directive", 1, 1},
      {"# escape=`\n# escape=\\\nFROM y\n", "given twice", 2, 1},
      {"FROM x\nCMD\n", "CMD needs at least one argument", 2, 1},
      // Words on continuation lines point at their own line and column.
      {"FROM x\nUSER a \\\n  b\n", "USER takes exactly one argument", 3, 3},
      {"FROM x\r\nUSER a \\\r\n b\r\n", "USER takes exactly one argument", 3, 2},
      {"FROM x\nUSER a \\\n# a comment\n\tb\n", "USER takes exactly one argument", 4, 2},
      {"FROM alpine AS \\\n1bad\n", "invalid stage name", 2, 1},
      {"FROM a \\\n  FOR b\n", "expected \"AS\"", 2, 3},
      {"FROM a \\\n b \\\n  c d\n", "FROM takes an image", 2, 2},
      {"FROM x\nENV A=1 \\\n    B\n", "ENV expects key=value, found \"B\"", 3, 5},
      {"FROM x\nLABEL a=1 \\\n  b=2 \\\n  =3\n", "LABEL expects key=value", 4, 3},
      {"FROM x\nARG A \\\n  9lives\n", "invalid ARG name", 3, 3},
      {"FROM x\nSTOPSIGNAL SIGTERM \\\n   SIGKILL\n", "takes exactly one argument", 3, 4},
      {"FROM x\nCOPY --chown=1 \\\n  --chmdo=644 a b\n", "unknown flag --chmdo for COPY", 3, 3},
      {"# escape=`\nFROM x\nUSER a `\n  b\n", "USER takes exactly one argument", 4, 3},
      // After a UTF-8 byte order mark, columns count from the first visible character.
      {"\xEF\xBB\xBF"
       "FROMM x\n",
       "unknown instruction \"FROMM\"", 1, 1},
      {"\xEF\xBB\xBF"
       "FROM a b\n",
       "FROM takes an image", 1, 8},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
    const std::string msg = r.error().message();
    EXPECT_NE(msg.find(c.mentions), std::string::npos) << c.text << "\n" << msg;
    Position p = ErrorPosition(r.error());
    EXPECT_EQ(p.line, c.line) << c.text << "\n" << msg;
    EXPECT_EQ(p.column, c.column) << c.text << "\n" << msg;
    // The excerpt shows the line and a caret.
    EXPECT_NE(msg.find("\n    "), std::string::npos) << msg;
    EXPECT_NE(msg.find('^'), std::string::npos) << msg;
  }
}

// BuildKit continues a line only when its last escape character is not itself escaped (or is
// alone on the line). Each case: Dockerfile, the arguments of every instruction after FROM.
TEST(Parser, LineContinuationLikeBuildKit) {
  const struct {
    std::string text;
    std::vector<std::string> args;
  } cases[] = {
      {"FROM x\nENV C trailing\\\\backslash\\\\\nRUN next\n",
       {"C trailing\\\\backslash\\\\", "next"}},
      {"FROM x\nRUN a \\\n b\n", {"a  b"}},
      {"FROM x\nRUN a \\  \t\n b\n", {"a  b"}},              // blanks after the escape
      {"FROM x\nRUN a \\\\\\\nCMD b\n", {"a \\\\\\", "b"}},  // BuildKit's known limit
      {"FROM x\nRUN a \\\n\\\n b\n", {"a  b"}},              // an escape alone on a line continues
      {"# escape=`\nFROM x\nRUN a ``\nCMD b\n", {"a ``", "b"}},
      {"# escape=`\nFROM x\nRUN a `\n b\n", {"a  b"}},
      {"# escape=`\nFROM x\nRUN dir C:\\\nCMD b\n", {"dir C:\\", "b"}},
  };
  for (const auto& c : cases) {
    auto df = MustParse(c.text);
    std::vector<std::string> got;
    for (std::size_t i = 1; i < df.instructions.size(); ++i) got.push_back(df.instructions[i].args);
    EXPECT_EQ(got, c.args) << c.text;
  }
}

// BuildKit's flag reader: "--" ends the flags, quotes and backslashes are removed from flag
// words, names are case-sensitive.
TEST(Parser, FlagsLikeBuildKit) {
  const struct {
    std::string line;
    std::vector<std::pair<std::string, std::string>> flags;
    std::string args;
  } cases[] = {
      {"COPY -- foo /tmp/", {}, "foo /tmp/"},
      {"COPY --chown=1 -- --odd-name /tmp/", {{"chown", "1"}}, "--odd-name /tmp/"},
      {"COPY --chown=\"a b\" x y", {{"chown", "a b"}}, "x y"},
      {"COPY --chown='1:2' x y", {{"chown", "1:2"}}, "x y"},
      {"COPY --chown=a\\ b x y", {{"chown", "a b"}}, "x y"},
      {"RUN --network=none -- echo hi", {{"network", "none"}}, "echo hi"},
      {"RUN -- --help", {}, "--help"},
  };
  for (const auto& c : cases) {
    auto df = MustParse("FROM x\n" + c.line + "\n");
    ASSERT_EQ(df.instructions.size(), 2u) << c.line;
    const auto& in = df.instructions[1];
    std::vector<std::pair<std::string, std::string>> got;
    for (const auto& f : in.flags) got.emplace_back(f.name, f.value);
    EXPECT_EQ(got, c.flags) << c.line;
    EXPECT_EQ(in.args, c.args) << c.line;
  }
  auto upper = Parse("FROM x\nCOPY --FROM=y a b\n");
  ASSERT_FALSE(upper);
  EXPECT_NE(upper.error().message().find("unknown flag --FROM"), std::string::npos);
  // A flag value's position still points into the file after quote removal.
  auto df = MustParse("FROM x\nCOPY --chown=\"u\" a b\n");
  EXPECT_EQ(df.instructions[1].flags[0].ValuePos(0).column, 15);
}

// Exec form: a JSON array of strings; valid JSON of another shape is an error (BuildKit:
// "arrays must be comprised of strings only"); anything else is shell form.
TEST(Parser, JsonFormLikeBuildKit) {
  const struct {
    std::string line;
    bool error;
    bool json;
    std::vector<std::string> words;
  } cases[] = {
      {"CMD [\"echo\", \"hi\"]", false, true, {"echo", "hi"}},
      {"CMD []", false, true, {}},
      {"CMD [ \"echo\", [ \"nested json\" ] ]", true, false, {}},
      {"ENTRYPOINT [\"a\", 1]", true, false, {}},
      {"RUN [\"a\", null]", true, false, {}},
      {"COPY [\"a\", {\"b\": 1}]", true, false, {}},
      {"VOLUME [true]", true, false, {}},
      {"CMD ['a', 'b']", false, false, {}},                           // not JSON: shell form
      {"CMD [\"a\", \"b\"", false, false, {}},                        // not JSON: shell form
      {"RUN [ \"${X}\" = \"true\" ] && echo yes", false, false, {}},  // test(1)
      {"RUN [ -f /etc/os-release ]", false, false, {}},
  };
  for (const auto& c : cases) {
    auto r = Parse("FROM x\n" + c.line + "\n");
    if (c.error) {
      ASSERT_FALSE(r) << c.line;
      EXPECT_NE(r.error().message().find("array of strings only"), std::string::npos)
          << r.error().message();
      EXPECT_EQ(ErrorPosition(r.error()).line, 2);
      continue;
    }
    ASSERT_TRUE(r) << c.line << ": " << r.error().ToString();
    EXPECT_EQ(r->instructions[1].json_form, c.json) << c.line;
    if (c.json) {
      EXPECT_EQ(r->instructions[1].json_args, c.words) << c.line;
    }
  }
}

// Every heredoc form BuildKit accepts: the name, descriptor, chomping, expansion and body.
TEST(Parser, HeredocFormsLikeBuildKit) {
  const struct {
    std::string text;  // after "FROM x\n"
    std::vector<std::string> names;
    std::vector<bool> expand;
    std::vector<std::string> bodies;
    unsigned fd = 0;
  } cases[] = {
      {"RUN 3<<EOF\nx\nEOF\n", {"EOF"}, {true}, {"x\n"}, 3},
      {"RUN <<eo'f'\n$A\neof\n", {"eof"}, {false}, {"$A\n"}},
      {"RUN <<eo\\'f\n$A\neo'f\n", {"eo'f"}, {true}, {"$A\n"}},
      {"RUN <<'e'o\\'f\n$A\neo'f\n", {"eo'f"}, {false}, {"$A\n"}},
      {"RUN <<'one two'\n$A\none two\n", {"one two"}, {false}, {"$A\n"}},
      {"RUN <<\"EOF\"\n$A\nEOF\n", {"EOF"}, {false}, {"$A\n"}},
      {"RUN <<$EOF\nbody\n$EOF\n", {"$EOF"}, {true}, {"body\n"}},
      {"RUN <<  EOF\nbody\nEOF\n", {"EOF"}, {true}, {"body\n"}},
      {"RUN cat <<  EOF  > foo\nbody\nEOF\n", {"EOF"}, {true}, {"body\n"}},
      {"RUN <<-EOF\n\tbody\n\t\tEOF\n", {"EOF"}, {true}, {"body\n"}},
      {"RUN <<FILE1 cat > file1 && <<FILE2 cat > file2\n1\nFILE1\n2\nFILE2\n",
       {"FILE1", "FILE2"},
       {true, true},
       {"1\n", "2\n"}},
      {"COPY <<A <<'B' /dst/\na\nA\nb\nB\n", {"A", "B"}, {true, false}, {"a\n", "b\n"}},
      {"RUN <<EOF>file\nx\nEOF>file\n", {"EOF>file"}, {true}, {"x\n"}},  // BuildKit's name
      {"RUN cat <<EOF\r\ncrlf\r\nEOF\r\n", {"EOF"}, {true}, {"crlf\r\n"}},
      // Not heredocs.
      {"RUN echo '<<EOF'\n", {}, {}, {}},
      {"RUN echo \"<<EOF\"\n", {}, {}, {}},
      {"RUN [\"<<EOF\"]\n", {}, {}, {}},
      {"RUN echo $((1<<2)) a<<b <<<here\n", {}, {}, {}},
  };
  for (const auto& c : cases) {
    auto df = MustParse("FROM x\n" + c.text + "CMD end\n");
    ASSERT_EQ(df.instructions.size(), 3u) << c.text;
    const auto& in = df.instructions[1];
    std::vector<std::string> names, bodies;
    std::vector<bool> expand;
    for (const auto& h : in.heredocs) {
      names.push_back(h.delimiter);
      expand.push_back(h.expand);
      bodies.push_back(h.body);
    }
    EXPECT_EQ(names, c.names) << c.text;
    EXPECT_EQ(expand, c.expand) << c.text;
    EXPECT_EQ(bodies, c.bodies) << c.text;
    if (!in.heredocs.empty()) {
      EXPECT_EQ(in.heredocs[0].fd, c.fd) << c.text;
    }
  }
  // "<<- EOF" is not a heredoc in BuildKit (the blank after "-" ends the word), so the body
  // lines are instructions.
  auto chomp_space = FindHeredocMarkers("<<- EOF");
  ASSERT_TRUE(chomp_space);
  EXPECT_TRUE(chomp_space->empty());
  // An unterminated quote in the whole line: BuildKit finds no heredoc in it.
  auto open_quote = FindHeredocMarkers("echo \"x <<EOF");
  ASSERT_TRUE(open_quote);
  EXPECT_TRUE(open_quote->empty());
}

// What the shell gets for a RUN with heredocs (BuildKit's dispatchRun).
TEST(Parser, RunCommandLineWithHeredocs) {
  const struct {
    std::string text;
    std::vector<std::string> args;
    std::string script;  // path of a #! file, or empty
    bool shell = true;
  } cases[] = {
      {"RUN echo hi\n", {"echo hi"}, ""},
      {"RUN [\"echo\", \"hi\"]\n", {"echo", "hi"}, "", false},
      {"RUN <<EOF\necho hi\nEOF\n", {"echo hi\n"}, ""},
      {"RUN <<-EOF\n\techo hi\n\tEOF\n", {"echo hi\n"}, ""},
      {"RUN 3<<EOF\necho hi\nEOF\n", {"echo hi\n"}, ""},
      {"RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n", {"/dev/pipes/EOF"}, "/dev/pipes/EOF"},
      {"RUN cat <<EOF >f\nhi\nEOF\n", {"cat <<EOF >f\nhi\nEOF"}, ""},
      {"RUN <<-A cat && <<'B' cat\n\tx $V\nA\ny\nB\n",
       {"<<-A cat && <<'B' cat\n\tx $V\nA\ny\nB"},
       ""},
      {"RUN cat <<EOF\r\ncrlf\r\nEOF\r\n", {"cat <<EOF\ncrlf\r\nEOF"}, ""},
  };
  for (const auto& c : cases) {
    auto df = MustParse("FROM x\n" + c.text);
    ASSERT_EQ(df.instructions.size(), 2u) << c.text;
    RunCommand cmd = RunCommandOf(df.instructions[1]);
    EXPECT_EQ(cmd.args, c.args) << c.text;
    EXPECT_EQ(cmd.prepend_shell, c.shell) << c.text;
    EXPECT_EQ(cmd.script ? cmd.script->path : "", c.script) << c.text;
    if (cmd.script) {
      EXPECT_EQ(cmd.script->content, "#!/usr/bin/env python3\nprint(1)\n");
      EXPECT_EQ(cmd.script->mode, 0755u);
    }
  }
}

// ADD/COPY arguments with a quote that is never closed say so.
TEST(Parser, UnterminatedQuoteInCopy) {
  const BadCase cases[] = {
      {"FROM x\nCOPY \"a b /dst/\n", "unterminated double quote", 2, 6},
      {"FROM x\nADD a 'b /dst/\n", "unterminated single quote", 2, 7},
      {"FROM x\nCOPY --chown=1 a \\\n  \"b /dst/\n", "unterminated double quote", 3, 3},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.text);
    ASSERT_FALSE(r) << c.text;
    const std::string msg = r.error().message();
    EXPECT_NE(msg.find(c.mentions), std::string::npos) << msg;
    EXPECT_EQ(msg.find("needs at least one source"), std::string::npos) << msg;
    Position p = ErrorPosition(r.error());
    EXPECT_EQ(p.line, c.line) << msg;
    EXPECT_EQ(p.column, c.column) << msg;
  }
}

TEST(Parser, ByteOrderMarkIsIgnored) {
  struct Case {
    std::string text;
    std::size_t directives;
    Kind first;
  };
  const Case cases[] = {
      {"\xEF\xBB\xBF"
       "FROM alpine\nRUN true\n",
       0, Kind::kFrom},
      {"\xEF\xBB\xBF# syntax=docker/dockerfile:1\nFROM alpine\n", 1, Kind::kFrom},
      {"\xEF\xBB\xBF# escape=`\nFROM alpine\nRUN a `\n b\n", 1, Kind::kFrom},
      {"\xEF\xBB\xBF"
       "ARG A=1\nFROM alpine\n",
       0, Kind::kArg},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().ToString();
    EXPECT_EQ(r->directives.size(), c.directives) << c.text;
    ASSERT_FALSE(r->instructions.empty());
    EXPECT_EQ(r->instructions[0].kind, c.first) << c.text;
    EXPECT_EQ(r->instructions[0].keyword, KindName(c.first)) << c.text;
    EXPECT_EQ(r->instructions[0].pos.column, 1) << c.text;
  }
  EXPECT_EQ(MustParse("\xEF\xBB\xBF# escape=`\nFROM x\n").escape, '`');
}

TEST(Parser, PositionsOfArgumentsFlagsAndHeredocBodies) {
  auto df = MustParse(
      "FROM x\n"
      "COPY --chown=a \\\n"
      "   --chmod=7${M} src \\\n"
      "# comment\n"
      "  dst\n"
      "COPY <<-EOF <<B /d/\n"
      "\t\tone\n"
      "\t$X\n"
      "\tEOF\n"
      "b $Y\n"
      "B\n");
  const Instruction& copy = df.instructions[1];
  ASSERT_EQ(copy.args, "src   dst");
  ASSERT_EQ(copy.args_where.size(), copy.args.size());
  EXPECT_EQ(copy.ArgPos(0).line, 3);
  EXPECT_EQ(copy.ArgPos(0).column, 18);
  EXPECT_EQ(copy.ArgPos(6).line, 5);  // "dst"
  EXPECT_EQ(copy.ArgPos(6).column, 3);
  ASSERT_EQ(copy.flags.size(), 2u);
  EXPECT_EQ(copy.flags[1].value, "7${M}");
  EXPECT_EQ(copy.flags[1].ValuePos(1).line, 3);  // "$"
  EXPECT_EQ(copy.flags[1].ValuePos(1).column, 13);
  const Instruction& hd = df.instructions[2];
  ASSERT_EQ(hd.heredocs.size(), 2u);
  EXPECT_EQ(hd.heredocs[0].body, "one\n$X\n");
  EXPECT_EQ(hd.heredocs[0].body_line, 7);
  EXPECT_EQ(hd.heredocs[0].BodyPos(4).line, 8);  // "$X", after one stripped tab
  EXPECT_EQ(hd.heredocs[0].BodyPos(4).column, 2);
  EXPECT_EQ(hd.heredocs[1].body_line, 10);
  EXPECT_EQ(hd.heredocs[1].BodyPos(2).line, 10);  // "$Y"
  EXPECT_EQ(hd.heredocs[1].BodyPos(2).column, 3);
  EXPECT_EQ(hd.args.substr(hd.heredocs[0].marker_offset, hd.heredocs[0].marker_size), "<<-EOF");
  EXPECT_EQ(hd.args.substr(hd.heredocs[1].marker_offset, hd.heredocs[1].marker_size), "<<B");
}

TEST(Parser, ErrorNamesTheFile) {
  auto r = Parse("FROM x\nBAD\n", ParseOptions{.filename = "build/Dockerfile.app"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("build/Dockerfile.app:2:1: ", 0), 0u) << r.error().message();
  EXPECT_NE(r.error().message().find("    BAD\n    ^"), std::string::npos) << r.error().message();
}

TEST(Parser, JsonFormFallsBackToShell) {
  auto df = MustParse("FROM x\nCMD ['a', 'b']\nRUN [ \"$X\" = \"true\" ] && echo yes\n");
  EXPECT_FALSE(df.instructions[1].json_form);
  EXPECT_FALSE(df.instructions[2].json_form);
}

TEST(Parser, EmptyFileAndOnlyComments) {
  auto df = MustParse("");
  EXPECT_TRUE(df.instructions.empty());
  df = MustParse("# just a comment\n\n");
  EXPECT_TRUE(df.instructions.empty());
}

}  // namespace
}  // namespace anyarch::dockerfile

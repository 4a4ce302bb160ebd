// ADD's URL helpers: which sources are URLs, the name a download gets, how URLs are shown, and
// HTTP dates. The download itself is tested end to end against a server on 127.0.0.1
// (tests/e2e/test_build_add_url.sh).
#include "build/fetch.h"

#include <gtest/gtest.h>

namespace anyarch::build {
namespace {

TEST(FetchTest, WhatIsAUrl) {
  EXPECT_TRUE(IsUrl("http://127.0.0.1/a"));
  EXPECT_TRUE(IsUrl("git+ssh://host/repo"));
  EXPECT_FALSE(IsUrl("dir/with://in-it"));
  EXPECT_FALSE(IsUrl("://x"));
  EXPECT_FALSE(IsUrl("plain.txt"));
  EXPECT_TRUE(IsHttpUrl("HTTPS://example.invalid/x"));
  EXPECT_FALSE(IsHttpUrl("ftp://example.invalid/x"));
  EXPECT_FALSE(IsHttpUrl("git://example.invalid/x"));
}

TEST(FetchTest, TheNameOfADownloadIsTheLastPathSegment) {
  EXPECT_EQ(UrlFileName("http://h/dir/tool.tar.gz"), "tool.tar.gz");
  EXPECT_EQ(UrlFileName("http://h/dir/tool?x=1#frag"), "tool");
  EXPECT_EQ(UrlFileName("http://h/dir/"), "dir");
  EXPECT_EQ(UrlFileName("http://h"), "__unnamed__");
  EXPECT_EQ(UrlFileName("http://h/"), "__unnamed__");
  EXPECT_EQ(UrlFileName("http://h/.."), "__unnamed__");
}

TEST(FetchTest, ShownUrlsCarryNoCredentialsOrQuery) {
  EXPECT_EQ(ShownUrl("https://user:secret@h:8080/p/f?token=abc"), "https://h:8080/p/f");
  EXPECT_EQ(ShownUrl("http://h/p@x/f"), "http://h/p@x/f");
  EXPECT_EQ(ShownUrl("http://h/f#part"), "http://h/f");
}

TEST(FetchTest, HttpDates) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_FALSE(ParseHttpDate("yesterday"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT trailing"));
  EXPECT_FALSE(ParseHttpDate(""));
}

}  // namespace
}  // namespace anyarch::build

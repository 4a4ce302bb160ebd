#include "registry/config.h"

#include <gtest/gtest.h>

#include "registry/credentials.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "base/fs.h"
#include "base/json.h"
#include "base/strings.h"

namespace anyarch::registry {
namespace {

TEST(RegistriesConfig, ReadsBuildkitTables) {
  auto c = ParseRegistriesConfig(R"(
debug = true
[worker.oci]
  enabled = true
[registry."127.0.0.1:5000"]
  http = true
[registry."reg.internal"]
  insecure = true
  ca = ["/etc/ca1.pem", "/etc/ca2.pem"]
  mirrors = ["https://mirror.internal:5000/", "m2.internal"]
  chunk_size = 5242880
  [[registry."reg.internal".keypair]]
    key = "/etc/client.key"
    cert = "/etc/client.pem"
[registry."index.docker.io"]
  mirrors = ["hub-mirror.internal"]
  unknown_key = 1
)",
                                 "config.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  const HostConfig* local = c->Find("127.0.0.1:5000");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->http, true);
  const HostConfig* internal = c->Find("reg.internal");
  ASSERT_NE(internal, nullptr);
  EXPECT_EQ(internal->insecure, true);
  EXPECT_EQ(internal->ca, (std::vector<std::string>{"/etc/ca1.pem", "/etc/ca2.pem"}));
  EXPECT_EQ(internal->mirrors, (std::vector<std::string>{"mirror.internal:5000", "m2.internal"}));
  EXPECT_EQ(internal->chunk_size, 5242880u);
  ASSERT_EQ(internal->keypairs.size(), 1u);
  EXPECT_EQ(internal->keypairs[0].first, "/etc/client.pem");
  // Docker Hub's aliases share one table.
  ASSERT_NE(c->Find("docker.io"), nullptr);
  EXPECT_EQ(c->Find("registry-1.docker.io")->mirrors,
            (std::vector<std::string>{"hub-mirror.internal"}));
  EXPECT_EQ(c->Find("other.example"), nullptr);
  // buildkitd.toml's other sections and unknown keys are ignored, with a warning each.
  ASSERT_EQ(c->warnings.size(), 3u);
  EXPECT_NE(Join(c->warnings, "\n").find("unknown_key"), std::string::npos);
}

TEST(RegistriesConfig, ErrorsSayWhereAndWhat) {
  struct Case {
    std::string text, want;
  } cases[] = {
      {"[registry.\"a\"]\nhttp = yes\n", "config.toml:2:"},
      {"[registry.\"a\"]\nhttp = \"true\"\n", "http must be true or false"},
      {"[registry.\"a\"]\nmirrors = [1]\n", "mirrors must be an array of strings"},
      {"[registry.\"a\"]\nchunk_size = -1\n", "chunk_size must be a number of bytes"},
      {"[registry.\"a\"]\n[[registry.\"a\".keypair]]\nkey = \"k\"\n", "cert = "},
      {"registry = 3\n", "must hold [registry.\"host\"] tables"},
  };
  for (const auto& c : cases) {
    auto r = ParseRegistriesConfig(c.text, "config.toml");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
    EXPECT_NE(r.error().ToString().find(c.want), std::string::npos)
        << r.error().ToString() << " / want " << c.want;
  }
}

TEST(RegistriesConfig, AMissingFileIsEmpty) {
  auto c = LoadRegistriesConfig("/nonexistent/anyarch/config.toml");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->hosts.empty());
}

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("anyarch-creds-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "bin");
    path_ = (dir_ / "config.json").string();
    old_path_ = std::getenv("PATH") ? std::getenv("PATH") : "";
    ::setenv("PATH", ((dir_ / "bin").string() + ":" + old_path_).c_str(), 1);
  }
  void TearDown() override {
    ::setenv("PATH", old_path_.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }
  // A docker-credential-NAME helper that answers `get` for one server with fixed credentials and
  // records store/erase requests in a file.
  void Helper(const std::string& name, const std::string& server, const std::string& user,
              const std::string& secret) {
    std::string script =
        "#!/bin/sh\n"
        "read -r input\n"
        "case \"$1\" in\n"
        "get) if [ \"$input\" = \"" +
        server +
        "\" ]; then\n"
        "  printf '{\"ServerURL\":\"%s\",\"Username\":\"" +
        user + "\",\"Secret\":\"" + secret +
        "\"}' \"$input\"\n"
        "else echo 'credentials not found in native keychain'; exit 1; fi;;\n"
        "store|erase) echo \"$1 $input\" >> " +
        (dir_ / "helper.log").string() +
        ";;\n"
        "esac\n";
    auto p = dir_ / "bin" / ("docker-credential-" + name);
    ASSERT_TRUE(WriteFileAtomic(p, script, 0755));
  }
  std::filesystem::path dir_;
  std::string path_, old_path_;
};

TEST_F(CredentialsTest, ReadsEveryAuthsForm) {
  ASSERT_TRUE(WriteFileAtomic(path_, R"({"auths": {
        "https://index.docker.io/v1/": {"auth": ")" +
                                         Base64Encode("hubuser:hubpass") + R"("},
        "reg.example:5000": {"username": "u2", "password": "p2"},
        "https://tok.example/v2/": {"auth": "", "identitytoken": "refresh-123"},
        "bad.example": {"auth": "!!!"}
      }, "other": {"kept": true}})"));
  CredentialStore store(path_);
  auto hub = store.Get("docker.io");
  ASSERT_TRUE(hub && *hub);
  EXPECT_EQ((*hub)->username, "hubuser");
  EXPECT_EQ((*hub)->secret, "hubpass");
  auto r2 = store.Get("reg.example:5000");
  ASSERT_TRUE(r2 && *r2);
  EXPECT_EQ((*r2)->secret, "p2");
  auto tok = store.Get("tok.example");
  ASSERT_TRUE(tok && *tok);
  EXPECT_TRUE((*tok)->IsIdentityToken());
  EXPECT_EQ((*tok)->secret, "refresh-123");
  auto none = store.Get("nothing.example");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto bad = store.Get("bad.example");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().ToString().find("!!!"), std::string::npos);
}

TEST_F(CredentialsTest, HelpersComeFirst) {
  Helper("perhost", "reg.example:5000", "helper-user", "helper-secret");
  Helper("store", "https://index.docker.io/v1/", "hub-helper", "hub-secret");
  ASSERT_TRUE(WriteFileAtomic(path_, R"({"credHelpers": {"reg.example:5000": "perhost"},
      "credsStore": "store",
      "auths": {"fallback.example": {"auth": ")" +
                                         Base64Encode("fb:fbpass") + R"("}}})"));
  CredentialStore store(path_);
  auto a = store.Get("reg.example:5000");
  ASSERT_TRUE(a && *a) << (a ? "none" : a.error().ToString());
  EXPECT_EQ((*a)->username, "helper-user");
  auto hub = store.Get("docker.io");
  ASSERT_TRUE(hub && *hub);
  EXPECT_EQ((*hub)->secret, "hub-secret");
  // Not in the store helper: falls back to auths.
  auto fb = store.Get("fallback.example");
  ASSERT_TRUE(fb && *fb);
  EXPECT_EQ((*fb)->secret, "fbpass");
  // Store and erase go through the helper, and config.json is left alone.
  auto where = store.Store("reg.example:5000", {"u", "new-secret"});
  ASSERT_TRUE(where) << where.error().ToString();
  EXPECT_NE(where->find("docker-credential-perhost"), std::string::npos);
  ASSERT_TRUE(store.Erase("reg.example:5000"));
  auto log = ReadFile(dir_ / "helper.log");
  ASSERT_TRUE(log);
  EXPECT_NE(log->find("store {"), std::string::npos) << *log;
  EXPECT_NE(log->find("\"ServerURL\":\"reg.example:5000\""), std::string::npos) << *log;
  EXPECT_NE(log->find("erase reg.example:5000"), std::string::npos) << *log;
  EXPECT_EQ(ReadFile(path_)->find("new-secret"), std::string::npos);
}

TEST_F(CredentialsTest, AMissingHelperIsAClearError) {
  ASSERT_TRUE(WriteFileAtomic(path_, R"({"credsStore": "does-not-exist"})"));
  auto r = CredentialStore(path_).Get("reg.example");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("docker-credential-does-not-exist"), std::string::npos);
}

TEST_F(CredentialsTest, StoreKeepsOtherKeysAndIsPrivate) {
  ASSERT_TRUE(WriteFileAtomic(path_, R"({"auths": {"a.example": {"auth": "eDp5"}},
      "psFormat": "table {{.ID}}"})"));
  CredentialStore store(path_);
  ASSERT_TRUE(store.Store("b.example:5000", {"bob", "pw"}));
  ASSERT_TRUE(store.Store("docker.io", {"hub", "hubpw"}));
  auto j = ParseJson(*ReadFile(path_), "config");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["psFormat"], "table {{.ID}}");
  EXPECT_EQ((*j)["auths"]["a.example"]["auth"], "eDp5");
  EXPECT_EQ((*j)["auths"]["b.example:5000"]["auth"], Base64Encode("bob:pw"));
  EXPECT_EQ((*j)["auths"]["https://index.docker.io/v1/"]["auth"], Base64Encode("hub:hubpw"));
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(*store.Erase("b.example:5000"));
  EXPECT_FALSE(*store.Erase("b.example:5000"));
  auto gone = store.Get("b.example:5000");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

}  // namespace
}  // namespace anyarch::registry

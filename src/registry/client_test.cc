#include "registry/client.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/io.h"
#include "image/manifest.h"
#include "support/fake_registry.h"

namespace anyarch::registry {
namespace {

using testing::FakeRegistry;
using testing::Fault;

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";

// A session against one fake registry, with sleeps recorded instead of slept.
struct Fixture {
  explicit Fixture(const std::string& host = "reg.example", const std::string& scheme = "https")
      : host(host), fake(std::make_shared<FakeRegistry>(scheme + "://" + host)) {}

  std::shared_ptr<Session> NewSessionWith(ClientOptions o = {}) {
    o.transport = fake;
    o.sleep = [this](std::chrono::milliseconds d) { slept.push_back(d.count()); };
    o.clock = [this] { return now; };
    o.reporter = &warnings;
    auto s = NewSession(std::move(o));
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return *s;
  }
  std::shared_ptr<Registry> Reg(ClientOptions o = {}) {
    auto r = NewSessionWith(std::move(o))->Get(host);
    EXPECT_TRUE(r.has_value());
    return *r;
  }

  struct Warnings final : Reporter {
    std::vector<std::string> lines;
    void Progress(const ProgressEvent&) override {}
    void Warn(const std::string& m) override { lines.push_back(m); }
  } warnings;

  std::string host;
  std::shared_ptr<FakeRegistry> fake;
  std::vector<long> slept;
  std::chrono::steady_clock::time_point now{};
};

std::string ManifestFor(const std::string& config, const std::string& layer) {
  return std::string("{\"schemaVersion\":2,\"mediaType\":\"") + kOciManifest +
         "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" +
         Sha256Of(config).ToString() + "\",\"size\":" + std::to_string(config.size()) +
         "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" +
         Sha256Of(layer).ToString() + "\",\"size\":" + std::to_string(layer.size()) + "}]}";
}

image::Descriptor BlobDesc(const std::string& bytes) {
  image::Descriptor d;
  d.media_type = "application/octet-stream";
  d.digest = Sha256Of(bytes);
  d.size = static_cast<std::int64_t>(bytes.size());
  return d;
}

Result<std::string> ReadBlob(Registry& r, const std::string& repo, const std::string& bytes) {
  ANYARCH_TRY(auto reader, r.OpenBlob(repo, BlobDesc(bytes)));
  return ReadAll(*reader);
}

TEST(Client, GetsManifestsByTagAndDigestAndChecksThem) {
  Fixture f;
  std::string m = ManifestFor("cfg", "layer");
  f.fake->AddManifest("app", "1", kOciManifest, m);
  auto reg = f.Reg();
  auto got = reg->GetManifest("app", "1", std::nullopt);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->bytes, m);
  EXPECT_EQ(got->digest, Sha256Of(m));
  EXPECT_EQ(got->media_type, kOciManifest);
  auto by_digest = reg->GetManifest("app", Sha256Of(m).ToString(), Sha256Of(m));
  ASSERT_TRUE(by_digest);
  // The Accept header lists the four manifest and index types.
  std::string accept = f.fake->requests.back().Header("Accept");
  EXPECT_NE(accept.find("application/vnd.oci.image.index.v1+json"), std::string::npos);
  EXPECT_NE(accept.find("application/vnd.docker.distribution.manifest.list.v2+json"),
            std::string::npos);
  auto missing = reg->GetManifest("app", "2", std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().ToString().find("MANIFEST_UNKNOWN"), std::string::npos);
}

TEST(Client, RefusesAManifestWithTheWrongDigest) {
  Fixture f;
  std::string m = ManifestFor("cfg", "layer");
  f.fake->AddManifest("app", "1", kOciManifest, m);
  f.fake->faults.push_back(Fault{.path = "/manifests/", .status = 0, .tamper = true});
  auto got = f.Reg()->GetManifest("app", Sha256Of(m).ToString(), Sha256Of(m));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kDigestMismatch);
  EXPECT_NE(got.error().ToString().find(Sha256Of(m).ToString()), std::string::npos);
}

TEST(Client, RefusesManifestsOverFourMiB) {
  Fixture f;
  std::string big = ManifestFor("cfg", "layer");
  big.insert(big.size() - 1, std::string(4 * 1024 * 1024, ' '));
  f.fake->AddManifest("app", "big", kOciManifest, big);
  auto got = f.Reg()->GetManifest("app", "big", std::nullopt);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(got.error().ToString().find("4 MiB"), std::string::npos) << got.error().ToString();
}

TEST(Client, RetriesBusyAnswersHonouringRetryAfter) {
  Fixture f;
  f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  f.fake->faults.push_back(
      Fault{.path = "/manifests/", .left = 2, .status = 503, .retry_after = "3"});
  f.fake->faults.push_back(
      Fault{.path = "/manifests/", .left = 1, .status = 429, .retry_after = ""});
  auto got = f.Reg()->GetManifest("app", "1", std::nullopt);
  ASSERT_TRUE(got) << got.error().ToString();
  // Retry-After 3 s wins over the first backoffs; then 1 s (the doubled backoff) for the 429.
  ASSERT_EQ(f.slept.size(), 3u);
  EXPECT_EQ(f.slept[0], 3000);
  EXPECT_EQ(f.slept[1], 3000);
  EXPECT_EQ(f.slept[2], 1000);
  EXPECT_EQ(f.warnings.lines.size(), 3u);
}

TEST(Client, GivesUpAfterMaxAttempts) {
  Fixture f;
  f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  f.fake->faults.push_back(Fault{.path = "/manifests/", .left = 100, .status = 500});
  auto got = f.Reg({.max_attempts = 3})->GetManifest("app", "1", std::nullopt);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(f.fake->Count("GET", "/manifests/"), 3u);
}

TEST(Client, BlobsAreVerifiedAndResumeAfterADrop) {
  Fixture f;
  std::string blob(300000, 'x');
  for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 7);
  f.fake->AddBlob("app", blob);
  f.fake->faults.push_back(
      Fault{.method = "GET", .path = "/blobs/sha256", .status = 0, .drop_half = true});
  auto reg = f.Reg();
  auto got = ReadBlob(*reg, "app", blob);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, blob);
  // The second GET asked for the rest only.
  ASSERT_EQ(f.fake->Count("GET", "/blobs/sha256"), 2u);
  EXPECT_EQ(f.fake->requests.back().Header("Range"), "bytes=150000-");
}

TEST(Client, ResumeWithoutRangeSupportSkipsWhatItHas) {
  Fixture f;
  f.fake->range_support = false;
  std::string blob(100000, 'y');
  blob[5] = 'z';
  f.fake->AddBlob("app", blob);
  f.fake->faults.push_back(
      Fault{.method = "GET", .path = "/blobs/sha256", .status = 0, .drop_half = true});
  auto got = ReadBlob(*f.Reg(), "app", blob);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, blob);
}

TEST(Client, ATamperedBlobFailsNamingBothDigests) {
  Fixture f;
  std::string blob = "the real content of a layer";
  f.fake->AddBlob("app", blob);
  f.fake->faults.push_back(
      Fault{.method = "GET", .path = "/blobs/sha256", .status = 0, .tamper = true});
  auto got = ReadBlob(*f.Reg(), "app", blob);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kDigestMismatch);
  std::string msg = got.error().ToString();
  EXPECT_NE(msg.find("expected " + Sha256Of(blob).ToString()), std::string::npos) << msg;
  std::string tampered = blob;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_NE(msg.find("content has digest " + Sha256Of(tampered).ToString()), std::string::npos)
      << msg;
}

TEST(Client, MissingBlobIsNotFound) {
  Fixture f;
  auto got = ReadBlob(*f.Reg(), "app", "nothing here");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kNotFound);
}

TEST(Client, PushesBlobsInOneRequestOrInChunks) {
  Fixture f;
  auto reg = f.Reg();
  std::string blob(10000, 'a');
  StringReader r1(blob);
  ASSERT_TRUE(reg->PushBlob("app", BlobDesc(blob), r1));
  EXPECT_EQ(f.fake->Count("PUT", "/blobs/uploads/"), 1u);
  EXPECT_EQ(f.fake->Count("PATCH", "/blobs/uploads/"), 0u);
  EXPECT_TRUE(f.fake->repo_blobs["app"].count(Sha256Of(blob).ToString()));

  Fixture g;
  auto chunked = g.Reg({.chunk_size = 4096});
  std::string blob2(10000, 'b');
  blob2[9999] = 'c';
  StringReader r2(blob2);
  auto st = chunked->PushBlob("app", BlobDesc(blob2), r2);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(g.fake->Count("PATCH", "/blobs/uploads/"), 3u);
  EXPECT_EQ(g.fake->blobs[Sha256Of(blob2).ToString()], blob2);
  // Content-Range of the chunks: 0-4095, 4096-8191, 8192-9999.
  std::vector<std::string> ranges;
  for (const auto& rq : g.fake->requests) {
    if (rq.method == "PATCH") ranges.push_back(rq.Header("Content-Range"));
  }
  EXPECT_EQ(ranges, (std::vector<std::string>{"0-4095", "4096-8191", "8192-9999"}));
}

TEST(Client, AChunkThatFailsIsSentAgainAfterAskingTheRegistry) {
  Fixture f;
  auto reg = f.Reg({.chunk_size = 4096});
  f.fake->faults.push_back(Fault{.method = "PATCH", .path = "/blobs/uploads/", .status = 503});
  std::string blob(9000, 'q');
  StringReader r(blob);
  auto st = reg->PushBlob("app", BlobDesc(blob), r);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(f.fake->Count("GET", "/blobs/uploads/"), 1u);  // the status query
  EXPECT_EQ(f.fake->blobs[Sha256Of(blob).ToString()], blob);
}

TEST(Client, AnUploadWhoseSourceLiesNeverCompletes) {
  Fixture f;
  auto reg = f.Reg();
  std::string blob = "what the descriptor promises";
  std::string other = "what the source really has!!";
  ASSERT_EQ(blob.size(), other.size());
  auto bad = std::make_unique<StringReader>(other);
  VerifyingReader verifying(std::move(bad), Sha256Of(blob), static_cast<std::int64_t>(blob.size()),
                            "blob");
  auto st = reg->PushBlob("app", BlobDesc(blob), verifying);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDigestMismatch);
  EXPECT_TRUE(f.fake->repo_blobs["app"].empty());
}

TEST(Client, MountsWithinTheRegistry) {
  Fixture f;
  f.fake->AddBlob("src", "shared layer");
  auto reg = f.Reg();
  auto mounted = reg->MountBlob("dst", BlobDesc("shared layer"), "src");
  ASSERT_TRUE(mounted);
  EXPECT_TRUE(*mounted);
  auto not_there = reg->MountBlob("dst", BlobDesc("absent"), "src");
  ASSERT_TRUE(not_there);
  EXPECT_FALSE(*not_there);
  // The upload session the registry opened instead was closed.
  EXPECT_TRUE(f.fake->uploads.empty());
  EXPECT_TRUE(*reg->HasBlob("dst", BlobDesc("shared layer")));
  EXPECT_FALSE(*reg->HasBlob("dst", BlobDesc("absent")));
}

TEST(Client, PutsManifestsAndChecksTheDigestTheRegistryReports) {
  Fixture f;
  auto reg = f.Reg();
  auto raw = image::MakeRawManifest(ManifestFor("c", "l"), kOciManifest);
  ASSERT_TRUE(raw);
  ASSERT_TRUE(reg->PutManifest("app", "v1", *raw));
  EXPECT_EQ(f.fake->requests.back().Header("Content-Type"), kOciManifest);
  EXPECT_EQ(f.fake->manifests["app@v1"].second, raw->bytes);
}

TEST(Client, ListsTagsAcrossLinkPages) {
  Fixture f;
  f.fake->tags_page = 2;
  for (const char* t : {"a", "b", "c", "d", "e"})
    f.fake->AddManifest("app", t, kOciManifest, ManifestFor(t, "l"));
  auto tags = f.Reg()->ListTags("app");
  ASSERT_TRUE(tags) << tags.error().ToString();
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(f.fake->Count("GET", "/tags/list"), 3u);
}

TEST(Client, BearerTokensAreFetchedPerScopeAndReused) {
  Fixture f;
  f.fake->auth = "bearer";
  f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  f.fake->AddBlob("app", "blob");
  auto reg = f.Reg({.credential = Credential{"alice", "s3cret-pw"}});
  ASSERT_TRUE(reg->GetManifest("app", "1", std::nullopt));
  ASSERT_TRUE(ReadBlob(*reg, "app", "blob"));
  EXPECT_EQ(f.fake->tokens_issued, 1);  // pull scope reused
  EXPECT_EQ(f.fake->token_scopes, (std::vector<std::string>{"repository:app:pull"}));
  std::string blob = "pushed";
  StringReader r(blob);
  ASSERT_TRUE(reg->PushBlob("app", BlobDesc(blob), r));
  EXPECT_EQ(f.fake->tokens_issued, 2);  // push scope is a new token
  // A cross-repository mount asks for pull on the source as well.
  ASSERT_TRUE(reg->MountBlob("other", BlobDesc("blob"), "app"));
  ASSERT_EQ(f.fake->token_scopes.size(), 4u);
  EXPECT_EQ(f.fake->token_scopes[2], "repository:other:pull,push");
  EXPECT_EQ(f.fake->token_scopes[3], "repository:app:pull");
  // The token request carried the credentials; no request URL carries the password.
  for (const auto& rq : f.fake->requests) {
    EXPECT_EQ(rq.url.find("s3cret-pw"), std::string::npos);
  }
}

TEST(Client, IdentityTokensUseTheOAuth2RefreshGrant) {
  Fixture f;
  f.fake->auth = "bearer";
  f.fake->password = "refresh-token-123";
  f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  auto got = f.Reg({.credential = Credential{"<token>", "refresh-token-123"}})
                 ->GetManifest("app", "1", std::nullopt);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(f.fake->Count("POST", "/token"), 1u);
  EXPECT_EQ(f.fake->Count("GET", "/token"), 0u);
  EXPECT_EQ(f.fake->token_scopes, (std::vector<std::string>{"repository:app:pull"}));
  // The refresh token travels in the POST body, never in a URL or a header we log.
  for (const auto& rq : f.fake->requests)
    EXPECT_EQ(rq.url.find("refresh-token-123"), std::string::npos);
  Fixture g;
  g.fake->auth = "bearer";
  g.fake->password = "refresh-token-123";
  g.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  auto bad = g.Reg({.credential = Credential{"<token>", "expired"}})
                 ->GetManifest("app", "1", std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kUnauthorized);
  EXPECT_EQ(bad.error().ToString().find("expired"), std::string::npos);
}

TEST(Client, TokensAreRenewedBeforeTheyExpire) {
  Fixture f;
  f.fake->auth = "bearer";
  f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  auto reg = f.Reg({.credential = Credential{"alice", "s3cret-pw"}});
  ASSERT_TRUE(reg->GetManifest("app", "1", std::nullopt));
  f.now += std::chrono::seconds(200);
  ASSERT_TRUE(reg->GetManifest("app", "1", std::nullopt));
  EXPECT_EQ(f.fake->tokens_issued, 1);
  f.now += std::chrono::seconds(100);  // 300 s token, renewed from 270 s on
  ASSERT_TRUE(reg->GetManifest("app", "1", std::nullopt));
  EXPECT_EQ(f.fake->tokens_issued, 2);
}

TEST(Client, AWrongPasswordNamesTheRegistryButNotThePassword) {
  for (const char* mode : {"bearer", "basic"}) {
    Fixture f;
    f.fake->auth = mode;
    f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
    auto got = f.Reg({.credential = Credential{"alice", "wrong-horse"}})
                   ->GetManifest("app", "1", std::nullopt);
    ASSERT_FALSE(got) << mode;
    EXPECT_EQ(got.error().code(), ErrorCode::kUnauthorized) << mode;
    std::string msg = got.error().ToString();
    EXPECT_NE(msg.find("reg.example"), std::string::npos) << msg;
    EXPECT_NE(msg.find("anyarch login"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("wrong-horse"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(Base64Encode("alice:wrong-horse")), std::string::npos) << msg;
  }
}

TEST(Client, BasicAuthWithoutCredentialsSaysHowToLogIn) {
  Fixture f;
  f.fake->auth = "basic";
  f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  // An empty docker config: no credentials at all.
  auto got =
      f.Reg({.docker_config = "/nonexistent/config.json"})->GetManifest("app", "1", std::nullopt);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kUnauthorized);
  EXPECT_NE(got.error().ToString().find("anyarch login reg.example"), std::string::npos);
  Fixture g;
  g.fake->auth = "basic";
  g.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  auto ok = g.Reg({.credential = Credential{"alice", "s3cret-pw"}})
                ->GetManifest("app", "1", std::nullopt);
  ASSERT_TRUE(ok) << ok.error().ToString();
}

TEST(Client, LoopbackRegistriesMaySpeakPlainHttp) {
  Fixture f("127.0.0.1:5000", "http");
  f.fake->https_fails = true;
  f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  auto got = f.Reg()->GetManifest("app", "1", std::nullopt);
  ASSERT_TRUE(got) << got.error().ToString();
  // Other hosts do not fall back: the error says how to allow plain HTTP.
  Fixture g("reg.internal:5000", "http");
  g.fake->https_fails = true;
  auto bad = g.Reg()->GetManifest("app", "1", std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find("http = true"), std::string::npos)
      << bad.error().ToString();
  EXPECT_NE(bad.error().ToString().find("--insecure"), std::string::npos);
  // ... unless --insecure is given, which also turns certificate checks off.
  Fixture h("reg.internal:5000", "http");
  h.fake->https_fails = true;
  h.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  ASSERT_TRUE(h.Reg({.insecure = true})->GetManifest("app", "1", std::nullopt));
  EXPECT_FALSE(h.fake->requests.back().verify_tls);
}

TEST(Client, ConfigSaysPlainHttpAndCas) {
  Fixture f("reg.internal:5000", "http");
  f.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  std::string path = ::testing::TempDir() + "/anyarch-registries.toml";
  ASSERT_TRUE(WriteFileAtomic(path, "[registry.\"reg.internal:5000\"]\nhttp = true\n"));
  ASSERT_TRUE(f.Reg({.config_path = path})->GetManifest("app", "1", std::nullopt));
  EXPECT_EQ(f.fake->Count("GET", "^/v2/$"), 0u);  // no probe: the config said http

  Fixture g("reg.internal:5443", "https");
  g.fake->AddManifest("app", "1", kOciManifest, ManifestFor("c", "l"));
  ASSERT_TRUE(
      WriteFileAtomic(path, "[registry.\"reg.internal:5443\"]\nca = [\"/etc/my-ca.pem\"]\n"));
  ASSERT_TRUE(g.Reg({.config_path = path})->GetManifest("app", "1", std::nullopt));
  EXPECT_TRUE(g.fake->requests.back().verify_tls);
}

TEST(Client, MirrorsAreTriedFirstForPulls) {
  // One fake answers both hosts: the mirror lacks the manifest, so the registry serves it.
  auto fake = std::make_shared<FakeRegistry>("https://mirror.example");
  std::string m = ManifestFor("c", "l");
  fake->AddManifest("library/busybox", "1", kOciManifest, ManifestFor("other", "l"));
  fake->AddBlob("library/busybox", "blob-from-mirror");
  std::string path = ::testing::TempDir() + "/anyarch-mirrors.toml";
  ASSERT_TRUE(WriteFileAtomic(path, "[registry.\"docker.io\"]\nmirrors = [\"mirror.example\"]\n"));
  std::vector<long> slept;
  auto s = NewSession({.config_path = path,
                       .transport = fake,
                       .sleep = [&](std::chrono::milliseconds d) { slept.push_back(d.count()); }});
  ASSERT_TRUE(s);
  auto reg = (*s)->Get("docker.io");
  ASSERT_TRUE(reg);
  auto got = (*reg)->GetManifest("library/busybox", "1", std::nullopt);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->bytes, ManifestFor("other", "l"));
  auto blob = ReadBlob(**reg, "library/busybox", "blob-from-mirror");
  ASSERT_TRUE(blob) << blob.error().ToString();
  // Not on the mirror: falls back to registry-1.docker.io, which this fake does not answer.
  auto miss = (*reg)->GetManifest("library/busybox", "2", std::nullopt);
  ASSERT_FALSE(miss);
  EXPECT_NE(miss.error().ToString().find("docker.io"), std::string::npos);
  bool asked_upstream = false;
  for (const auto& r : fake->requests) {
    asked_upstream = asked_upstream || r.url.find("registry-1.docker.io") != std::string::npos;
  }
  EXPECT_TRUE(asked_upstream);
}

TEST(Client, ImageSinkMountsFromTheSameRegistryOnly) {
  Fixture f;
  f.fake->AddBlob("src", "layer");
  auto s = f.NewSessionWith();
  auto sink = OpenSink(s, *ref::Parse("reg.example/dst:1"));
  ASSERT_TRUE(sink);
  EXPECT_TRUE(*(*sink)->MountBlob(BlobDesc("layer"), "reg.example", "src"));
  EXPECT_FALSE(*(*sink)->MountBlob(BlobDesc("layer"), "other.example", "src"));
}

}  // namespace
}  // namespace anyarch::registry

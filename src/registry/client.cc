#include "registry/client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "base/fs.h"
#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "image/manifest.h"
#include "image/media_types.h"

namespace anyarch::registry {

namespace fs = std::filesystem;

bool IsLoopback(const std::string& r) {
  std::string host = r;
  if (!host.empty() && host[0] == '[')
    host = host.substr(1, host.find(']') - 1);
  else
    host = host.substr(0, host.find(':'));
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

namespace {

const char* kAccept =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;                            // when not streamed to a file
  CURLcode curl = CURLE_OK;
  std::string curl_error;
};

struct Sink {
  std::string* body = nullptr;
  std::size_t limit = 0;
  AtomicFile* file = nullptr;
  Sha256* hash = nullptr;
  std::uint64_t written = 0;
  bool overflow = false;
  Status write_status = Ok();
};

std::size_t WriteCb(char* ptr, std::size_t size, std::size_t n, void* ud) {
  auto* s = static_cast<Sink*>(ud);
  std::size_t len = size * n;
  if (s->file) {
    if (s->hash) s->hash->Update(ptr, len);
    s->write_status = s->file->Write(ptr, len);
    if (!s->write_status) return 0;
  } else if (s->body) {
    if (s->body->size() + len > s->limit) {
      s->overflow = true;
      return 0;
    }
    s->body->append(ptr, len);
  }
  s->written += len;
  return len;
}

std::size_t ReadCb(char* buf, std::size_t size, std::size_t n, void* ud) {
  auto* r = static_cast<Reader*>(ud);
  auto got = r->Read(buf, size * n);
  if (!got) return CURL_READFUNC_ABORT;
  return *got;
}

std::size_t HeaderCb(char* ptr, std::size_t size, std::size_t n, void* ud) {
  auto* h = static_cast<std::map<std::string, std::string>*>(ud);
  std::string line(ptr, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    (*h)[ToLower(TrimSpace(line.substr(0, colon)))] =
        std::string(TrimSpace(line.substr(colon + 1)));
  } else if (line.rfind("HTTP/", 0) == 0) {
    h->clear();  // a new response (after a redirect)
  }
  return size * n;
}

// "Bearer realm="x",service="y",scope="z"" -> {scheme, params}
std::pair<std::string, std::map<std::string, std::string>> ParseChallenge(const std::string& h) {
  std::map<std::string, std::string> params;
  auto sp = h.find(' ');
  std::string scheme = ToLower(h.substr(0, sp));
  std::string rest = sp == std::string::npos ? "" : h.substr(sp + 1);
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',')) ++i;
    auto eq = rest.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = ToLower(std::string(TrimSpace(rest.substr(i, eq - i))));
    i = eq + 1;
    std::string value;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      while (i < rest.size() && rest[i] != '"') {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i++]);
      }
      ++i;
    } else {
      while (i < rest.size() && rest[i] != ',') value.push_back(rest[i++]);
    }
    params[key] = value;
  }
  return {scheme, params};
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

class RemoteSource final : public image::ImageSource {
 public:
  RemoteSource(ref::Reference ref, ClientOptions opt) : ref_(std::move(ref)), opt_(std::move(opt)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    LoadCredentials();
  }

  std::string Describe() const override { return ref_.ToString(); }

  Result<image::RawManifest> GetRootManifest() override {
    auto raw = FetchManifest(ref_.Identifier(), ref_.digest);
    if (!raw) return Unexpected(std::move(raw.error()).With(ref_.ToString()));
    return raw;
  }

  Result<image::RawManifest> GetManifest(const image::Descriptor& desc) override {
    if (desc.size > static_cast<std::int64_t>(image::kMaxManifestSize)) {
      return MakeError(ErrorCode::kInvalid,
                       "manifest " + desc.digest.ToString() + " is over the 4 MiB limit");
    }
    return FetchManifest(desc.digest.ToString(), desc.digest);
  }

  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& desc) override {
    std::string dir = opt_.temp_dir.empty()
                          ? (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp")
                          : opt_.temp_dir;
    fs::path path = fs::path(dir) / (".anyarch-blob-" + desc.digest.hex() + "-" +
                                     std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    Status last = Ok();
    if (auth_header_.empty()) {
      // Authenticate with a HEAD first, so the download itself never hits a 401.
      ANYARCH_TRY(Response h,
                  Request("/blobs/" + desc.digest.ToString(), nullptr, "", /*head=*/true));
      if (h.status == 404) return Unexpected(Failure(h, "blob " + desc.digest.ToString()).error());
    }
    for (int attempt = 1; attempt <= opt_.max_attempts; ++attempt) {
      ANYARCH_TRY(AtomicFile f, AtomicFile::Create(path, 0600));
      Sha256 hash;
      Sink sink{.file = &f, .hash = &hash};
      auto resp = Request("/blobs/" + desc.digest.ToString(), &sink, "");
      if (!resp) return Unexpected(resp.error());
      if (resp->status == 200 && resp->curl == CURLE_OK) {
        Digest got = hash.Finish();
        if (got != desc.digest || sink.written != static_cast<std::uint64_t>(desc.size)) {
          return MakeError(ErrorCode::kDigestMismatch,
                           "blob " + desc.digest.ToString() + " from " + ref_.registry +
                               ": content has digest " + got.ToString() + " (" +
                               std::to_string(sink.written) + " bytes), expected " +
                               desc.digest.ToString() + " (" + std::to_string(desc.size) +
                               " bytes)");
        }
        ANYARCH_CHECK(f.Commit());
        auto fr = FileReader::Open(path);
        ::unlink(path.c_str());  // the open descriptor keeps the data until the reader closes
        if (!fr) return Unexpected(fr.error());
        return std::unique_ptr<Reader>(std::move(*fr));
      }
      last = Failure(*resp, "blob " + desc.digest.ToString());
      if (!Retriable(*resp) || attempt == opt_.max_attempts) return Unexpected(last.error());
      Backoff(*resp, attempt);
    }
    return Unexpected(last.error());
  }

 private:
  static bool Retriable(const Response& r) {
    return r.curl != CURLE_OK || r.status == 429 || r.status == 408 || r.status >= 500;
  }
  static void Backoff(const Response& r, int attempt) {
    int ms = 200 * (1 << (attempt - 1));
    auto it = r.headers.find("retry-after");
    if (it != r.headers.end())
      ms = std::max(ms, std::min(30, std::atoi(it->second.c_str())) * 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  Status Failure(const Response& r, const std::string& what) {
    if (r.curl != CURLE_OK) {
      return MakeError(ErrorCode::kUnavailable, what + ": " + ref_.registry + ": " + r.curl_error);
    }
    std::string detail;
    if (auto j = ParseJson(r.body, "error");
        j && j->contains("errors") && (*j)["errors"].is_array() && !(*j)["errors"].empty()) {
      const auto& e = (*j)["errors"][0];
      if (e.contains("message") && e["message"].is_string())
        detail = ": " + e["message"].get<std::string>();
    }
    ErrorCode code = ErrorCode::kIo;
    if (r.status == 404)
      code = ErrorCode::kNotFound;
    else if (r.status == 401)
      code = ErrorCode::kUnauthorized;
    else if (r.status == 403)
      code = ErrorCode::kDenied;
    else if (r.status == 429 || r.status >= 500)
      code = ErrorCode::kUnavailable;
    return MakeError(
        code, what + ": " + ref_.registry + " answered HTTP " + std::to_string(r.status) + detail);
  }

  void LoadCredentials() {
    if (!opt_.basic_auth.empty()) {
      basic_ = opt_.basic_auth;
      return;
    }
    std::string path = DockerConfigPath(opt_);
    if (path.empty()) return;
    auto text = ReadFile(path, 1 << 20);
    if (!text) return;
    auto j = ParseJson(*text, path);
    if (!j || !j->contains("auths") || !(*j)["auths"].is_object()) return;
    for (const auto& [key, value] : (*j)["auths"].items()) {
      std::string k = key;
      for (const char* scheme : {"https://", "http://"}) {
        if (k.rfind(scheme, 0) == 0) k = k.substr(std::strlen(scheme));
      }
      k = k.substr(0, k.find('/'));
      bool hub =
          ref_.registry == "docker.io" && (k == "index.docker.io" || k == "registry-1.docker.io");
      if ((k == ref_.registry || hub) && value.is_object() && value.contains("auth") &&
          value["auth"].is_string()) {
        basic_ = value["auth"].get<std::string>();
      }
    }
  }

  std::string Scheme() {
    if (scheme_.empty()) {
      scheme_ = "https";
      if (opt_.insecure || IsLoopback(ref_.registry)) {
        // Loopback and --insecure registries may speak plain HTTP: ask /v2/ over HTTPS first.
        Response probe;
        Sink sink{.body = &probe.body, .limit = 1 << 16};
        Perform("https://" + ref_.ApiHost() + "/v2/", sink, probe, {},
                opt_.insecure || IsLoopback(ref_.registry));
        if (probe.curl != CURLE_OK) scheme_ = "http";
      }
    }
    return scheme_;
  }

  void Perform(const std::string& url, Sink& sink, Response& resp,
               const std::vector<std::string>& headers, bool skip_verify, bool head = false,
               const char* method = nullptr, Reader* upload = nullptr,
               std::int64_t upload_size = -1) {
    CURL* c = curl_easy_init();
    if (method) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (upload) {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadCb);
      curl_easy_setopt(c, CURLOPT_READDATA, upload);
      if (upload_size >= 0)
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload_size));
    } else if (method && std::string(method) == "POST") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    struct curl_slist* h = nullptr;
    for (const auto& x : headers) h = curl_slist_append(h, x.c_str());
    char err[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    if (head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteCb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, HeaderCb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "anyarch/0.1");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    // Redirects (e.g. to blob storage) must not carry our Authorization header elsewhere.
    curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
    if (skip_verify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    resp.curl = curl_easy_perform(c);
    if (resp.curl != CURLE_OK) resp.curl_error = err[0] ? err : curl_easy_strerror(resp.curl);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
  }

  // One API request with authentication. `sink` receives the body of the final response.
  Result<Response> Request(const std::string& path, Sink* sink, const std::string& accept,
                           bool head = false, const char* method = nullptr,
                           const std::vector<std::string>& extra = {}) {
    std::string url = Scheme() + "://" + ref_.ApiHost() + "/v2/" + ref_.repository + path;
    for (int round = 0; round < 2; ++round) {
      Response resp;
      std::string body;
      Sink local{.body = &body, .limit = image::kMaxManifestSize + 1};
      Sink& s = sink ? *sink : local;
      std::vector<std::string> headers;
      if (!accept.empty()) headers.push_back("Accept: " + accept);
      if (!auth_header_.empty()) headers.push_back(auth_header_);
      headers.insert(headers.end(), extra.begin(), extra.end());
      Perform(url, s, resp, headers, opt_.insecure, head, method);
      if (!sink) resp.body = body;
      if (local.overflow) return MakeError(ErrorCode::kInvalid, "manifest is over the 4 MiB limit");
      if (resp.status != 401 || round == 1) return resp;
      // Authenticate and try once more.
      auto it = resp.headers.find("www-authenticate");
      if (it == resp.headers.end()) return resp;
      ANYARCH_CHECK(Authenticate(it->second));
      if (sink && sink->file) {
        // Start the file over for the authenticated attempt.
        return MakeError(ErrorCode::kUnavailable, "retrying after authentication");
      }
    }
    return MakeError(ErrorCode::kInternal, "unreachable");
  }

  Status Authenticate(const std::string& challenge) {
    auto [scheme, params] = ParseChallenge(challenge);
    if (scheme == "basic") {
      if (basic_.empty()) {
        return MakeError(
            ErrorCode::kUnauthorized,
            ref_.registry + " needs credentials (anyarch login " + ref_.registry + ")");
      }
      auth_header_ = "Authorization: Basic " + basic_;
      return Ok();
    }
    if (scheme != "bearer" || params["realm"].empty()) {
      return MakeError(ErrorCode::kUnauthorized,
                       ref_.registry + " asks for an unsupported authentication scheme");
    }
    std::string scope =
        params.count("scope") ? params["scope"] : "repository:" + ref_.repository + ":pull";
    std::string url = params["realm"] +
                      (params["realm"].find('?') == std::string::npos ? "?" : "&") +
                      "service=" + UrlEncode(params["service"]) + "&scope=" + UrlEncode(scope);
    Response resp;
    std::string body;
    Sink s{.body = &body, .limit = 1 << 20};
    std::vector<std::string> headers;
    if (!basic_.empty()) headers.push_back("Authorization: Basic " + basic_);
    Perform(url, s, resp, headers, opt_.insecure);
    if (resp.curl != CURLE_OK) {
      return MakeError(ErrorCode::kUnavailable,
                       "token server for " + ref_.registry + ": " + resp.curl_error);
    }
    if (resp.status == 401 || resp.status == 403) {
      return MakeError(ErrorCode::kUnauthorized,
                       "authentication to " + ref_.registry + " failed (HTTP " +
                           std::to_string(resp.status) +
                           "); check the credentials (anyarch login " + ref_.registry + ")");
    }
    auto j = ParseJson(body, "token response from " + ref_.registry);
    if (!j) return Unexpected(j.error());
    std::string token;
    for (const char* k : {"token", "access_token"}) {
      if (j->contains(k) && (*j)[k].is_string()) token = (*j)[k].get<std::string>();
    }
    if (token.empty())
      return MakeError(ErrorCode::kUnauthorized,
                       "the token server of " + ref_.registry + " gave no token");
    auth_header_ = "Authorization: Bearer " + token;
    return Ok();
  }

  Result<image::RawManifest> FetchManifest(const std::string& identifier,
                                           const std::optional<Digest>& expect) {
    Status last = Ok();
    for (int attempt = 1; attempt <= opt_.max_attempts; ++attempt) {
      ANYARCH_TRY(Response resp, Request("/manifests/" + identifier, nullptr, kAccept));
      if (resp.status == 200 && resp.curl == CURLE_OK) {
        std::string type = resp.headers.count("content-type") ? resp.headers["content-type"] : "";
        ANYARCH_TRY(auto raw, image::MakeRawManifest(std::move(resp.body), type));
        if (expect && raw.digest != *expect) {
          return MakeError(ErrorCode::kDigestMismatch, "manifest " + expect->ToString() + " from " +
                                                           ref_.registry + " has digest " +
                                                           raw.digest.ToString());
        }
        auto dcd = resp.headers.find("docker-content-digest");
        if (!expect && dcd != resp.headers.end() && dcd->second != raw.digest.ToString()) {
          return MakeError(ErrorCode::kDigestMismatch,
                           "manifest " + identifier + " from " + ref_.registry + " has digest " +
                               raw.digest.ToString() + " but the registry says " + dcd->second);
        }
        return raw;
      }
      last = Failure(resp, "manifest " + identifier);
      if (!Retriable(resp) || attempt == opt_.max_attempts) return Unexpected(last.error());
      Backoff(resp, attempt);
    }
    return Unexpected(last.error());
  }

 public:
  // ---- push ----
  Result<bool> BlobExists(const image::Descriptor& d) {
    ANYARCH_TRY(Response r, Request("/blobs/" + d.digest.ToString(), nullptr, "", /*head=*/true));
    if (r.curl != CURLE_OK)
      return Unexpected(Failure(r, "checking blob " + d.digest.ToString()).error());
    return r.status == 200;
  }

  std::string AbsoluteLocation(const std::string& loc) {
    if (loc.rfind("http://", 0) == 0 || loc.rfind("https://", 0) == 0) return loc;
    return Scheme() + "://" + ref_.ApiHost() + loc;
  }

  // Mounts from `from_repo` when given (same registry); else starts an upload and PUTs the bytes.
  Status PushBlob(const image::Descriptor& d, Reader& data, const std::string& from_repo) {
    push_scope_ = true;
    std::string post = "/blobs/uploads/";
    if (!from_repo.empty())
      post += "?mount=" + UrlEncode(d.digest.ToString()) + "&from=" + UrlEncode(from_repo);
    Status last = Ok();
    for (int attempt = 1; attempt <= opt_.max_attempts; ++attempt) {
      ANYARCH_TRY(Response r, Request(post, nullptr, "", false, "POST"));
      if (r.status == 201) return Ok();  // mounted
      if (r.status != 202 || !r.headers.count("location")) {
        last = Failure(r, "starting the upload of blob " + d.digest.ToString());
        if (!Retriable(r) || attempt == opt_.max_attempts) return last;
        Backoff(r, attempt);
        continue;
      }
      std::string loc = AbsoluteLocation(r.headers["location"]);
      loc += (loc.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") +
             UrlEncode(d.digest.ToString());
      Response put;
      std::string body;
      Sink sink{.body = &body, .limit = 1 << 20};
      std::vector<std::string> headers = {"Content-Type: application/octet-stream"};
      if (!auth_header_.empty()) headers.push_back(auth_header_);
      Perform(loc, sink, put, headers, opt_.insecure, false, "PUT", &data, d.size);
      put.body = body;
      if (put.status == 201) return Ok();
      return Failure(put, "uploading blob " + d.digest.ToString());
    }
    return last;
  }

  Status PushManifest(const image::RawManifest& m, const std::string& reference) {
    push_scope_ = true;
    Status last = Ok();
    for (int attempt = 1; attempt <= opt_.max_attempts; ++attempt) {
      StringReader body(m.bytes);
      std::string url =
          Scheme() + "://" + ref_.ApiHost() + "/v2/" + ref_.repository + "/manifests/" + reference;
      // Make sure we hold a push token before sending the body.
      if (auth_header_.empty() || !pushed_auth_) {
        ANYARCH_TRY(Response probe, Request("/blobs/uploads/", nullptr, "", false, "POST"));
        if (probe.status == 202 && probe.headers.count("location")) {
          Response del;
          std::string b;
          Sink s{.body = &b, .limit = 1 << 16};
          std::vector<std::string> h;
          if (!auth_header_.empty()) h.push_back(auth_header_);
          Perform(AbsoluteLocation(probe.headers["location"]), s, del, h, opt_.insecure, false,
                  "DELETE");
        }
        pushed_auth_ = true;
      }
      Response resp;
      std::string out;
      Sink sink{.body = &out, .limit = 1 << 20};
      std::vector<std::string> headers = {"Content-Type: " + m.media_type};
      if (!auth_header_.empty()) headers.push_back(auth_header_);
      Perform(url, sink, resp, headers, opt_.insecure, false, "PUT", &body,
              static_cast<std::int64_t>(m.bytes.size()));
      resp.body = out;
      if (resp.status == 201) return Ok();
      last = Failure(resp, "putting manifest " + reference);
      if (!Retriable(resp) || attempt == opt_.max_attempts) return last;
      Backoff(resp, attempt);
    }
    return last;
  }

  // POST ?mount=&from=: true when the registry mounted the blob (201).
  Result<bool> Mount(const image::Descriptor& d, const std::string& from_repo) {
    push_scope_ = true;
    ANYARCH_TRY(Response r, Request("/blobs/uploads/?mount=" + UrlEncode(d.digest.ToString()) +
                                        "&from=" + UrlEncode(from_repo),
                                    nullptr, "", false, "POST"));
    return r.status == 201;
  }

  // GET /v2/ with authentication.
  Status Ping() {
    std::string url = Scheme() + "://" + ref_.ApiHost() + "/v2/";
    for (int round = 0; round < 2; ++round) {
      Response resp;
      std::string body;
      Sink s{.body = &body, .limit = 1 << 16};
      std::vector<std::string> headers;
      if (!auth_header_.empty()) headers.push_back(auth_header_);
      Perform(url, s, resp, headers, opt_.insecure);
      resp.body = body;
      if (resp.status == 200) return Ok();
      if (resp.status == 401 && round == 0 && resp.headers.count("www-authenticate")) {
        ANYARCH_CHECK(Authenticate(resp.headers["www-authenticate"]));
        continue;
      }
      if (resp.status == 401) {
        return MakeError(
            ErrorCode::kUnauthorized,
            "login to " + ref_.registry + " failed: the registry refused the credentials");
      }
      return Failure(resp, "login");
    }
    return MakeError(ErrorCode::kUnauthorized, "login to " + ref_.registry + " failed");
  }

  const ref::Reference& reference() const { return ref_; }

 private:
  bool push_scope_ = false;
  bool pushed_auth_ = false;
  ref::Reference ref_;
  ClientOptions opt_;
  std::string scheme_;
  std::string basic_;        // base64 user:password from config.json; never printed
  std::string auth_header_;  // current Authorization header; never printed
  int counter_ = 0;
};

class RemoteSink final : public image::ImageSink {
 public:
  RemoteSink(ref::Reference ref, ClientOptions opt) : client_(ref, std::move(opt)) {}
  std::string Describe() const override { return client_.reference().ToString(); }
  Result<bool> HasBlob(const image::Descriptor& d) override { return client_.BlobExists(d); }
  Status PutBlob(const image::Descriptor& d, Reader& data) override {
    return client_.PushBlob(d, data, "");
  }
  Status PutManifest(const image::RawManifest& m) override {
    return client_.PushManifest(m, m.digest.ToString());
  }
  Result<bool> MountBlob(const image::Descriptor& d, const std::string& source_registry,
                         const std::string& source_repository) override {
    if (source_registry != client_.reference().registry) return false;
    return client_.Mount(d, source_repository);
  }
  Status Tag(const image::RawManifest& root) override {
    const auto& r = client_.reference();
    if (r.tag.empty()) return Ok();
    return client_.PushManifest(root, r.tag);
  }

 private:
  RemoteSource client_;
};

}  // namespace

std::string DockerConfigPath(const ClientOptions& options) {
  if (!options.docker_config.empty()) return options.docker_config;
  const char* dc = std::getenv("DOCKER_CONFIG");
  if (dc && *dc) return std::string(dc) + "/config.json";
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.docker/config.json" : "";
}

Status Ping(const std::string& registry, const ClientOptions& options) {
  ANYARCH_TRY(auto r, ref::Parse(registry + "/anyarch-login-check"));
  RemoteSource s(r, options);
  return s.Ping();
}

Result<std::unique_ptr<image::ImageSink>> OpenSink(const ref::Reference& ref,
                                                   const ClientOptions& options) {
  return std::unique_ptr<image::ImageSink>(new RemoteSink(ref, options));
}

Result<std::unique_ptr<image::ImageSource>> OpenSource(const ref::Reference& ref,
                                                       const ClientOptions& options) {
  return std::unique_ptr<image::ImageSource>(new RemoteSource(ref, options));
}

}  // namespace anyarch::registry

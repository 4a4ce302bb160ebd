#include "registry/client.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "registry/auth.h"
#include "registry/wire.h"

namespace anyarch::registry {

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

constexpr int kMaxLinkPages = 10000;

bool RetriableStatus(long s) { return s == 408 || s == 429 || s >= 500; }

std::string MediaTypeOf(const Headers& h) {
  std::string t = HeaderValue(h, "content-type");
  return std::string(TrimSpace(t.substr(0, t.find(';'))));
}

// Reads exactly `size` bytes from `inner` and then makes sure the stream ends there (reading
// once more, which is when a VerifyingReader checks the digest): an upload body that is short,
// long or fails verification errors before its last bytes go out, so the upload never completes.
class ExactReader final : public Reader {
 public:
  ExactReader(Reader& inner, std::uint64_t size, std::string what)
      : inner_(inner), size_(size), what_(std::move(what)) {}
  Result<std::size_t> Read(void* buf, std::size_t n) override {
    if (done_ == size_) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size_ - done_));
    ANYARCH_TRY(std::size_t got, inner_.Read(buf, n));
    if (got == 0) {
      return MakeError(ErrorCode::kDigestMismatch, what_ + " ended after " + std::to_string(done_) +
                                                       " of " + std::to_string(size_) + " bytes");
    }
    done_ += got;
    if (done_ == size_) {
      char extra;
      ANYARCH_TRY(std::size_t more, inner_.Read(&extra, 1));
      if (more != 0) {
        return MakeError(ErrorCode::kDigestMismatch, what_ + " is longer than the " +
                                                         std::to_string(size_) + " bytes declared");
      }
    }
    return got;
  }

 private:
  Reader& inner_;
  std::uint64_t size_;
  std::uint64_t done_ = 0;
  std::string what_;
};

struct Endpoint {
  std::string base;  // "https://host:port"
  TlsOptions tls;
};

struct Call {
  std::string method = "GET";
  std::string path;  // "/v2/..." appended to the endpoint, or
  std::string url;   // an absolute URL (upload locations, Link pages)
  std::vector<std::string> scopes;
  std::vector<std::string> headers;
  const std::string* body = nullptr;  // a body that can be sent again on retry
  Reader* stream = nullptr;           // a body that can be sent once
  std::int64_t stream_size = 0;
  bool retry = true;  // retry retriable answers (only when the body can be sent again)
  std::string what;   // "manifest app:1", for messages
};

class RegistryImpl final : public Registry, public std::enable_shared_from_this<RegistryImpl> {
 public:
  RegistryImpl(std::string host, ClientOptions opt, HostConfig hc)
      : host_(std::move(host)), opt_(std::move(opt)), hc_(std::move(hc)) {}

  void SetMirrors(std::vector<std::shared_ptr<RegistryImpl>> m) { mirrors_ = std::move(m); }

  const std::string& host() const override { return host_; }

  // ---- the request loop ----

  Result<Endpoint> Resolve() {
    std::lock_guard<std::mutex> lock(resolve_mu_);
    if (endpoint_) return *endpoint_;
    std::string api = host_ == "docker.io" ? std::string(ref::kDockerHubApiHost) : host_;
    Endpoint ep;
    bool insecure = opt_.insecure || hc_.insecure.value_or(false);
    ep.tls.verify = !insecure;
    ep.tls.ca_files = hc_.ca;
    if (!hc_.keypairs.empty()) {
      ep.tls.client_cert = hc_.keypairs.front().first;
      ep.tls.client_key = hc_.keypairs.front().second;
    }
    if (hc_.http.value_or(false)) {
      ep.base = "http://" + api;
    } else {
      bool may_fall_back = insecure || IsLoopback(host_);
      Status last = Ok();
      for (int attempt = 1; attempt <= opt_.max_attempts; ++attempt) {
        auto https = Probe("https://" + api, ep.tls);
        if (https) {
          ep.base = "https://" + api;
          break;
        }
        last = Unexpected(https.error());
        bool retriable = https.error().code() == ErrorCode::kUnavailable;
        if (may_fall_back) {
          // A loopback or insecure registry may speak plain HTTP. Only an answer that looks
          // like a registry's counts: a TLS server answers plain HTTP with 400.
          auto http = Probe("http://" + api, ep.tls);
          if (http && (*http == 200 || *http == 401)) {
            ep.base = "http://" + api;
            break;
          }
          if (!http) retriable = retriable || http.error().code() == ErrorCode::kUnavailable;
        }
        if (!retriable || attempt == opt_.max_attempts) {
          Error e = last.error();
          std::string advice;
          if (e.message().find("not trusted") != std::string::npos) {
            advice = "; add its CA certificate to ca = [...] under [registry.\"" + host_ +
                     "\"] in the registries config, or use --insecure";
          } else if (!may_fall_back && e.code() == ErrorCode::kIo) {
            advice = "; if it speaks plain HTTP, set http = true under [registry.\"" + host_ +
                     "\"] in the registries config, or use --insecure";
          }
          return MakeError(e.code(),
                           "cannot reach registry " + host_ + ": " + e.message() + advice);
        }
        Backoff(attempt, "");
      }
    }
    endpoint_ = ep;
    auth_ = std::make_unique<Authenticator>(
        host_, opt_.transport,
        [this]() -> Result<std::optional<Credential>> {
          if (opt_.credential) return opt_.credential;
          return CredentialStore(DockerConfigPath(opt_.docker_config)).Get(host_);
        },
        ep.tls, opt_.clock);
    return ep;
  }

  // GET <base>/v2/ without credentials: the HTTP status, or the transport's error.
  Result<long> Probe(const std::string& base, const TlsOptions& tls) {
    HttpRequest req{.method = "GET",
                    .url = base + "/v2/",
                    .headers = {},
                    .body = nullptr,
                    .body_size = 0,
                    .tls = tls};
    ANYARCH_TRY(auto resp, opt_.transport->Send(req));
    (void)ReadAll(*resp, 1 << 16);
    return resp->status();
  }

  void Backoff(int attempt, const std::string& retry_after) {
    long ms = std::min<long>(10000, 250L << std::min(attempt - 1, 10));
    if (!retry_after.empty()) {
      char* end = nullptr;
      long s = std::strtol(retry_after.c_str(), &end, 10);
      if (end && *end == '\0' && s > 0) ms = std::max(ms, std::min<long>(s, 60) * 1000);
    }
    opt_.sleep(std::chrono::milliseconds(ms));
  }

  void Warn(const std::string& message) {
    if (opt_.reporter) opt_.reporter->Warn(message);
  }

  // One API call with authentication and retries. The response is returned whatever its status;
  // callers turn unexpected statuses into errors with StatusError.
  Result<std::unique_ptr<HttpResponse>> Do(const Call& c) {
    ANYARCH_TRY(Endpoint ep, Resolve());
    std::string url = c.url.empty() ? ep.base + c.path : c.url;
    bool replayable = c.retry && !c.stream;
    int auth_rounds = 0;
    for (int attempt = 1;;) {
      ANYARCH_TRY(std::string auth, auth_->HeaderFor(c.scopes));
      HttpRequest req;
      req.method = c.method;
      req.url = url;
      req.headers = c.headers;
      if (!auth.empty()) req.headers.push_back(auth);
      req.tls = ep.tls;
      StringReader replay(c.body ? *c.body : std::string());
      if (c.body) {
        req.body = &replay;
        req.body_size = static_cast<std::int64_t>(c.body->size());
      } else if (c.stream) {
        req.body = c.stream;
        req.body_size = c.stream_size;
      }
      auto resp = opt_.transport->Send(req);
      if (!resp) {
        if (resp.error().code() == ErrorCode::kUnavailable && replayable &&
            attempt < opt_.max_attempts) {
          Warn(host_ + ": " + c.what + ": " + resp.error().message() + "; retrying (attempt " +
               std::to_string(attempt + 1) + " of " + std::to_string(opt_.max_attempts) + ")");
          Backoff(attempt, "");
          ++attempt;
          continue;
        }
        return Unexpected(std::move(resp.error()).With(c.what));
      }
      long st = (*resp)->status();
      if (st == 401) {
        std::string challenge = HeaderValue((*resp)->headers(), "www-authenticate");
        for (auto [it, end] = (*resp)->headers().equal_range("www-authenticate"); it != end; ++it) {
          if (ToLower(it->second).rfind("bearer", 0) == 0) challenge = it->second;
        }
        if (challenge.empty()) return resp;
        auto st2 = auth_->OnUnauthorized(challenge, c.scopes, auth);
        if (!st2) return Unexpected(std::move(st2.error()).With(c.what));
        if (c.stream) {
          // The body was (partly) consumed; the caller starts the upload over, now with a
          // fresh token.
          return MakeError(ErrorCode::kUnavailable,
                           c.what + ": " + host_ + " asked to authenticate again during an upload");
        }
        if (++auth_rounds > 2) {
          std::string scopes = c.scopes.empty() ? "access" : Join(c.scopes, " ");
          if (auth_->HasCredential()) {
            return MakeError(ErrorCode::kUnauthorized,
                             c.what + ": " + host_ + " refused " + scopes +
                                 " with the stored credentials (HTTP 401); check them with "
                                 "anyarch login " +
                                 host_);
          }
          return MakeError(ErrorCode::kUnauthorized, c.what + ": " + host_ +
                                                         " needs credentials for " + scopes +
                                                         ": run anyarch login " + host_);
        }
        continue;
      }
      if (RetriableStatus(st) && replayable && attempt < opt_.max_attempts) {
        std::string ra = HeaderValue((*resp)->headers(), "retry-after");
        (void)ReadAll(**resp, 1 << 16);
        Warn(host_ + ": " + c.what + ": HTTP " + std::to_string(st) + "; retrying (attempt " +
             std::to_string(attempt + 1) + " of " + std::to_string(opt_.max_attempts) + ")");
        Backoff(attempt, ra);
        ++attempt;
        continue;
      }
      return resp;
    }
  }

  // An error for an unexpected answer, with the registry's own error code and message.
  Error StatusError(HttpResponse& r, const std::string& what) {
    long st = r.status();
    auto body = ReadAll(r, 1 << 16);
    ErrorBody eb = body ? ParseErrorBody(*body) : ErrorBody{};
    const std::string& reg_code = eb.code;
    const std::string& detail = eb.message;
    ErrorCode code = ErrorCode::kIo;
    if (st == 404)
      code = ErrorCode::kNotFound;
    else if (st == 401)
      code = ErrorCode::kUnauthorized;
    else if (st == 403)
      code = ErrorCode::kDenied;
    else if (RetriableStatus(st))
      code = ErrorCode::kUnavailable;
    else if (st == 400 || st == 413 || st == 416)
      code = ErrorCode::kInvalid;
    std::string msg = what + ": " + host_ + " answered HTTP " + std::to_string(st);
    if (!reg_code.empty() || !detail.empty()) {
      msg += " (" + reg_code + (reg_code.empty() || detail.empty() ? "" : ": ") +
             Printable(detail, 300) + ")";
    }
    return Error(code, msg);
  }

  std::string Absolute(const std::string& location) {
    if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return location;
    return endpoint_->base + (location.empty() || location[0] != '/' ? "/" : "") + location;
  }

  // ---- pull ----

  Status Ping() override {
    Call c{.method = "GET", .path = "/v2/", .what = "checking access"};
    ANYARCH_TRY(auto resp, Do(c));
    if (resp->status() == 200) return Ok();
    return Unexpected(StatusError(*resp, "checking access"));
  }

  template <typename T, typename F>
  Result<T> WithMirrors(const std::string& what, F direct) {
    for (const auto& m : mirrors_) {
      auto r = direct(*m);
      if (r) return r;
      // A mirror without the manifest has none of its blobs either: only say it once.
      if (what == "manifest" || r.error().code() != ErrorCode::kNotFound) {
        Warn("mirror " + m->host() + ": " + r.error().ToString() + "; trying the next source");
      }
    }
    return direct(*this);
  }

  Result<image::RawManifest> GetManifest(const std::string& repo, const std::string& id,
                                         const std::optional<Digest>& expect) override {
    return WithMirrors<image::RawManifest>(
        "manifest", [&](RegistryImpl& r) { return r.GetManifestDirect(repo, id, expect); });
  }

  Result<image::RawManifest> GetManifestDirect(const std::string& repo, const std::string& id,
                                               const std::optional<Digest>& expect) {
    std::string what = "manifest " + repo + (id.find(':') == std::string::npos ? ":" : "@") + id;
    Call c{.method = "GET",
           .path = "/v2/" + repo + "/manifests/" + id,
           .scopes = {RepositoryScope(repo, false)},
           .headers = {std::string("Accept: ") + kAccept},
           .what = what};
    for (int attempt = 1;; ++attempt) {
      ANYARCH_TRY(auto resp, Do(c));
      if (resp->status() != 200) return Unexpected(StatusError(*resp, what));
      std::string len = HeaderValue(resp->headers(), "content-length");
      if (!len.empty() && std::strtoull(len.c_str(), nullptr, 10) > image::kMaxManifestSize) {
        return MakeError(ErrorCode::kInvalid, what + " from " + host_ + " is " + len +
                                                  " bytes; manifests over 4 MiB are refused");
      }
      auto body = ReadAll(*resp, image::kMaxManifestSize);
      if (!body) {
        if (body.error().code() == ErrorCode::kInvalid) {
          return MakeError(
              ErrorCode::kInvalid,
              what + " from " + host_ + " is over 4 MiB; manifests over 4 MiB are refused");
        }
        if (body.error().code() == ErrorCode::kUnavailable && attempt < opt_.max_attempts) {
          Backoff(attempt, "");
          continue;
        }
        return Unexpected(std::move(body.error()).With(what));
      }
      auto raw = image::MakeRawManifest(std::move(*body), MediaTypeOf(resp->headers()));
      if (!raw) return Unexpected(std::move(raw.error()).With(what + " from " + host_));
      if (expect && raw->digest != *expect) {
        return MakeError(ErrorCode::kDigestMismatch, what + " from " + host_ + " has digest " +
                                                         raw->digest.ToString() + ", expected " +
                                                         expect->ToString());
      }
      std::string dcd = HeaderValue(resp->headers(), "docker-content-digest");
      if (!expect && !dcd.empty() && dcd != raw->digest.ToString()) {
        return MakeError(ErrorCode::kDigestMismatch,
                         what + " from " + host_ + " has digest " + raw->digest.ToString() +
                             " but the registry says " + Printable(dcd, 100));
      }
      return raw;
    }
  }

  Result<std::optional<image::Descriptor>> HeadManifest(const std::string& repo,
                                                        const std::string& id) override {
    std::string what = "manifest " + repo + " " + id;
    Call c{.method = "HEAD",
           .path = "/v2/" + repo + "/manifests/" + id,
           .scopes = {RepositoryScope(repo, false)},
           .headers = {std::string("Accept: ") + kAccept},
           .what = what};
    ANYARCH_TRY(auto resp, Do(c));
    if (resp->status() == 404) return std::optional<image::Descriptor>();
    if (resp->status() != 200) return Unexpected(StatusError(*resp, what));
    image::Descriptor d;
    d.media_type = MediaTypeOf(resp->headers());
    auto dg = Digest::Parse(HeaderValue(resp->headers(), "docker-content-digest"));
    std::string len = HeaderValue(resp->headers(), "content-length");
    if (!dg || len.empty()) {
      // Not every registry answers HEAD with the digest: read the manifest instead.
      ANYARCH_TRY(auto raw, GetManifestDirect(repo, id, std::nullopt));
      return std::optional<image::Descriptor>(raw.ToDescriptor());
    }
    d.digest = *dg;
    d.size = std::strtoll(len.c_str(), nullptr, 10);
    return std::optional<image::Descriptor>(d);
  }

  Result<std::unique_ptr<Reader>> OpenBlob(const std::string& repo,
                                           const image::Descriptor& desc) override {
    return WithMirrors<std::unique_ptr<Reader>>(
        "blob", [&](RegistryImpl& r) { return r.OpenBlobDirect(repo, desc); });
  }

  Result<std::unique_ptr<Reader>> OpenBlobDirect(const std::string& repo,
                                                 const image::Descriptor& desc);

  // ---- push ----

  Result<bool> HasBlob(const std::string& repo, const image::Descriptor& d) override {
    std::string what = "checking blob " + d.digest.ToString();
    Call c{.method = "HEAD",
           .path = "/v2/" + repo + "/blobs/" + d.digest.ToString(),
           .scopes = {RepositoryScope(repo, true)},
           .what = what};
    ANYARCH_TRY(auto resp, Do(c));
    if (resp->status() == 200) return true;
    if (resp->status() == 404) return false;
    return Unexpected(StatusError(*resp, what));
  }

  Result<bool> MountBlob(const std::string& repo, const image::Descriptor& d,
                         const std::string& from) override {
    std::string what = "mounting blob " + d.digest.ToString() + " from " + from;
    Call c{.method = "POST",
           .path = "/v2/" + repo + "/blobs/uploads/?mount=" + UrlEncode(d.digest.ToString()) +
                   "&from=" + UrlEncode(from),
           .scopes = {RepositoryScope(repo, true), RepositoryScope(from, false)},
           .what = what};
    auto resp = Do(c);
    if (!resp) {
      // Not allowed to read the source repository: copy the bytes instead.
      auto code = resp.error().code();
      if (code == ErrorCode::kUnauthorized || code == ErrorCode::kDenied) return false;
      return Unexpected(resp.error());
    }
    long st = (*resp)->status();
    if (st == 201) return true;
    if (st == 202) {
      // The registry opened an upload session instead; close it.
      std::string loc = HeaderValue((*resp)->headers(), "location");
      if (!loc.empty()) {
        Call del{.method = "DELETE",
                 .url = Absolute(loc),
                 .scopes = {RepositoryScope(repo, true)},
                 .retry = false,
                 .what = "cancelling an upload"};
        (void)Do(del);
      }
      return false;
    }
    if (st == 401 || st == 403 || st == 404) return false;
    return Unexpected(StatusError(**resp, what));
  }

  // POST /blobs/uploads/: the upload URL and the registry's minimum chunk length.
  Result<std::pair<std::string, std::uint64_t>> StartUpload(const std::string& repo,
                                                            const std::string& what) {
    Call c{.method = "POST",
           .path = "/v2/" + repo + "/blobs/uploads/",
           .scopes = {RepositoryScope(repo, true)},
           .what = what};
    ANYARCH_TRY(auto resp, Do(c));
    std::string loc = HeaderValue(resp->headers(), "location");
    if (resp->status() != 202 || loc.empty()) return Unexpected(StatusError(*resp, what));
    std::uint64_t min_chunk =
        std::strtoull(HeaderValue(resp->headers(), "oci-chunk-min-length").c_str(), nullptr, 10);
    (void)ReadAll(*resp, 1 << 16);
    return std::make_pair(Absolute(loc), min_chunk);
  }

  static std::string WithDigest(const std::string& loc, const Digest& d) {
    return loc + (loc.find('?') == std::string::npos ? "?" : "&") +
           "digest=" + UrlEncode(d.ToString());
  }

  Status PushBlob(const std::string& repo, const image::Descriptor& d, Reader& data) override {
    std::string what = "uploading blob " + d.digest.ToString();
    ANYARCH_TRY(auto started, StartUpload(repo, what));
    auto [loc, min_chunk] = started;
    std::uint64_t chunk = opt_.chunk_size ? opt_.chunk_size : hc_.chunk_size;
    if (chunk && min_chunk > chunk) chunk = min_chunk;
    ExactReader exact(data, static_cast<std::uint64_t>(d.size), "blob " + d.digest.ToString());
    if (chunk == 0 || static_cast<std::uint64_t>(d.size) <= chunk) {
      Call put{.method = "PUT",
               .url = WithDigest(loc, d.digest),
               .scopes = {RepositoryScope(repo, true)},
               .headers = {"Content-Type: application/octet-stream"},
               .stream = &exact,
               .stream_size = d.size,
               .what = what};
      ANYARCH_TRY(auto resp, Do(put));
      return Finished(*resp, d, what);
    }
    return PushChunked(repo, d, exact, loc, chunk, what);
  }

  Status Finished(HttpResponse& resp, const image::Descriptor& d, const std::string& what) {
    if (resp.status() != 201) return Unexpected(StatusError(resp, what));
    std::string dcd = HeaderValue(resp.headers(), "docker-content-digest");
    if (!dcd.empty() && dcd != d.digest.ToString()) {
      return MakeError(ErrorCode::kDigestMismatch,
                       what + ": " + host_ + " stored it as " + Printable(dcd, 100));
    }
    return Ok();
  }

  // How many bytes the registry holds for an upload (GET on its URL: 204 with Range 0-N).
  Result<std::pair<std::uint64_t, std::string>> UploadStatus(const std::string& repo,
                                                             const std::string& loc) {
    Call c{.method = "GET",
           .url = loc,
           .scopes = {RepositoryScope(repo, true)},
           .what = "upload status"};
    ANYARCH_TRY(auto resp, Do(c));
    if (resp->status() != 204 && resp->status() != 202 && resp->status() != 200)
      return Unexpected(StatusError(*resp, "asking for the upload status"));
    std::string range = HeaderValue(resp->headers(), "range");
    std::string next = HeaderValue(resp->headers(), "location");
    std::uint64_t have = 0;
    auto dash = range.find('-');
    if (dash != std::string::npos) have = std::strtoull(range.c_str() + dash + 1, nullptr, 10) + 1;
    // distribution answers "0-0" for an empty upload as well as for one byte; our chunks are
    // never a single byte, so "0-0" means nothing arrived.
    if (range == "0-0") have = 0;
    return std::make_pair(have, next.empty() ? loc : Absolute(next));
  }

  Status PushChunked(const std::string& repo, const image::Descriptor& d, Reader& data,
                     std::string loc, std::uint64_t chunk, const std::string& what) {
    std::uint64_t size = static_cast<std::uint64_t>(d.size);
    std::uint64_t offset = 0;
    std::string buf;
    auto cancel = [&] {
      Call del{.method = "DELETE",
               .url = loc,
               .scopes = {RepositoryScope(repo, true)},
               .retry = false,
               .what = "cancelling an upload"};
      (void)Do(del);
    };
    while (offset < size) {
      std::uint64_t n = std::min(chunk, size - offset);
      buf.resize(n);
      std::uint64_t got = 0;
      while (got < n) {
        auto r = data.Read(buf.data() + got, n - got);
        if (!r) {
          cancel();
          return Unexpected(std::move(r.error()).With(what));
        }
        got += *r;
        if (*r == 0) break;
      }
      if (got != n) {
        cancel();
        return MakeError(ErrorCode::kDigestMismatch, what + ": the blob ended early");
      }
      std::string range = std::to_string(offset) + "-" + std::to_string(offset + n - 1);
      for (int attempt = 1;; ++attempt) {
        Call patch{.method = "PATCH",
                   .url = loc,
                   .scopes = {RepositoryScope(repo, true)},
                   .headers = {"Content-Type: application/octet-stream", "Content-Range: " + range},
                   .body = &buf,
                   .retry = false,
                   .what = what + " (bytes " + range + ")"};
        auto resp = Do(patch);
        Status failed = Ok();
        if (resp && (*resp)->status() == 202) {
          std::string next = HeaderValue((*resp)->headers(), "location");
          if (!next.empty()) loc = Absolute(next);
          break;
        }
        if (resp && !RetriableStatus((*resp)->status()))
          return Unexpected(StatusError(**resp, what));
        failed = resp ? Unexpected(StatusError(**resp, what)) : Unexpected(resp.error());
        if (attempt >= opt_.max_attempts) return failed;
        // Did the chunk land before the failure? The registry says how much it holds.
        Backoff(attempt, "");
        auto status = UploadStatus(repo, loc);
        if (!status) return failed;
        loc = status->second;
        if (status->first == offset + n) break;
        if (status->first != offset) {
          return MakeError(ErrorCode::kIo,
                           what + ": " + host_ + " holds " + std::to_string(status->first) +
                               " bytes of the upload, expected " + std::to_string(offset) + " or " +
                               std::to_string(offset + n));
        }
        Warn(host_ + ": " + what + ": resending bytes " + range + " (attempt " +
             std::to_string(attempt + 1) + ")");
      }
      offset += n;
    }
    // The digest was checked by ExactReader when its last byte was read.
    Call put{.method = "PUT",
             .url = WithDigest(loc, d.digest),
             .scopes = {RepositoryScope(repo, true)},
             .what = what};
    ANYARCH_TRY(auto resp, Do(put));
    return Finished(*resp, d, what);
  }

  Status PutManifest(const std::string& repo, const std::string& reference,
                     const image::RawManifest& m) override {
    std::string what = "putting manifest " + repo +
                       (reference.find(':') == std::string::npos ? ":" : "@") + reference;
    Call c{.method = "PUT",
           .path = "/v2/" + repo + "/manifests/" + reference,
           .scopes = {RepositoryScope(repo, true)},
           .headers = {"Content-Type: " + m.media_type},
           .body = &m.bytes,
           .what = what};
    ANYARCH_TRY(auto resp, Do(c));
    if (resp->status() != 201) return Unexpected(StatusError(*resp, what));
    std::string dcd = HeaderValue(resp->headers(), "docker-content-digest");
    if (!dcd.empty() && dcd != m.digest.ToString()) {
      return MakeError(ErrorCode::kDigestMismatch, what + ": " + host_ + " stored it as " +
                                                       Printable(dcd, 100) + ", not " +
                                                       m.digest.ToString());
    }
    return Ok();
  }

  Result<std::vector<std::string>> ListTags(const std::string& repo) override {
    std::vector<std::string> tags;
    std::string url;
    std::string what = "listing the tags of " + repo;
    for (int page = 0; page < kMaxLinkPages; ++page) {
      Call c{.method = "GET",
             .path = "/v2/" + repo + "/tags/list",
             .url = url,
             .scopes = {RepositoryScope(repo, false)},
             .what = what};
      ANYARCH_TRY(auto resp, Do(c));
      if (resp->status() != 200) return Unexpected(StatusError(*resp, what));
      std::string link = HeaderValue(resp->headers(), "link");
      ANYARCH_TRY(std::string body, ReadAll(*resp, 16 << 20));
      ANYARCH_TRY(Json j, ParseJson(body, "tag list of " + repo + " from " + host_));
      if (j.is_object() && j.contains("tags") && j["tags"].is_array()) {
        for (const auto& t : j["tags"]) {
          if (t.is_string()) tags.push_back(t.get<std::string>());
        }
      }
      // Link: </v2/repo/tags/list?last=x&n=100>; rel="next"
      auto target = NextLink(link);
      if (!target) return tags;
      std::string next = Absolute(*target);
      if (next == url) return tags;  // a registry that links to the same page
      url = next;
    }
    return MakeError(ErrorCode::kInvalid,
                     what + ": more than " + std::to_string(kMaxLinkPages) + " pages of tags");
  }

  int max_attempts() const { return opt_.max_attempts; }

 private:
  std::string host_;
  ClientOptions opt_;
  HostConfig hc_;
  std::vector<std::shared_ptr<RegistryImpl>> mirrors_;
  std::mutex resolve_mu_;
  std::optional<Endpoint> endpoint_;
  std::unique_ptr<Authenticator> auth_;
};

// A blob download that verifies as it goes and resumes (Range: bytes=N-) when the connection
// drops part way.
class BlobReader final : public Reader {
 public:
  BlobReader(std::shared_ptr<RegistryImpl> reg, std::string repo, image::Descriptor desc)
      : reg_(std::move(reg)), repo_(std::move(repo)), desc_(std::move(desc)) {
    what_ = "blob " + desc_.digest.ToString();
  }

  Status Open() {
    Call c{.method = "GET",
           .path = "/v2/" + repo_ + "/blobs/" + desc_.digest.ToString(),
           .scopes = {RepositoryScope(repo_, false)},
           .what = what_};
    if (count_ > 0) c.headers.push_back("Range: bytes=" + std::to_string(count_) + "-");
    ANYARCH_TRY(auto resp, reg_->Do(c));
    long st = resp->status();
    if (st == 404) {
      return MakeError(ErrorCode::kNotFound,
                       what_ + " is not in " + reg_->host() + "/" + repo_ + " (HTTP 404)");
    }
    if (st == 206 && count_ > 0) {
      std::string cr = HeaderValue(resp->headers(), "content-range");
      auto range = ParseContentRange(cr);
      if (!range || range->first != count_ ||
          (range->total && *range->total != static_cast<std::uint64_t>(desc_.size))) {
        return MakeError(ErrorCode::kIo, what_ + ": " + reg_->host() +
                                             " resumed with a wrong range (" + Printable(cr, 80) +
                                             "), asked for bytes " + std::to_string(count_) + "-");
      }
    } else if (st == 200) {
      // No range support: skip what we already have.
      std::uint64_t skip = count_;
      char buf[65536];
      while (skip > 0) {
        ANYARCH_TRY(
            std::size_t n,
            resp->Read(buf, static_cast<std::size_t>(std::min<std::uint64_t>(skip, sizeof buf))));
        if (n == 0) {
          return MakeError(ErrorCode::kUnavailable,
                           what_ + ": " + reg_->host() + " sent less than before on a retry");
        }
        skip -= n;
      }
    } else {
      return Unexpected(reg_->StatusError(*resp, what_));
    }
    resp_ = std::move(resp);
    return Ok();
  }

  Result<std::size_t> Read(void* buf, std::size_t n) override {
    if (finished_) return 0;
    for (;;) {
      if (!resp_) {
        if (resumes_ > reg_->max_attempts()) return Unexpected(*last_);
        reg_->Backoff(resumes_, "");
        auto st = Open();
        if (!st) {
          if (st.error().code() == ErrorCode::kUnavailable) {
            last_ = st.error();
            ++resumes_;
            continue;
          }
          return Unexpected(st.error());
        }
      }
      auto got = resp_->Read(buf, n);
      if (got && *got == 0 && count_ < static_cast<std::uint64_t>(desc_.size)) {
        // The response ended cleanly (its Content-Length or last chunk reached): the registry
        // served a shorter blob than the descriptor's, not an interrupted one.
        finished_ = true;
        return MakeError(ErrorCode::kDigestMismatch,
                         what_ + " from " + reg_->host() + "/" + repo_ + ": the registry sent " +
                             std::to_string(count_) + " bytes, the descriptor says " +
                             std::to_string(desc_.size));
      }
      if (!got) {
        Error e = got.error();
        if (e.code() != ErrorCode::kUnavailable) return Unexpected(e);
        if (count_ >= static_cast<std::uint64_t>(desc_.size)) {
          // Every byte is in and the answer still claims more: nothing to resume.
          finished_ = true;
          return MakeError(ErrorCode::kIo, what_ + " from " + reg_->host() + "/" + repo_ + ": " +
                                               e.message() + " (after all " +
                                               std::to_string(desc_.size) + " bytes of the blob)");
        }
        reg_->Warn(reg_->host() + ": " + what_ + ": download interrupted after " +
                   std::to_string(count_) + " of " + std::to_string(desc_.size) +
                   " bytes; resuming");
        last_ = e;
        resp_.reset();
        ++resumes_;
        continue;
      }
      if (*got == 0) {
        Digest d = hash_.Finish();
        finished_ = true;
        if (d != desc_.digest) {
          return MakeError(ErrorCode::kDigestMismatch,
                           what_ + " from " + reg_->host() + "/" + repo_ + ": content has digest " +
                               d.ToString() + " (" + std::to_string(count_) + " bytes), expected " +
                               desc_.digest.ToString() + " (" + std::to_string(desc_.size) +
                               " bytes)");
        }
        return 0;
      }
      if (count_ + *got > static_cast<std::uint64_t>(desc_.size)) {
        finished_ = true;
        return MakeError(ErrorCode::kDigestMismatch,
                         what_ + " from " + reg_->host() + "/" + repo_ + ": more than the " +
                             std::to_string(desc_.size) + " bytes its descriptor says");
      }
      hash_.Update(buf, *got);
      count_ += *got;
      return got;
    }
  }

 private:
  std::shared_ptr<RegistryImpl> reg_;
  std::string repo_;
  image::Descriptor desc_;
  std::string what_;
  std::unique_ptr<HttpResponse> resp_;
  Sha256 hash_;
  std::uint64_t count_ = 0;
  int resumes_ = 0;
  bool finished_ = false;
  std::optional<Error> last_;
};

Result<std::unique_ptr<Reader>> RegistryImpl::OpenBlobDirect(const std::string& repo,
                                                             const image::Descriptor& desc) {
  auto r = std::make_unique<BlobReader>(shared_from_this(), repo, desc);
  ANYARCH_CHECK(r->Open());
  return std::unique_ptr<Reader>(std::move(r));
}

class SessionImpl final : public Session {
 public:
  SessionImpl(ClientOptions opt, RegistriesConfig cfg)
      : opt_(std::move(opt)), cfg_(std::move(cfg)) {}

  Result<std::shared_ptr<Registry>> Get(const std::string& host) override {
    std::lock_guard<std::mutex> lock(mu_);
    return std::shared_ptr<Registry>(GetLocked(host, true));
  }
  const RegistriesConfig& config() const override { return cfg_; }
  const ClientOptions& options() const override { return opt_; }

 private:
  std::shared_ptr<RegistryImpl> GetLocked(const std::string& host, bool with_mirrors) {
    std::string key =
        host == "index.docker.io" || host == "registry-1.docker.io" ? "docker.io" : host;
    auto it = regs_.find(key);
    if (it != regs_.end()) return it->second;
    const HostConfig* hc = cfg_.Find(key);
    auto r = std::make_shared<RegistryImpl>(key, opt_, hc ? *hc : HostConfig{});
    regs_[key] = r;
    if (hc && with_mirrors) {
      std::vector<std::shared_ptr<RegistryImpl>> mirrors;
      for (const auto& m : hc->mirrors) {
        if (m != key) mirrors.push_back(GetLocked(m, false));
      }
      r->SetMirrors(std::move(mirrors));
    }
    return r;
  }

  ClientOptions opt_;
  RegistriesConfig cfg_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<RegistryImpl>> regs_;
};

class RegistrySource final : public image::ImageSource {
 public:
  RegistrySource(std::shared_ptr<Session> s, std::shared_ptr<Registry> r, ref::Reference ref)
      : session_(std::move(s)), reg_(std::move(r)), ref_(std::move(ref)) {}
  std::string Describe() const override { return ref_.ToString(); }
  Result<image::RawManifest> GetRootManifest() override {
    return reg_->GetManifest(ref_.repository, ref_.Identifier(), ref_.digest);
  }
  Result<image::RawManifest> GetManifest(const image::Descriptor& desc) override {
    if (desc.size > static_cast<std::int64_t>(image::kMaxManifestSize)) {
      return MakeError(ErrorCode::kInvalid, "manifest " + desc.digest.ToString() + " is " +
                                                std::to_string(desc.size) +
                                                " bytes; manifests over 4 MiB are refused");
    }
    return reg_->GetManifest(ref_.repository, desc.digest.ToString(), desc.digest);
  }
  Result<std::unique_ptr<Reader>> OpenBlob(const image::Descriptor& desc) override {
    return reg_->OpenBlob(ref_.repository, desc);
  }

 private:
  std::shared_ptr<Session> session_;
  std::shared_ptr<Registry> reg_;
  ref::Reference ref_;
};

class RegistrySink final : public image::ImageSink {
 public:
  RegistrySink(std::shared_ptr<Session> s, std::shared_ptr<Registry> r, ref::Reference ref)
      : session_(std::move(s)), reg_(std::move(r)), ref_(std::move(ref)) {}
  std::string Describe() const override { return ref_.ToString(); }
  Result<bool> HasBlob(const image::Descriptor& d) override {
    return reg_->HasBlob(ref_.repository, d);
  }
  Status PutBlob(const image::Descriptor& d, Reader& data) override {
    return reg_->PushBlob(ref_.repository, d, data);
  }
  Status PutManifest(const image::RawManifest& m) override {
    return reg_->PutManifest(ref_.repository, m.digest.ToString(), m);
  }
  Result<bool> MountBlob(const image::Descriptor& d, const std::string& source_registry,
                         const std::string& source_repository) override {
    if (source_registry != reg_->host() || source_repository == ref_.repository) return false;
    return reg_->MountBlob(ref_.repository, d, source_repository);
  }
  Status Tag(const image::RawManifest& root) override {
    if (ref_.tag.empty()) return Ok();
    return reg_->PutManifest(ref_.repository, ref_.tag, root);
  }

 private:
  std::shared_ptr<Session> session_;
  std::shared_ptr<Registry> reg_;
  ref::Reference ref_;
};

}  // namespace

Result<std::shared_ptr<Session>> NewSession(ClientOptions options) {
  if (!options.transport) options.transport = NewCurlTransport();
  if (!options.sleep)
    options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!options.clock) options.clock = [] { return std::chrono::steady_clock::now(); };
  if (options.max_attempts < 1) options.max_attempts = 1;
  ANYARCH_TRY(RegistriesConfig cfg, LoadRegistriesConfig(options.config_path));
  if (options.reporter) {
    for (const auto& w : cfg.warnings) options.reporter->Warn(w);
  }
  return std::shared_ptr<Session>(new SessionImpl(std::move(options), std::move(cfg)));
}

Result<std::unique_ptr<image::ImageSource>> OpenSource(std::shared_ptr<Session> session,
                                                       const ref::Reference& ref) {
  ANYARCH_TRY(auto reg, session->Get(ref.registry));
  return std::unique_ptr<image::ImageSource>(new RegistrySource(session, reg, ref));
}

Result<std::unique_ptr<image::ImageSink>> OpenSink(std::shared_ptr<Session> session,
                                                   const ref::Reference& ref) {
  ANYARCH_TRY(auto reg, session->Get(ref.registry));
  return std::unique_ptr<image::ImageSink>(new RegistrySink(session, reg, ref));
}

}  // namespace anyarch::registry

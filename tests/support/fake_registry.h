// An in-memory registry behind the HttpTransport interface, for unit tests only: enough of the
// distribution API (manifests, blobs with Range, uploads by PUT and PATCH, mounts, paginated tag
// lists), Basic or token auth with a token endpoint, and scripted faults (statuses, drops part way
// through a body, tampered bytes, TLS failures). It records every request so tests can assert
// what the client sent. The real client is tested against Debian's docker-registry end to end.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/strings.h"
#include "registry/http.h"

namespace anyarch::registry::testing {

struct FakeResponseData {
  long status = 200;
  Headers headers;
  std::string body;
  std::size_t drop_at = std::string::npos;  // Read fails with kUnavailable after this many bytes
};

class FakeResponse final : public HttpResponse {
 public:
  explicit FakeResponse(FakeResponseData d) : d_(std::move(d)) {}
  long status() const override { return d_.status; }
  const Headers& headers() const override { return d_.headers; }
  Result<std::size_t> Read(void* buf, std::size_t n) override {
    std::size_t end = std::min(d_.body.size(), d_.drop_at);
    if (pos_ >= end) {
      if (end < d_.body.size()) return MakeError(ErrorCode::kUnavailable, "connection reset");
      return 0;
    }
    n = std::min(n, end - pos_);
    std::memcpy(buf, d_.body.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  FakeResponseData d_;
  std::size_t pos_ = 0;
};

struct RecordedRequest {
  std::string method, url, path, query;
  std::vector<std::string> headers;
  std::string body;
  bool verify_tls = true;
  std::string Header(const std::string& name) const {
    std::string prefix = ToLower(name) + ":";
    for (const auto& h : headers) {
      if (ToLower(h.substr(0, prefix.size())) == prefix)
        return std::string(TrimSpace(h.substr(prefix.size())));
    }
    return "";
  }
};

struct Fault {
  std::string method;  // empty: any
  std::string path;    // applies to requests whose path contains this
  int left = 1;
  long status = 503;             // answer this instead (0: pass through and apply the rest)
  std::string retry_after;       // header on the answer
  bool drop_half = false;        // pass through, then cut the body in the middle
  bool tamper = false;           // pass through, one byte flipped
  bool transport_error = false;  // no answer at all (kUnavailable from Send)
};

class FakeRegistry final : public HttpTransport {
 public:
  // "https://reg.example" or "http://127.0.0.1:5000": the base this fake answers; other hosts
  // get a connection error.
  explicit FakeRegistry(std::string base) : base_(std::move(base)) {}

  // Auth: "none", "basic" or "bearer".
  std::string auth = "none";
  std::string user = "alice", password = "s3cret-pw";
  std::string realm = "https://auth.example/token";
  bool range_support = true;
  std::size_t tags_page = 0;  // > 0: paginate tag lists with Link headers
  bool https_fails = false;   // https:// requests fail as a TLS handshake on a plain server would

  std::map<std::string, std::string> blobs;  // digest -> bytes, per registry (not per repo)
  std::map<std::string, std::set<std::string>> repo_blobs;  // repo -> digests linked there
  std::map<std::string, std::pair<std::string, std::string>> manifests;  // repo@ref -> type,bytes
  std::vector<Fault> faults;
  std::vector<RecordedRequest> requests;
  std::map<std::string, std::string> uploads;  // id -> bytes so far
  int tokens_issued = 0;
  std::vector<std::string> token_scopes;  // scope params of each token request

  void AddBlob(const std::string& repo, const std::string& bytes) {
    std::string d = Sha256Of(bytes).ToString();
    blobs[d] = bytes;
    repo_blobs[repo].insert(d);
  }
  void AddManifest(const std::string& repo, const std::string& ref, const std::string& type,
                   const std::string& bytes) {
    manifests[repo + "@" + ref] = {type, bytes};
    manifests[repo + "@" + Sha256Of(bytes).ToString()] = {type, bytes};
  }
  // Requests with this method whose path contains `part` ("^/v2/$" means exactly "/v2/").
  std::size_t Count(const std::string& method, const std::string& part) const {
    std::size_t n = 0;
    for (const auto& r : requests) {
      bool match = part == "^/v2/$" ? r.path == "/v2/" : r.path.find(part) != std::string::npos;
      if (r.method == method && match) ++n;
    }
    return n;
  }

  Result<std::unique_ptr<HttpResponse>> Send(const HttpRequest& req) override {
    std::lock_guard<std::mutex> lock(mu_);
    RecordedRequest rec;
    rec.method = req.method;
    rec.url = req.url;
    rec.headers = req.headers;
    rec.verify_tls = req.tls.verify;
    if (req.body) {
      char buf[65536];
      for (;;) {
        auto n = req.body->Read(buf, sizeof buf);
        if (!n) return Unexpected(n.error());
        if (*n == 0) break;
        rec.body.append(buf, *n);
      }
    }
    std::string rest;
    if (req.url.rfind(realm, 0) == 0) {
      rest = req.url.substr(realm.size());
      rec.path = "/token";
    } else if (req.url.rfind(base_, 0) == 0) {
      rest = req.url.substr(base_.size());
      rec.path = rest.substr(0, rest.find('?'));
    } else if (https_fails && req.url.rfind("https://", 0) == 0) {
      requests.push_back(rec);
      return MakeError(ErrorCode::kIo, "TLS handshake failed: wrong version number");
    } else {
      requests.push_back(rec);
      return MakeError(ErrorCode::kUnavailable, "could not connect to " + req.url);
    }
    auto q = rest.find('?');
    rec.query = q == std::string::npos ? "" : rest.substr(q + 1);
    requests.push_back(rec);
    for (auto& f : faults) {
      if (f.left <= 0) continue;
      if (!f.method.empty() && f.method != req.method) continue;
      if (rec.path.find(f.path) == std::string::npos) continue;
      --f.left;
      if (f.transport_error) return MakeError(ErrorCode::kUnavailable, "connection refused");
      if (f.status) {
        FakeResponseData d{.status = f.status, .headers = {}, .body = "{}"};
        if (!f.retry_after.empty()) d.headers.emplace("retry-after", f.retry_after);
        return Wrap(d);
      }
      FakeResponseData d = Handle(rec);
      if (f.drop_half) d.drop_at = d.body.size() / 2;
      if (f.tamper && !d.body.empty()) d.body[d.body.size() / 2] ^= 1;
      return Wrap(d);
    }
    return Wrap(Handle(rec));
  }

 private:
  static Result<std::unique_ptr<HttpResponse>> Wrap(FakeResponseData d) {
    return std::unique_ptr<HttpResponse>(new FakeResponse(std::move(d)));
  }

  static std::string QueryParam(const std::string& query, const std::string& key) {
    for (const auto& kv : Split(query, '&')) {
      auto eq = kv.find('=');
      if (kv.substr(0, eq) == key) {
        std::string v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        std::string out;
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (v[i] == '%' && i + 2 < v.size()) {
            out.push_back(static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16)));
            i += 2;
          } else {
            out.push_back(v[i]);
          }
        }
        return out;
      }
    }
    return "";
  }

  FakeResponseData Error(long status, const std::string& code) {
    return {
        .status = status,
        .headers = {{"content-type", "application/json"}},
        .body = "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + ToLower(code) + "\"}]}"};
  }

  FakeResponseData Unauthorized(const std::string& scope) {
    FakeResponseData d = Error(401, "UNAUTHORIZED");
    if (auth == "basic") {
      d.headers.emplace("www-authenticate", "Basic realm=\"fake\"");
    } else {
      d.headers.emplace("www-authenticate", "Bearer realm=\"" + realm +
                                                "\",service=\"fake-registry\"" +
                                                (scope.empty() ? "" : ",scope=\"" + scope + "\""));
    }
    return d;
  }

  bool Authorized(const RecordedRequest& r) {
    if (auth == "none") return true;
    std::string h = r.Header("Authorization");
    if (auth == "basic") return h == "Basic " + Base64Encode(user + ":" + password);
    return h.rfind("Bearer tok-", 0) == 0;
  }

  FakeResponseData Upload(const RecordedRequest& r, const std::string& repo,
                          const std::string& id_part, const std::string& scope) {
    if (id_part.empty()) {
      if (!Authorized(r)) return Unauthorized(scope);
      std::string from = QueryParam(r.query, "from");
      std::string mount = QueryParam(r.query, "mount");
      if (!mount.empty() && repo_blobs[from].count(mount)) {
        repo_blobs[repo].insert(mount);
        return {.status = 201, .headers = {{"docker-content-digest", mount}}, .body = ""};
      }
      std::string id = std::to_string(next_upload_++);
      uploads[id] = "";
      return {.status = 202,
              .headers = {{"location", "/v2/" + repo + "/blobs/uploads/" + id}, {"range", "0-0"}},
              .body = ""};
    }
    {
      if (!Authorized(r)) return Unauthorized(scope);
      std::string id = id_part;
      if (!uploads.count(id)) return Error(404, "BLOB_UPLOAD_UNKNOWN");
      std::string& data = uploads[id];
      std::string loc = "/v2/" + repo + "/blobs/uploads/" + id;
      auto range_hdr = [&] {
        return data.empty() ? std::string("0-0") : "0-" + std::to_string(data.size() - 1);
      };
      if (r.method == "GET") {
        return {.status = 204, .headers = {{"location", loc}, {"range", range_hdr()}}, .body = ""};
      }
      if (r.method == "DELETE") {
        uploads.erase(id);
        return {.status = 204, .headers = {}, .body = ""};
      }
      if (r.method == "PATCH") {
        std::string cr = r.Header("Content-Range");
        if (!cr.empty() && std::stoull(cr) != data.size()) return Error(416, "BLOB_UPLOAD_INVALID");
        data += r.body;
        return {.status = 202, .headers = {{"location", loc}, {"range", range_hdr()}}, .body = ""};
      }
      if (r.method == "PUT") {
        data += r.body;
        std::string want = QueryParam(r.query, "digest");
        if (Sha256Of(data).ToString() != want) return Error(400, "DIGEST_INVALID");
        blobs[want] = data;
        repo_blobs[repo].insert(want);
        uploads.erase(id);
        return {.status = 201, .headers = {{"docker-content-digest", want}}, .body = ""};
      }
    }
    return Error(404, "NOT_FOUND");
  }

  FakeResponseData Handle(const RecordedRequest& r) {
    if (r.path == "/token" && r.method == "POST") {
      // OAuth2 refresh-token grant (docker's identity tokens): the password is the refresh token.
      if (QueryParam(r.body, "grant_type") != "refresh_token" ||
          QueryParam(r.body, "refresh_token") != password) {
        return Error(401, "UNAUTHORIZED");
      }
      ++tokens_issued;
      for (const auto& sc : Split(QueryParam(r.body, "scope"), ' ')) token_scopes.push_back(sc);
      return {.status = 200,
              .headers = {{"content-type", "application/json"}},
              .body = "{\"access_token\":\"tok-" + std::to_string(tokens_issued) +
                      "\",\"expires_in\":300}"};
    }
    if (r.path == "/token") {
      std::string basic = r.Header("Authorization");
      if (!basic.empty() && basic != "Basic " + Base64Encode(user + ":" + password)) {
        return Error(401, "UNAUTHORIZED");
      }
      ++tokens_issued;
      for (const auto& kv : Split(r.query, '&')) {
        if (kv.rfind("scope=", 0) == 0) token_scopes.push_back(QueryParam(kv, "scope"));
      }
      return {
          .status = 200,
          .headers = {{"content-type", "application/json"}},
          .body = "{\"token\":\"tok-" + std::to_string(tokens_issued) + "\",\"expires_in\":300}"};
    }
    if (r.path == "/v2/" || r.path == "/v2") {
      if (!Authorized(r)) return Unauthorized("");
      return {.status = 200, .headers = {}, .body = "{}"};
    }
    std::string repo;
    bool push = r.method != "GET" && r.method != "HEAD";
    auto scope_for = [&](const std::string& rp) {
      return "repository:" + rp + (push ? ":pull,push" : ":pull");
    };
    // Routes: /v2/<repo>/manifests/<ref>, /blobs/<digest>, /blobs/uploads/[<id>], /tags/list.
    auto split = [&](const std::string& marker, std::string& tail) {
      auto at = r.path.rfind(marker);
      if (r.path.rfind("/v2/", 0) != 0 || at == std::string::npos || at < 4) return false;
      repo = r.path.substr(4, at - 4);
      tail = r.path.substr(at + marker.size());
      return true;
    };
    std::string tail;
    if (split("/manifests/", tail) && !tail.empty() && tail.find('/') == std::string::npos) {
      if (!Authorized(r)) return Unauthorized(scope_for(repo));
      std::string key = repo + "@" + tail;
      if (r.method == "PUT") {
        AddManifest(repo, tail, r.Header("Content-Type"), r.body);
        return {.status = 201,
                .headers = {{"docker-content-digest", Sha256Of(r.body).ToString()}},
                .body = ""};
      }
      auto it = manifests.find(key);
      if (it == manifests.end()) return Error(404, "MANIFEST_UNKNOWN");
      FakeResponseData d{
          .status = 200,
          .headers = {{"content-type", it->second.first},
                      {"docker-content-digest", Sha256Of(it->second.second).ToString()},
                      {"content-length", std::to_string(it->second.second.size())}},
          .body = r.method == "HEAD" ? "" : it->second.second};
      return d;
    }
    if (split("/blobs/uploads/", tail)) {
      return Upload(r, repo, tail, scope_for(repo));
    }
    if (split("/blobs/", tail) && tail.rfind("sha256:", 0) == 0) {
      if (!Authorized(r)) return Unauthorized(scope_for(repo));
      std::string d = tail;
      if (!repo_blobs[repo].count(d)) return Error(404, "BLOB_UNKNOWN");
      const std::string& bytes = blobs[d];
      std::string range = r.Header("Range");
      if (!range.empty() && range_support && r.method == "GET") {
        std::size_t start = std::stoull(range.substr(range.find('=') + 1));
        return {.status = 206,
                .headers = {{"content-range", "bytes " + std::to_string(start) + "-" +
                                                  std::to_string(bytes.size() - 1) + "/" +
                                                  std::to_string(bytes.size())}},
                .body = bytes.substr(start)};
      }
      return {.status = 200,
              .headers = {{"content-length", std::to_string(bytes.size())},
                          {"docker-content-digest", d}},
              .body = r.method == "HEAD" ? "" : bytes};
    }
    if (split("/tags/list", tail) && tail.empty()) {
      if (!Authorized(r)) return Unauthorized(scope_for(repo));
      std::vector<std::string> tags;
      for (const auto& [k, v] : manifests) {
        if (k.rfind(repo + "@", 0) == 0 && k.find("sha256:") == std::string::npos)
          tags.push_back(k.substr(repo.size() + 1));
      }
      std::size_t start = 0;
      std::string last = QueryParam(r.query, "last");
      if (!last.empty()) {
        while (start < tags.size() && tags[start] <= last) ++start;
      }
      std::size_t end = tags_page ? std::min(tags.size(), start + tags_page) : tags.size();
      std::string body = "{\"name\":\"" + repo + "\",\"tags\":[";
      for (std::size_t i = start; i < end; ++i) body += (i > start ? ",\"" : "\"") + tags[i] + "\"";
      body += "]}";
      FakeResponseData d{.status = 200, .headers = {}, .body = body};
      if (end < tags.size()) {
        d.headers.emplace("link", "</v2/" + repo + "/tags/list?last=" + tags[end - 1] +
                                      "&n=" + std::to_string(tags_page) + ">; rel=\"next\"");
      }
      return d;
    }
    return Error(404, "NOT_FOUND");
  }

  std::string base_;
  std::mutex mu_;
  int next_upload_ = 1;
};

}  // namespace anyarch::registry::testing

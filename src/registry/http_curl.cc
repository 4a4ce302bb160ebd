// The libcurl HttpTransport. Each request runs on an easy handle inside its own multi handle, so
// that the response body can be pulled by the caller (Read) instead of pushed by curl: the
// caller's thread drives the transfer, and the write callback pauses the transfer when more than
// a small window of unread bytes is waiting. Handles are pooled: a finished transfer leaves its
// connection in its multi handle's cache, and the next request on that pair reuses it.
//
// Traps handled: "Expect: 100-continue" is turned off (a needless round trip per upload);
// Authorization headers are never sent to another host after a redirect (blob storage; libcurl
// drops custom Authorization headers when the host or port changes); a body we read for an
// upload can fail (digest mismatch), and that error is what the caller sees. A lying server is
// bounded: at most 256 KiB of headers per response, 5 redirects (a loop is not retried), an
// optional deadline per request (token servers), and 60 s without a byte ends any transfer.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "base/fs.h"
#include "base/strings.h"
#include "registry/http.h"

namespace anyarch::registry {

std::string HeaderValue(const Headers& headers, const std::string& lower_name) {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

constexpr std::size_t kWindow = 1 << 20;  // unread bytes held before the transfer pauses
constexpr long kBufferSize = 256 * 1024;
// Response headers of one response, all lines together. Registries send a few KiB; more than
// this is a server trying to exhaust memory (curl only limits a single line, to 100 KiB).
constexpr std::size_t kMaxHeaderBytes = 256 * 1024;
constexpr long kMaxRedirects = 5;

struct Pair {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  ~Pair() {
    if (easy) curl_easy_cleanup(easy);
    if (multi) curl_multi_cleanup(multi);
  }
};

class CurlTransport;

class CurlResponse final : public HttpResponse {
 public:
  CurlResponse(std::shared_ptr<CurlTransport> owner, std::unique_ptr<Pair> pair)
      : owner_(std::move(owner)), pair_(std::move(pair)) {}
  ~CurlResponse() override;

  long status() const override { return status_; }
  const Headers& headers() const override { return headers_; }

  Result<std::size_t> Read(void* out, std::size_t size) override {
    while (off_ == buf_.size()) {
      buf_.clear();
      off_ = 0;
      if (done_) {
        if (result_ != CURLE_OK) {
          return MakeError(
              ErrorCode::kUnavailable,
              "connection to " + host_ + " ended before the end of the body: " + CurlMessage());
        }
        return 0;
      }
      if (paused_) {
        paused_ = false;
        curl_easy_pause(pair_->easy, CURLPAUSE_CONT);  // may deliver the held data at once
        continue;
      }
      Pump();
    }
    std::size_t n = std::min(size, buf_.size() - off_);
    std::memcpy(out, buf_.data() + off_, n);
    off_ += n;
    return n;
  }

  // Sets up the transfer; returns the error that stopped it before a response, if any.
  Status Start(const HttpRequest& req, const std::string& ca_blob);

 private:
  friend class CurlTransport;

  static std::size_t WriteCb(char* ptr, std::size_t size, std::size_t n, void* ud) {
    auto* self = static_cast<CurlResponse*>(ud);
    std::size_t len = size * n;
    if (self->buf_.size() - self->off_ >= kWindow) {
      self->paused_ = true;
      return CURL_WRITEFUNC_PAUSE;
    }
    if (self->off_ > 0 && self->off_ == self->buf_.size()) {
      self->buf_.clear();
      self->off_ = 0;
    }
    self->buf_.append(ptr, len);
    self->body_started_ = true;
    return len;
  }

  static std::size_t ReadCb(char* out, std::size_t size, std::size_t n, void* ud) {
    auto* self = static_cast<CurlResponse*>(ud);
    auto got = self->upload_->Read(out, size * n);
    if (!got) {
      self->upload_error_ = std::move(got.error());
      return CURL_READFUNC_ABORT;
    }
    return *got;
  }

  static std::size_t HeaderCb(char* ptr, std::size_t size, std::size_t n, void* ud) {
    auto* self = static_cast<CurlResponse*>(ud);
    std::string_view line(ptr, size * n);
    if (line.rfind("HTTP/", 0) == 0) {
      // A new response: after a redirect or a 100 Continue, the earlier headers do not count.
      self->headers_.clear();
      self->header_bytes_ = 0;
      auto sp = line.find(' ');
      self->status_ = sp == std::string_view::npos ? 0 : std::atol(line.substr(sp + 1).data());
      return size * n;
    }
    self->header_bytes_ += line.size();
    if (self->header_bytes_ > kMaxHeaderBytes) {
      self->headers_too_large_ = true;
      return 0;  // curl aborts the transfer (CURLE_WRITE_ERROR)
    }
    std::string_view trimmed = TrimSpace(line);
    if (trimmed.empty()) {
      bool redirect =
          self->status_ >= 300 && self->status_ < 400 && self->headers_.count("location") != 0;
      if (self->status_ >= 200 && !redirect) self->headers_done_ = true;
      return size * n;
    }
    auto colon = trimmed.find(':');
    if (colon != std::string_view::npos) {
      self->headers_.emplace(ToLower(TrimSpace(trimmed.substr(0, colon))),
                             std::string(TrimSpace(trimmed.substr(colon + 1))));
    }
    return size * n;
  }

  // Runs curl until something happens (data, headers, the end) or a second passes.
  void Pump() {
    int running = 0;
    curl_multi_perform(pair_->multi, &running);
    Collect();
    if (done_ || (off_ < buf_.size())) return;
    curl_multi_poll(pair_->multi, nullptr, 0, 1000, nullptr);
    curl_multi_perform(pair_->multi, &running);
    Collect();
  }

  void Collect() {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(pair_->multi, &queued)) {
      if (msg->msg == CURLMSG_DONE) {
        done_ = true;
        result_ = msg->data.result;
        long code = 0;
        curl_easy_getinfo(pair_->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code) status_ = code;
      }
    }
  }

  std::string CurlMessage() const {
    std::string m = errbuf_[0] ? std::string(errbuf_) : curl_easy_strerror(result_);
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
    return m;
  }

  std::shared_ptr<CurlTransport> owner_;  // keeps the pool alive while a response is read
  std::unique_ptr<Pair> pair_;
  curl_slist* header_list_ = nullptr;
  std::string host_;
  Reader* upload_ = nullptr;
  std::optional<Error> upload_error_;
  long status_ = 0;
  Headers headers_;
  bool headers_done_ = false;
  bool headers_too_large_ = false;
  std::size_t header_bytes_ = 0;
  bool body_started_ = false;
  bool done_ = false;
  bool paused_ = false;
  CURLcode result_ = CURLE_OK;
  std::string buf_;
  std::size_t off_ = 0;
  char errbuf_[CURL_ERROR_SIZE] = {0};
};

class CurlTransport final : public HttpTransport,
                            public std::enable_shared_from_this<CurlTransport> {
 public:
  CurlTransport() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<std::unique_ptr<HttpResponse>> Send(const HttpRequest& req) override {
    std::string ca_blob;
    if (!req.tls.ca_files.empty()) {
      ANYARCH_TRY(ca_blob, CaBlob(req.tls.ca_files));
    }
    auto resp = std::make_unique<CurlResponse>(shared_from_this(), Acquire());
    ANYARCH_CHECK(resp->Start(req, ca_blob));
    while (!resp->headers_done_ && !resp->body_started_ && !resp->done_) resp->Pump();
    if (resp->upload_error_) return Unexpected(std::move(*resp->upload_error_));
    if (resp->headers_too_large_) {
      return MakeError(ErrorCode::kInvalid, resp->host_ + " sent more than " +
                                                std::to_string(kMaxHeaderBytes / 1024) +
                                                " KiB of response headers; refusing the answer");
    }
    if (resp->done_ && resp->result_ != CURLE_OK && !resp->headers_done_) {
      std::string what = resp->CurlMessage();
      switch (resp->result_) {
        case CURLE_PEER_FAILED_VERIFICATION:
          // Not retriable: the same certificate will be presented next time.
          return MakeError(ErrorCode::kIo, "the TLS certificate of " + resp->host_ +
                                               " is not trusted (" + what + ")");
        case CURLE_TOO_MANY_REDIRECTS:
          // A loop (or a very long chain) ends the same way every time: not retriable.
          return MakeError(ErrorCode::kIo, resp->host_ + " redirected more than " +
                                               std::to_string(kMaxRedirects) +
                                               " times (a redirect loop?)");
        case CURLE_OPERATION_TIMEDOUT:
          if (req.timeout.count() > 0) {
            return MakeError(ErrorCode::kUnavailable,
                             resp->host_ + " did not answer within " +
                                 std::to_string(req.timeout.count() / 1000) + " s");
          }
          return MakeError(ErrorCode::kUnavailable, resp->host_ + ": " + what);
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
          return MakeError(ErrorCode::kIo, resp->host_ + ": " + what);
        default:
          return MakeError(ErrorCode::kUnavailable, resp->host_ + ": " + what);
      }
    }
    return std::unique_ptr<HttpResponse>(std::move(resp));
  }

  void Release(std::unique_ptr<Pair> pair, bool reusable) {
    if (!reusable) return;  // the pair (and its half-read connection) is destroyed
    curl_easy_reset(pair->easy);
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < 32) idle_.push_back(std::move(pair));
  }

 private:
  std::unique_ptr<Pair> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto p = std::move(idle_.back());
        idle_.pop_back();
        return p;
      }
    }
    auto p = std::make_unique<Pair>();
    p->multi = curl_multi_init();
    p->easy = curl_easy_init();
    return p;
  }

  // The extra CAs as one PEM blob (read once per set of files).
  Result<std::string> CaBlob(const std::vector<std::string>& files) {
    std::string key = Join(files, "\n");
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ca_cache_.find(key);
    if (it != ca_cache_.end()) return it->second;
    std::string blob;
    for (const auto& f : files) {
      auto pem = ReadFile(f, 4 << 20);
      if (!pem) return Unexpected(std::move(pem.error()).With("reading CA file " + f));
      blob += *pem;
      blob += "\n";
    }
    ca_cache_[key] = blob;
    return blob;
  }

  std::mutex mu_;
  std::vector<std::unique_ptr<Pair>> idle_;
  std::map<std::string, std::string> ca_cache_;
};

CurlResponse::~CurlResponse() {
  curl_multi_remove_handle(pair_->multi, pair_->easy);
  if (header_list_) curl_slist_free_all(header_list_);
  owner_->Release(std::move(pair_), done_ && result_ == CURLE_OK);
}

Status CurlResponse::Start(const HttpRequest& req, const std::string& ca_blob) {
  CURL* c = pair_->easy;
  auto scheme_end = req.url.find("://");
  host_ = scheme_end == std::string::npos ? req.url : req.url.substr(scheme_end + 3);
  host_ = host_.substr(0, host_.find('/'));
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  for (const auto& h : req.headers) header_list_ = curl_slist_append(header_list_, h.c_str());
  header_list_ = curl_slist_append(header_list_, "Expect:");
  if (req.body) {
    upload_ = req.body;
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadCb);
    curl_easy_setopt(c, CURLOPT_READDATA, this);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_size));
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, kBufferSize);
  } else if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    header_list_ = curl_slist_append(header_list_, "Content-Length: 0");
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list_);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteCb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, HeaderCb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, kBufferSize);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  if (req.timeout.count() > 0)
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "anyarch/0.1");
  if (!req.tls.verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!ca_blob.empty()) {
    curl_blob blob{const_cast<char*>(ca_blob.data()), ca_blob.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!req.tls.client_cert.empty())
    curl_easy_setopt(c, CURLOPT_SSLCERT, req.tls.client_cert.c_str());
  if (!req.tls.client_key.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, req.tls.client_key.c_str());
  if (curl_multi_add_handle(pair_->multi, c) != CURLM_OK) {
    return MakeError(ErrorCode::kInternal, "libcurl refused a request to " + host_);
  }
  return Ok();
}

}  // namespace

std::shared_ptr<HttpTransport> NewCurlTransport() { return std::make_shared<CurlTransport>(); }

}  // namespace anyarch::registry

// The HTTP side effect of the registry client, behind a small interface so that unit tests can
// run the whole client (auth, retries, uploads, pagination) against an in-memory fake, and the
// real thing runs on libcurl.
//
// A request's response is a stream: Send() returns once the status line and headers of the final
// response are in (redirects are followed), and the body is pulled with Read(). Nothing is
// buffered beyond a small window, so a multi-GiB blob costs the same memory as a small one.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/io.h"

namespace anyarch::registry {

struct TlsOptions {
  bool verify = true;                   // check the server certificate and host name
  std::vector<std::string> ca_files;    // PEM files trusted in addition to the system roots
  std::string client_cert, client_key;  // optional client certificate (PEM files)
};

// Header names are kept lower-case; a header may repeat (WWW-Authenticate, Link).
using Headers = std::multimap<std::string, std::string>;

// The first value of a header, or "".
std::string HeaderValue(const Headers& headers, const std::string& lower_name);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // The request body, read to its end while sending (not owned). Null: no body.
  Reader* body = nullptr;
  std::int64_t body_size = 0;  // exact length of `body`
  TlsOptions tls;
  // The whole exchange must be over within this (0: no deadline, only the 60 s stall limit).
  // kUnavailable when it is not.
  std::chrono::milliseconds timeout{0};
};

// The body is read through Reader::Read: 0 at its end, kUnavailable when the connection drops
// before the end. ReadAll (base/io.h) reads a small body whole.
class HttpResponse : public Reader {
 public:
  virtual long status() const = 0;
  virtual const Headers& headers() const = 0;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends the request and waits for the final response's headers. kUnavailable when no response
  // came (refused, reset, timed out, TLS handshake failed); the message says which. An error from
  // reading the request body (e.g. a digest mismatch of a streamed blob) is returned as it is.
  virtual Result<std::unique_ptr<HttpResponse>> Send(const HttpRequest& request) = 0;
};

// The libcurl transport. Connections are kept alive and reused across requests and threads.
std::shared_ptr<HttpTransport> NewCurlTransport();

}  // namespace anyarch::registry

#include "build/fetch.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include "base/fs.h"
#include "base/strings.h"
#include "registry/http.h"

namespace anyarch::build {

namespace {

std::string Scheme(const std::string& s) {
  auto p = s.find("://");
  return p == std::string::npos ? "" : ToLower(s.substr(0, p));
}

// The path part of an http(s) URL ("" when it has none), without query or fragment.
std::string UrlPath(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return "";
  auto slash = url.find('/', start + 3);
  if (slash == std::string::npos) return "";
  auto end = url.find_first_of("?#", slash);
  return url.substr(slash, end == std::string::npos ? std::string::npos : end - slash);
}

}  // namespace

bool IsUrl(const std::string& source) {
  auto p = source.find("://");
  if (p == std::string::npos || p == 0) return false;
  // A scheme is letters, digits, '+', '-', '.', starting with a letter (RFC 3986); anything else
  // before "://" is a path that happens to contain it.
  if (!std::isalpha(static_cast<unsigned char>(source[0]))) return false;
  for (std::size_t i = 0; i < p; ++i) {
    char c = source[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return false;
  }
  return true;
}

bool IsHttpUrl(const std::string& source) {
  std::string s = Scheme(source);
  return IsUrl(source) && (s == "http" || s == "https");
}

std::string ShownUrl(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return url;
  std::string rest = url.substr(start + 3);
  auto cut = rest.find_first_of("?#");
  if (cut != std::string::npos) rest = rest.substr(0, cut);
  auto slash = rest.find('/');
  auto at = rest.rfind('@', slash);
  if (at != std::string::npos) rest = rest.substr(at + 1);
  return url.substr(0, start + 3) + rest;
}

std::string UrlFileName(const std::string& url) {
  std::string path = UrlPath(url);
  while (!path.empty() && path.back() == '/') path.pop_back();
  auto slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") return "__unnamed__";
  return base;
}

std::optional<std::int64_t> ParseHttpDate(const std::string& text) {
  // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT",
  // asctime "Sun Nov  6 08:49:37 1994".
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), format, &tm);
    if (end && *end == '\0') return static_cast<std::int64_t>(::timegm(&tm));
  }
  return std::nullopt;
}

Fetcher::Fetcher(const SnapshotStore& snapshots, const std::atomic<bool>* cancel)
    : snapshots_(snapshots), cancel_(cancel) {}

Result<Fetched> Fetcher::Fetch(const std::string& url, const std::string& checksum) {
  const std::string shown = ShownUrl(url);
  if (!IsHttpUrl(url))
    return MakeError(ErrorCode::kInvalid, "ADD of " + shown +
                                              ": only http:// and https:// URLs are fetched (" +
                                              Scheme(url) + " sources are not supported)");
  std::optional<Digest> want;
  if (!checksum.empty()) {
    auto d = Digest::Parse(checksum);
    if (!d || d->algorithm() != "sha256")
      return MakeError(
          ErrorCode::kInvalid,
          "--checksum=" + checksum + " must be a sha256 digest (sha256:<64 hex digits>)");
    want = *d;
  }
  std::shared_future<Result<Fetched>> future;
  std::optional<std::promise<Result<Fetched>>> mine;
  std::size_t index = 0;
  {
    std::lock_guard lock(mu_);
    auto it = downloads_.find(url);
    if (it != downloads_.end()) {
      future = it->second;
    } else {
      mine.emplace();
      future = mine->get_future().share();
      index = downloads_.size();
      downloads_.emplace(url, future);
    }
  }
  if (mine) mine->set_value(Download(url, index));
  Result<Fetched> got = future.get();
  if (!got) return got;
  if (want && got->digest != *want)
    return MakeError(ErrorCode::kDigestMismatch,
                     "ADD " + shown + ": the download does not match --checksum: expected " +
                         want->ToString() + ", got " + got->digest.ToString());
  return got;
}

Result<Fetched> Fetcher::Download(const std::string& url, std::size_t index) {
  const std::string shown = ShownUrl(url);
  {
    std::lock_guard lock(mu_);
    if (!dir_) {
      ANYARCH_TRY(Scratch s, snapshots_.NewScratch());
      dir_ = std::move(s);
    }
  }
  static std::shared_ptr<registry::HttpTransport> transport = registry::NewCurlTransport();
  registry::HttpRequest req;
  req.url = url;
  auto resp = transport->Send(req);
  if (!resp) return Unexpected(std::move(resp.error()).With("ADD " + shown));
  long status = (*resp)->status();
  if (status != 200) {
    ErrorCode code =
        status == 404 || status == 410 ? ErrorCode::kNotFound : ErrorCode::kUnavailable;
    return MakeError(code, "ADD " + shown + ": the server answered HTTP " + std::to_string(status));
  }
  Fetched out;
  out.name = UrlFileName(url);
  out.path = (dir_->dir.path() / ("download-" + std::to_string(index))).string();
  if (auto lm = registry::HeaderValue((*resp)->headers(), "last-modified"); !lm.empty())
    out.mtime = ParseHttpDate(lm).value_or(0);
  UniqueFd fd(::open(out.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Unexpected(ErrnoError(errno, out.path));
  Sha256 hash;
  char buf[1 << 16];
  for (;;) {
    if (cancel_ && cancel_->load())
      return MakeError(ErrorCode::kCancelled, "ADD " + shown + ": the build was stopped");
    auto n = (*resp)->Read(buf, sizeof buf);
    if (!n) return Unexpected(std::move(n.error()).With("ADD " + shown));
    if (*n == 0) break;
    hash.Update(buf, *n);
    for (std::size_t off = 0; off < *n;) {
      ssize_t w = ::write(fd.get(), buf + off, *n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Unexpected(ErrnoError(errno, "writing the download of " + shown));
      off += static_cast<std::size_t>(w);
    }
    out.size += *n;
  }
  out.digest = hash.Finish();
  return out;
}

}  // namespace anyarch::build

// ADD's remote sources: `ADD https://host/path/file /dest/`. A URL is downloaded once per build,
// however many platforms or stages name it, into the build's temporary directory under the store,
// and its content digest goes into the step's cache key (so a changed file is a cache miss and an
// unchanged one a hit, as BuildKit's HTTP source does).
//
// What the file becomes, as BuildKit's Dockerfile frontend makes it:
// - its name is the last segment of the URL's path ("__unnamed__" when there is none); the
//   destination is that name inside a directory destination, else the destination itself;
// - mode 0600 unless --chmod, owned by 0:0 unless --chown; never unpacked, even when it is an
//   archive;
// - its mtime is the response's Last-Modified, or the Unix epoch when there is none.
//
// Traps handled: only http:// and https:// are fetched (git and other schemes are refused by
// name); TLS is verified; redirects are followed (at most 5, by the HTTP layer) and no credential
// is ever sent; a status other than 200 is an error naming the URL and the status; --checksum
// (sha256:HEX) is compared once the body is complete, and a mismatch fails the step with both
// digests; the body is streamed to disk and hashed on the way, never held in memory; a build
// that is cancelled stops the download; and the URL is shown without its userinfo or query.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/digest.h"
#include "base/error.h"
#include "build/snapshots.h"

namespace anyarch::build {

struct Fetched {
  std::string path;  // the downloaded file (kept until the Fetcher is destroyed)
  std::string name;  // the file name ADD gives it
  Digest digest;     // sha256 of the content
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch (Last-Modified, else 0)
};

// True for a source ADD fetches (any "scheme://"); IsHttpUrl for the ones anyarch can fetch.
bool IsUrl(const std::string& source);
bool IsHttpUrl(const std::string& source);

// The URL as messages show it: no user:password@, no query string.
std::string ShownUrl(const std::string& url);

// The name ADD gives a download: the URL path's last segment, or "__unnamed__".
std::string UrlFileName(const std::string& url);

// An HTTP-date (RFC 9110: IMF-fixdate, and the obsolete RFC 850 and asctime forms) as seconds
// since the epoch; nullopt when it is none of them.
std::optional<std::int64_t> ParseHttpDate(const std::string& text);

class Fetcher {
 public:
  // Downloads go into a scratch directory of `snapshots` (removed with the Fetcher).
  Fetcher(const SnapshotStore& snapshots, const std::atomic<bool>* cancel);

  // The URL's file, downloading it on the first call (concurrent callers for one URL wait for
  // the same download). `checksum` is "" or "sha256:HEX". Errors: kInvalid for a scheme other
  // than http(s) or a malformed checksum; kNotFound for a 404 or 410; kUnavailable when the
  // server cannot be reached or answers another status; kDigestMismatch for a wrong --checksum;
  // kCancelled when the build is stopped.
  Result<Fetched> Fetch(const std::string& url, const std::string& checksum);

 private:
  Result<Fetched> Download(const std::string& url, std::size_t index);

  const SnapshotStore& snapshots_;
  const std::atomic<bool>* cancel_;
  std::mutex mu_;
  std::optional<Scratch> dir_;
  std::map<std::string, std::shared_future<Result<Fetched>>> downloads_;
};

}  // namespace anyarch::build

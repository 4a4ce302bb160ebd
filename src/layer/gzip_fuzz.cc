// libFuzzer target: a blob through Decompress() (gzip by igzip, layer/gzip_reader.h), read to its
// end in reads of varying size. Differential check: when zlib decodes the blob as gzip members
// back to back that end exactly at its end, our bytes must be zlib's; when ours decodes it,
// zlib must not have found it corrupt before its end (trailing non-gzip bytes aside).
// Read sizes come from the first byte, so split headers and members are covered.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/io.h"
#include "layer/gzip_reader.h"
#include "layer/tar_stream.h"

namespace {

// zlib over concatenated members; nothing when it fails or when bytes follow the last member.
std::optional<std::string> ZlibMembers(const std::string& in) {
  std::string out;
  std::size_t pos = 0;
  while (pos < in.size()) {
    z_stream z{};
    if (inflateInit2(&z, 31) != Z_OK) return std::nullopt;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    z.avail_in = static_cast<uInt>(in.size() - pos);
    char buf[65536];
    int rc = Z_OK;
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
      if (out.size() > (64u << 20)) rc = Z_MEM_ERROR;
    }
    pos = in.size() - z.avail_in;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) return std::nullopt;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 97;
  const std::string blob(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!anyarch::layer::IsGzipMagic(blob)) return 0;  // not gzip: libarchive's, fuzzed elsewhere
  anyarch::StringReader in(blob);
  auto r = anyarch::layer::Decompress(in);
  if (!r) return 0;
  std::string ours;
  bool ok = true;
  char buf[128];
  for (;;) {
    auto n = (*r)->Read(buf, chunk);
    if (!n) {
      ok = false;
      break;
    }
    if (*n == 0) break;
    ours.append(buf, *n);
    if (ours.size() > (64u << 20)) return 0;  // a bomb: the unpacker's limits deal with it
  }
  auto theirs = ZlibMembers(blob);
  if (theirs && (!ok || ours != *theirs)) __builtin_trap();
  return 0;
}

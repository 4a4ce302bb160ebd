// gzip members made by zlib, for unit tests that need compressed input from a writer other than
// anyarch's own (layer/parallel_gzip.h). Test-only: linked through anyarch_test_support.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <string_view>

namespace anyarch::fixtures {

// One gzip member (RFC 1952) of `data` at zlib `level`, as registries serve layers. With
// `all_header_fields`, the header also has FEXTRA, FNAME, FCOMMENT and FHCRC, which other tools
// write and anyarch's writer never does.
inline std::string Gzip(std::string_view data, int level = 6, bool all_header_fields = false) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  gz_header h{};
  std::string extra = "xy", name = "layer.tar", comment = "a comment";
  if (all_header_fields) {
    h.extra = reinterpret_cast<Bytef*>(extra.data());
    h.extra_len = static_cast<uInt>(extra.size());
    h.name = reinterpret_cast<Bytef*>(name.data());
    h.comment = reinterpret_cast<Bytef*>(comment.data());
    h.hcrc = 1;
    EXPECT_EQ(deflateSetHeader(&z, &h), Z_OK);
  }
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace anyarch::fixtures

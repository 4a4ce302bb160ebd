// gzip decompression by ISA-L's igzip, for every gzip layer anyarch reads (unpack, verify, cache
// import). Measured on one core with a 130 MiB layer of 304 MiB (/usr/share files, written by
// our own igzip level 1): igzip 0.75-0.79 s, zlib 1.84-1.86 s. zlib's inflate was 62% of the
// CPU time of unpacking such a base image (perf), so this is where unpacking spends least now.
//
// Traps handled:
// - Several members one after the other (`cat a.gz b.gz`): gzip -d and Go's reader read them
//   all, and so does this; the output is their concatenation.
// - Bytes after the last member that do not start another one are read to the end and
//   ignored, as libarchive did before: the blob's digest (a VerifyingReader underneath) still
//   covers them.
// - Each member's CRC-32 is checked (igzip's gzip mode parses the header, FEXTRA, FNAME,
//   FCOMMENT and FHCRC included, and checks the trailer); a member cut short is kInvalid.
// - igzip 2.30 (Debian 12) rejects a good FHCRC when the header reaches it in pieces: each
//   member starts with a full input buffer, so a header under 256 KiB comes whole.
// - An error of the underlying reader wins over a decoding error: corrupt bytes are reported as
//   the digest mismatch they cause, which names the blob.
// - A member that makes no progress (hostile input) ends in an error, never a loop.
#pragma once

#include <memory>
#include <string>

#include "base/io.h"

namespace anyarch::layer {

// True for the two bytes every gzip member starts with.
bool IsGzipMagic(const std::string& head);

// Decompresses the gzip stream `head` + the rest of `in` (head: the bytes a caller already read
// from `in` to tell the format). `in` must outlive the reader, which reads it to its end.
std::unique_ptr<Reader> NewGzipReader(Reader& in, std::string head);

}  // namespace anyarch::layer

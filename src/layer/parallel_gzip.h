// gzip on every core, as pigz does: the stream is cut into fixed 1 MiB chunks, each compressed
// on a worker into raw deflate blocks that end with a sync flush (byte-aligned, BFINAL clear; the
// last chunk ends the stream), and the pieces are written in order between one gzip
// header and one trailer whose CRC-32 is combined from the chunks' (crc32_combine). Unlike
// pigz, a chunk is not primed with the previous one's last 32 KiB, so workers need nothing from
// each other; that costs well under 1% in size at this chunk size.
//
// Traps handled:
// - One gzip member, not a series: Python's tarfile in stream mode ("r|gz") and other readers
//   stop after the first member, so concatenated members (which gzip -d and Go accept) would be
//   read as a truncated layer.
// - Reproducibility: the bytes depend only on the input and the level, never on the number of
//   threads or on how Write() calls are split, so `--source-date-epoch` builds give the same
//   digest on a 2-core laptop and a 64-core CI runner. The header has no mtime and no name.
// - Memory: at most 2 x threads chunks (input plus output) are in flight; Write() blocks when
//   the workers are behind, so a multi-GiB layer costs a few MiB.
// - An empty stream is still a valid gzip file (header, one empty final block, trailer).
//
// The deflate engine, picked by figures (one core, 1 MiB chunks of a 256 MiB tar of
// /usr/lib/x86_64-linux-gnu and /usr/share/doc, on the 2-core CI kind while loaded):
//   zlib -6 19.5 MB/s ratio 0.343 | zlib -1 54.6 MB/s 0.380 | libdeflate -6 52.2 MB/s 0.339 |
//   ISA-L igzip -1 383 MB/s 0.392 | igzip -3 298 MB/s 0.381.
// The default level is igzip's 1: about 20 times zlib's default speed for 14% more bytes, so a
// layer commit is bound by the disk, not by deflate. libdeflate compresses whole buffers only
// and always ends them with a final block, which cannot make one member out of chunks. An
// explicit level (0 to 9) uses zlib at that level, for those who want the smallest layers.
#pragma once

#include <memory>

#include "base/error.h"
#include "layer/compress.h"

namespace anyarch::layer {

inline constexpr std::size_t kGzipChunk = 1 << 20;

// A gzip sink writing into `next` with `threads` workers (<= 1: in the caller's thread). `level`
// -1 is igzip's level 1, 0 to 9 zlib's. kInternal when the compressor cannot be set up.
Result<std::unique_ptr<ByteSink>> NewParallelGzip(ByteSink& next, int level, int threads);

}  // namespace anyarch::layer

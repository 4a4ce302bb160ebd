// gzip on every core, as pigz does: the stream is cut into fixed 1 MiB chunks, each compressed
// by zlib on a worker into raw deflate blocks that end with a sync flush (byte-aligned, BFINAL
// clear; the last chunk ends the stream), and the pieces are written in order between one gzip
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
#pragma once

#include <memory>

#include "base/error.h"
#include "layer/compress.h"

namespace anyarch::layer {

inline constexpr std::size_t kGzipChunk = 1 << 20;

// A gzip sink writing into `next` with `threads` workers (<= 1: in the caller's thread). `level`
// is zlib's (0 to 9; -1: 6). kInternal when zlib cannot be set up.
Result<std::unique_ptr<ByteSink>> NewParallelGzip(ByteSink& next, int level, int threads);

}  // namespace anyarch::layer

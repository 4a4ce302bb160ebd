// gzip on every core: the stream is cut into fixed 1 MiB chunks, each compressed by libdeflate
// into a complete gzip member of its own (RFC 1952 section 2.2: a gzip file is a series of
// members), and the members are written in order. pigz gets its parallelism by priming each
// block with the previous one's last 32 KiB; independent members cost under 0.5% in size at
// this chunk size and need no dictionary hand-off between threads.
//
// Traps handled:
// - Reproducibility: the bytes depend only on the input and the level, never on the number of
//   threads or on how Write() calls are split, so `--source-date-epoch` builds give the same
//   digest on a 2-core laptop and a 64-core CI runner.
// - Readers: every gzip reader anyarch's users have reads multi-member files: `gzip -d`, zlib
//   with inflateReset per member, Go's compress/gzip (multistream is its default: containerd,
//   docker, skopeo, buildah), Python's gzip/tarfile and libarchive.
// - Memory: at most 2 x threads chunks (input plus output) are in flight; Write() blocks when
//   the workers are behind, so a multi-GiB layer costs a few MiB.
// - An empty stream is still one (empty) gzip member, as `gzip` writes for an empty file.
#pragma once

#include <memory>

#include "base/error.h"
#include "layer/compress.h"

namespace anyarch::layer {

inline constexpr std::size_t kGzipChunk = 1 << 20;

// A gzip sink writing into `next` with `threads` workers (<= 1: in the caller's thread). `level`
// is libdeflate's (0 to 12; -1: 6). kInternal when libdeflate cannot be set up.
Result<std::unique_ptr<ByteSink>> NewParallelGzip(ByteSink& next, int level, int threads);

}  // namespace anyarch::layer

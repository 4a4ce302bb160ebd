// Applying image layers to a directory, securely (OCI image-spec layer.md, changesets).
//
// Nothing is ever written outside the target directory, whatever the tar holds:
// - every parent directory is opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so
//   ".." and absolute symlinks (in this layer or an earlier one) resolve inside the target, as
//   they would inside the container;
// - the last component is created, never followed: an existing file or symlink is unlinked
//   first, and files are opened with O_CREAT | O_EXCL | O_NOFOLLOW;
// - paths with ".." components are refused (layer/tar_stream.h);
// - hard links must point at something inside the target (resolved the same way, linked
//   without following a final symlink);
// - device nodes are never created (skipped and counted): a layer can never give a container a
//   host device; fifos are created.
// - depth is not an attack: missing parent directories are created however deep the path (up
//   to PATH_MAX), resolved component by component inside the target (base/in_root.h); only
//   symlink chains are bounded (40, as the kernel bounds them);
// - sparse entries (GNU sparse 0.0, 0.1, 1.0 in PAX headers, old GNU 'S') become sparse files:
//   only the stored extents are written, the holes are never zeros on disk, so a 288-byte layer
//   claiming a 1 TiB file costs nothing;
// - the bytes actually written are charged against the free space of the target's filesystem:
//   the unpack stops (kIo) before it would leave less than kFreeSpaceMargin free, whatever the
//   compression ratio (a gzip of zeros) or the sizes the headers declare.
// Whiteouts remove a path; an opaque marker empties a directory of what earlier layers put there.
//
// Entries keep their times and extended attributes, as Docker and containerd apply them:
// - every entry but a hard link (which shares its target's inode) gets the header's mtime, as
//   atime too; a directory gets it once the whole layer is applied, since each entry created
//   in it changes it;
// - files and directories get the xattrs a layer carries (IsLayerXattr, layer/tar_stream.h:
//   user.* and security.capability, never overlay's own or the host's security labels), after
//   their owner and mode, since a chown clears a file capability. What the kernel refuses
//   (EPERM without CAP_SETFCAP, no user xattrs on the filesystem, a malformed value) is noted in
//   UnpackStats::skipped and the unpack goes on.
//
// The uncompressed stream is hashed while it is applied: that is the layer's diff_id (image-spec
// config.md, rootfs.diff_ids), which callers compare with the config so that a rootfs cached
// under a chain ID really holds those layers. The blob digest alone does not prove it: a config
// can name any diff_ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/io.h"

namespace anyarch::layer {

// What an unpack always leaves free on the target's filesystem: `percent` of its size, at most
// `max_bytes` (on top of what the filesystem reserves for root: f_bavail is what counts).
struct FreeSpaceMargin {
  std::uint64_t percent;
  std::uint64_t max_bytes;
};
inline constexpr FreeSpaceMargin kFreeSpaceMargin{.percent = 5, .max_bytes = 256ull << 20};

struct UnpackOptions {
  bool keep_ownership = true;  // chown to the tar's uid/gid (needs root)
  // With keep_ownership: every entry gets these ids instead of the tar's (ADD --chown).
  std::optional<std::pair<unsigned, unsigned>> owner;
  // The layer's diff_id from the image config (sha256 of the uncompressed tar). When set, a
  // stream that hashes otherwise fails with kDigestMismatch once it has been read to its end;
  // what was already written to `target_dir` is then the caller's to throw away.
  std::optional<Digest> diff_id;
  // Write the layer as an overlayfs upper directory instead of applying it: a whiteout becomes
  // the character device 0/0 overlay reads as one, an opaque marker the xattr named here
  // ("trusted.overlay.opaque", or "user.overlay.opaque" for a userxattr mount) set to "y" on
  // its directory, and nothing below is removed (the build cache imports steps this way).
  std::string overlay_opaque_xattr;
};

struct UnpackStats {
  std::uint64_t files = 0, dirs = 0, symlinks = 0, hardlinks = 0, whiteouts = 0;
  std::uint64_t xattrs = 0;          // extended attributes set
  std::vector<std::string> skipped;  // device nodes, other entries and xattrs not made, with why
  Digest diff_id;                    // sha256 of the uncompressed stream
};

// Applies one layer (a possibly compressed tar stream) on top of `target_dir`. kInvalid names the
// entry that was refused; kIo when the filesystem would be left with less than kFreeSpaceMargin
// (what was already written is then the caller's to throw away); kDigestMismatch when
// options.diff_id is set and the uncompressed stream does not match it (the message gives both
// digests); kUnsupported when the kernel lacks openat2 (Linux 5.6) or the diff_id is not sha256.
Result<UnpackStats> ApplyLayer(Reader& layer, const std::string& target_dir,
                               const UnpackOptions& options = {});

}  // namespace anyarch::layer

// The tarball transports, under skopeo's names:
// - oci-archive:FILE[:TAG]  a tar of an OCI image layout (oci-layout, index.json,
//   blobs/sha256/<hex>), as `skopeo copy ... oci-archive:` and Docker 25+ `docker save` write.
// - docker-archive:FILE[:REF]  the `docker save` format that `docker load` reads: manifest.json
//   ([{"Config","RepoTags","Layers"}]), the image config as JSON, the layers as uncompressed tars.
//
// Readers extract the archive into a private temporary directory (under $TMPDIR) that lives as
// long as the source; writers stream into a temporary file next to FILE and publish it only in
// ImageSink::Commit(). A sink destroyed without Commit() leaves nothing behind.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/error.h"
#include "image/source.h"

namespace anyarch::content {

// Opens an oci-archive for reading. The archive is extracted at once (regular files and
// directories only, with safe relative paths; anything else is kInvalid naming the entry), then
// served through Layout. `tag` names the index.json entry (org.opencontainers.image.ref.name);
// empty picks the only one. kNotFound when FILE or the tag is missing, kInvalid for a malformed
// or truncated archive or one that unpacks to far more than its own size.
Result<std::unique_ptr<image::ImageSource>> OpenOciArchiveSource(const std::filesystem::path& file,
                                                                 const std::string& tag);

// Opens an oci-archive for writing. Blobs are appended as blobs/sha256/<hex> as they come;
// Commit() adds oci-layout and an index.json with one entry, the root given to Tag() (or else
// the last manifest put), named `tag` when it is not empty, and renames the file into place.
// A blob whose bytes do not match its descriptor fails the sink: every later call and Commit()
// return the error and nothing is published.
Result<std::unique_ptr<image::ImageSink>> OpenOciArchiveSink(const std::filesystem::path& file,
                                                             const std::string& tag);

// Opens a docker-archive for reading. `reference` picks the image by one of its RepoTags
// ("app:1" and "docker.io/library/app:1" are the same name; no tag means "latest"), or by
// position as "@N" (skopeo's source index); empty picks the only image. The source serves a
// synthesised image manifest whose layers are the layer files as they are: a Docker schema 2
// manifest (gzip or plain tar layers), or an OCI manifest when a layer is zstd-compressed.
// Layer digests are the sha256 of the files; uncompressed layers are checked against the
// config's rootfs.diff_ids (kDigestMismatch). Symbolic and hard links inside the archive (older
// `docker save` and skopeo write them) are never created on disk: a link whose target stays
// inside the archive is followed by name, any other link is kInvalid naming the entry.
// kInvalid for a malformed manifest.json or config, kNotFound for a missing file or RepoTag;
// every message names the archive.
Result<std::unique_ptr<image::ImageSource>> OpenDockerArchiveSource(
    const std::filesystem::path& file, const std::string& reference);

// Opens a docker-archive for writing one image (not an index: PutManifest of an index is
// kUnsupported and asks for a single --platform). Blobs are staged in a temporary directory
// next to FILE; PutManifest decompresses each layer (gzip, zstd or plain, by magic bytes),
// checks it against the config's rootfs.diff_ids (kDigestMismatch naming the layer) and writes
// <config-hex>.json and <diffid-hex>.tar entries. Commit() adds manifest.json and, when
// `repo_tag` is given, a legacy "repositories" file, then renames the file into place.
// `repo_tag` is "name:tag" (e.g. "docker.io/library/app:1"; no tag means ":latest"); a digest
// reference is kInvalid since `docker load` needs a tag.
Result<std::unique_ptr<image::ImageSink>> OpenDockerArchiveSink(const std::filesystem::path& file,
                                                                const std::string& repo_tag);

}  // namespace anyarch::content

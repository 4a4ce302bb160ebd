// The docker-archive:FILE[:REF] transport (skopeo's name): the `docker save` format that
// `docker load` reads: manifest.json ([{"Config","RepoTags","Layers"}]), the image config as
// JSON, the layers as uncompressed tars. oci_archive.h is the other tarball transport.
//
// Readers extract the archive into a private temporary directory (under $TMPDIR) that lives as
// long as the source; writers stream into a temporary file next to FILE and publish it only in
// ImageSink::Commit(). A sink destroyed without Commit() leaves nothing behind.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/source.h"

namespace anyarch::content {

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

// Opens a docker-archive for writing several images (`docker load` loads them all): the i-th
// image manifest put gets repo_tags[i] as its RepoTag ("" for none), and Commit() needs exactly
// that many; the index listing them may be given to Tag(). Layers and configs the images share
// are stored once.
Result<std::unique_ptr<image::ImageSink>> OpenDockerArchiveSink(
    const std::filesystem::path& file, const std::vector<std::string>& repo_tags);

}  // namespace anyarch::content

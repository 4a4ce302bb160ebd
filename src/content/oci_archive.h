// The oci-archive:FILE[:TAG] transport (skopeo's name): a tar of an OCI image layout
// (oci-layout, index.json, blobs/sha256/<hex>), as `skopeo copy ... oci-archive:` and Docker 25+
// `docker save` write. docker_archive.h is the other tarball transport.
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
// return the error and nothing is published. `image_name`, when given, is the image's full
// reference, recorded as the entry's io.containerd.image.name annotation (what containerd's and
// docker's OCI exports write), so an import gets the image back under its name.
Result<std::unique_ptr<image::ImageSink>> OpenOciArchiveSink(const std::filesystem::path& file,
                                                             const std::string& tag,
                                                             const std::string& image_name = "");

inline constexpr const char* kImageNameAnnotation = "io.containerd.image.name";

}  // namespace anyarch::content

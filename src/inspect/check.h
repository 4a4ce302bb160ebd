// What an image's files are: every platform's image of an index (nested indexes walked, as
// image/index_walk.h does) has its layers walked in order in a virtual filesystem
// (inspect/virtual_fs.h, never unpacked to disk) and every ELF file of the final filesystem
// checked against the platform the image claims. Shared by `anyarch verify` and
// `anyarch build --verify`.
//
// What the unpacker refuses is an error here too, never a pass: a layer whose uncompressed
// digest is not the config's diff_id, a config whose diff_ids do not match the layers, a blob
// whose size or digest is not its descriptor's, names too long for a filesystem, a hard link to
// something not in the image. What the unpacker accepts but will not run here is a finding.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/reporter.h"
#include "image/descriptor.h"
#include "image/source.h"
#include "platform/platform.h"

namespace anyarch::inspect {

struct Finding {
  std::string path;  // absolute path in the image; empty for the image config
  // "wrong-platform", "missing-interpreter", "config-platform", "unsupported-elf" (an ELF file
  // whose e_machine has no OCI platform), "malformed-elf" (one that cannot be parsed)
  std::string kind;
  std::string found;     // the file's platform (or the interpreter path, or what the file is)
  std::string expected;  // the image's platform
  std::string detail;    // for people; for unsupported-elf and malformed-elf, the ELF reader's why
  std::string machine;   // wrong-platform: the ELF machine name ("x86-64")
};

struct PlatformCheck {
  platform::Platform platform;
  std::string manifest_digest;
  std::size_t files = 0;
  std::size_t elf_files = 0;
  std::vector<Finding> findings;
  bool ok() const { return findings.empty(); }
};

// Checks one image manifest. `manifest.platform` is what its index says it is (unset: the
// config decides; a config that disagrees with the index is a finding). Errors: the manifest,
// config or a layer cannot be read or does not verify (kDigestMismatch, kNotFound), a layer is
// malformed or refused as the unpacker refuses it (kInvalid, naming the layer); the message says
// which layer of which platform's image.
Result<PlatformCheck> CheckPlatformImage(image::ImageSource& src, const image::Descriptor& manifest,
                                         Reporter& reporter);

// Checks every image under `root` (attestation manifests, platform unknown/unknown, have no
// filesystem and are left out), or with `platforms` those image::SelectPlatforms chooses for
// them among all the images of the nested indexes. Never succeeds having checked nothing:
// kNotFound when no image is left to check (the message says what the index holds), or when a
// single image is not of a platform asked for. Errors of image::ListImages and
// CheckPlatformImage come back as they are.
Result<std::vector<PlatformCheck>> CheckImages(image::ImageSource& src,
                                               const image::RawManifest& root,
                                               const std::vector<platform::Platform>& platforms,
                                               Reporter& reporter);

// One line for people: "linux/arm64: /usr/bin/hello is an x86-64 ELF (linux/amd64)".
std::string Describe(const PlatformCheck& check, const Finding& finding);

}  // namespace anyarch::inspect

// An image's final filesystem, built from its layers in memory (no file contents, only what the
// checks need): the view verify and `build --verify` check, applied by the same rules as
// layer::ApplyLayer applies layers to a directory, so that an image the unpacker refuses is
// refused here too and a path means the same file in both.
//
// As in ApplyLayer (layer/unpack.h): an entry's parent directories are resolved through the
// image's own symlinks, inside the image (".." stops at the root, an absolute target starts at
// it), and missing ones are created; a parent that exists and is not a directory is refused; a
// non-directory replaces whatever was there (a directory with all it held); a hard link must
// point at something already in the image (this layer's earlier entries included) that is not a
// directory; a whiteout removes a path, an opaque marker what lower layers put in a directory.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/error.h"
#include "elf/elf.h"
#include "layer/tar_stream.h"

namespace anyarch::inspect {

struct Node {
  layer::EntryType type = layer::EntryType::kOther;
  std::string link;  // a symlink's target, as written
  std::optional<elf::ElfInfo> elf;
  std::optional<Error> elf_error;  // an ELF file that could not be placed on a platform
  bool elf_truncated = false;      // only its first bytes were inspected
  int layer = 0;                   // 1 for the first layer
};

class VirtualFs {
 public:
  // Applies one entry of layer `layer` (1-based; layers in order). `node` describes a regular
  // file's content (ELF information); for a hard link the target's node is taken instead.
  // kInvalid as ApplyLayer refuses: a parent that exists and is not a directory, too many
  // symlinks on the way (40, as the kernel), a hard link to something not (yet) in the image or
  // to a directory.
  Status Apply(const layer::Entry& entry, Node node, int layer);

  // Resolves an absolute path through the image's symlinks (the last component too): the
  // canonical path without its leading "/", or nullopt when it does not exist.
  std::optional<std::string> Resolve(const std::string& abs) const;

  // Visits every path (canonical, without the leading "/") and its node, in path order.
  template <typename F>
  void ForEach(F f) const {
    for (const auto& [p, n] : nodes_) f(p, n);
  }

 private:
  const Node* Get(const std::string& path) const;
  bool HasChildren(const std::string& path) const;
  // Resolves `path` through symlinks. With for_parent, every component must be (or become) a
  // directory: missing ones count as created. Without, the last one may be anything and a
  // missing component is kNotFound.
  Result<std::string> Walk(const std::string& path, bool for_parent) const;
  void RemoveChildren(const std::string& path, int below_layer);

  std::map<std::string, Node> nodes_;
};

}  // namespace anyarch::inspect

// COPY and ADD (and WORKDIR's directory), with Docker's semantics (BuildKit's Dockerfile
// reference is the authority):
// - a source directory's contents are copied, not the directory itself (with --parents, the
//   source path is kept below the destination);
// - the destination is a directory when it ends in "/", when there are several sources or a
//   wildcard matched several, or when it already is one in the image; a relative destination
//   is below WORKDIR; missing parent directories are created (0755, owned by --chown's ids);
// - from the build context, files are owned by 0:0 unless --chown; from a stage or an image,
//   ownership is kept unless --chown; --chmod replaces the permission bits of everything
//   copied; modes, times, hard links within the copy and symlinks (as links) are kept;
// - --chown names are looked up in the destination's own /etc/passwd and /etc/group; a user
//   without a group gets the gid equal to its uid (Docker's documented rule);
// - --exclude patterns use .dockerignore syntax, relative to each source;
// - --link writes the files onto an empty tree instead of the stage's, so the layer holds only
//   what was copied (parents created 0755, nothing of the stage read: a symlinked destination
//   directory of the stage is not followed, as BuildKit documents) and its key leaves the
//   parent out: the same files copied onto a changed base reuse the layer;
// - ADD of a local tar archive (plain, gzip, bzip2, xz, zstd) unpacks it with the secure
//   unpacker into the destination directory, entries keeping the tar's owners unless --chown
//   (as BuildKit); other files are copied like COPY; a URL is downloaded (build/fetch.h) and
//   written 0600 with its Last-Modified time, never unpacked.
// Security: the destination is written through directory fds resolved with RESOLVE_IN_ROOT
// inside the stage's mounted snapshot, so an image's absolute symlink (/app -> /etc) leads
// into the image, never onto the host; sources are resolved inside their tree the same way.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>

#include "base/in_root.h"
#include "base/io.h"
#include "base/strings.h"
#include "build/cache_key.h"
#include "build/steps.h"
#include "isolation/overlay_view.h"
#include "layer/tar_stream.h"
#include "layer/unpack.h"
#include "rootfs/user.h"

namespace anyarch::build {

namespace {

namespace fs = std::filesystem;

struct Ids {
  uid_t uid = 0;
  gid_t gid = 0;
};

struct CopyFlags {
  std::string from;
  std::string chown;
  std::optional<mode_t> chmod;
  bool link = false, parents = false;
  std::vector<std::string> excludes;
  std::string checksum;
};

Result<CopyFlags> ParseFlags(const StageEnv& env, const dockerfile::Step& step) {
  CopyFlags f;
  bool add = step.inst->kind == dockerfile::Kind::kAdd;
  for (const auto& [name, value] : step.flags) {
    if (name == "from") {
      f.from = value;
    } else if (name == "chown") {
      f.chown = value;
    } else if (name == "chmod") {
      if (value.empty() || value.size() > 4 ||
          value.find_first_not_of("01234567") != std::string::npos)
        return MakeError(ErrorCode::kInvalid, Where(env, step) + ": --chmod=" + value +
                                                  " must be octal permission bits, e.g. 0755");
      f.chmod = static_cast<mode_t>(std::stoul(value, nullptr, 8));
    } else if (name == "link") {
      f.link = value != "false";
    } else if (name == "parents") {
      f.parents = value != "false";
    } else if (name == "exclude") {
      f.excludes.push_back(value);
    } else if (add && name == "checksum") {
      f.checksum = value;
    } else if (add && name == "keep-git-dir") {
      // Only for git sources, which anyarch does not fetch.
    } else {
      return MakeError(ErrorCode::kInvalid, Where(env, step) + ": " +
                                                dockerfile::KindName(step.inst->kind) +
                                                " has no flag --" + name);
    }
  }
  return f;
}

// --chown against the destination's /etc/passwd and /etc/group.
Result<Ids> ResolveChown(const std::string& merged, const std::string& spec) {
  std::string user = spec.substr(0, spec.find(':'));
  bool has_group = spec.find(':') != std::string::npos;
  ANYARCH_TRY(auto ids, rootfs::ResolveUser(merged, has_group ? spec : user));
  Ids out{ids.uid, has_group ? ids.gid : ids.uid};
  return out;
}

void CopyXattrs(int from, int to) {
  char names[4096];
  ssize_t n = ::flistxattr(from, names, sizeof names);
  for (ssize_t pos = 0; n > 0 && pos < n;) {
    std::string name(names + pos);
    pos += static_cast<ssize_t>(name.size()) + 1;
    if (!layer::IsLayerXattr(name)) continue;
    char value[65536];
    ssize_t vn = ::fgetxattr(from, name.c_str(), value, sizeof value);
    if (vn >= 0) ::fsetxattr(to, name.c_str(), value, static_cast<std::size_t>(vn), 0);
  }
}

Status CopyData(int from, int to, const std::string& what) {
  for (;;) {
    ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, 1 << 30, 0);
    if (n == 0) return Ok();
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
      return Unexpected(ErrnoError(errno, "copying " + what));
    break;
  }
  // Across filesystems, or where the kernel cannot: plain reads and writes.
  return CopyFdData(from, to, what);
}

class Copier {
 public:
  Copier(int src_root, int dst_root, const SourceTree* tree, std::optional<Ids> chown,
         std::optional<mode_t> chmod, bool keep_owner, const dockerfile::IgnoreMatcher* excludes)
      : src_root_(src_root),
        dst_root_(dst_root),
        tree_(tree),
        chown_(chown),
        chmod_(chmod),
        keep_owner_(keep_owner),
        excludes_(excludes) {}

  // Copies `src` (a file, link or directory of the source tree) to `dst` in the destination:
  // a directory's contents go into `dst`; anything else becomes `dst`.
  Status CopyTop(const std::string& src, const std::string& dst) {
    ANYARCH_TRY(UniqueFd sfd, OpenInRoot(src_root_, src, O_PATH));
    struct stat st {};
    if (::fstat(sfd.get(), &st) != 0) return Unexpected(ErrnoError(errno, "/" + src));
    if (S_ISDIR(st.st_mode)) {
      Ids ids = Owner(st);
      ANYARCH_CHECK(MkdirInRoot(dst_root_, dst, 0755, ids.uid, ids.gid));
      ANYARCH_TRY(UniqueFd d, OpenInRoot(dst_root_, dst, O_RDONLY | O_DIRECTORY));
      UniqueFd s(::openat(sfd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (s.get() < 0) return Unexpected(ErrnoError(errno, "/" + src));
      return CopyChildren(s.get(), d.get(), src, "", dst);
    }
    std::string parent = dst.find('/') == std::string::npos ? "" : dst.substr(0, dst.rfind('/'));
    std::string name = dst.substr(dst.rfind('/') == std::string::npos ? 0 : dst.rfind('/') + 1);
    Ids ids = chown_ ? *chown_ : Ids{};
    ANYARCH_CHECK(
        MkdirInRoot(dst_root_, parent, 0755, chown_ ? ids.uid : -1, chown_ ? ids.gid : -1));
    ANYARCH_TRY(UniqueFd pd, OpenInRoot(dst_root_, parent, O_RDONLY | O_DIRECTORY));
    // The source's parent directory, to copy the entry by name without following it again.
    std::string sparent = src.find('/') == std::string::npos ? "" : src.substr(0, src.rfind('/'));
    std::string sname = src.substr(src.rfind('/') == std::string::npos ? 0 : src.rfind('/') + 1);
    ANYARCH_TRY(UniqueFd sp, OpenInRoot(src_root_, sparent, O_RDONLY | O_DIRECTORY));
    struct stat lst {};
    if (::fstatat(sp.get(), sname.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(lst.st_mode)) {
      // A named source that is a symlink is followed (inside the tree): copy what it names.
      UniqueFd readable(
          ::open(("/proc/self/fd/" + std::to_string(sfd.get())).c_str(), O_RDONLY | O_CLOEXEC));
      if (readable.get() < 0) return Unexpected(ErrnoError(errno, "/" + src));
      return CopyFile(readable.get(), st, pd.get(), name, dst);
    }
    return CopyEntry(sp.get(), sname, pd.get(), name, src, "", dst);
  }

 private:
  Ids Owner(const struct stat& st) const {
    if (chown_) return *chown_;
    if (keep_owner_) return {st.st_uid, st.st_gid};
    return {};
  }
  mode_t Mode(const struct stat& st) const { return chmod_ ? *chmod_ : (st.st_mode & 07777); }

  bool Skip(const std::string& src_rel, const std::string& rel_to_top, bool is_dir) const {
    if (excludes_ && !rel_to_top.empty() && excludes_->Excluded(rel_to_top)) return true;
    if (tree_ && tree_->Excluded(src_rel)) return !(is_dir && tree_->HasExceptions());
    return false;
  }

  Status CopyChildren(int sdir, int ddir, const std::string& src_rel, const std::string& top_rel,
                      const std::string& dst_rel) {
    int dup = ::dup(sdir);
    if (dup < 0) return Unexpected(ErrnoError(errno, "dup"));
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return Unexpected(ErrnoError(errno, "/" + src_rel));
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string s = src_rel.empty() ? n : src_rel + "/" + n;
      std::string t = top_rel.empty() ? n : top_rel + "/" + n;
      ANYARCH_CHECK(CopyEntry(sdir, n, ddir, n, s, t, dst_rel.empty() ? n : dst_rel + "/" + n));
    }
    return Ok();
  }

  Status CopyFile(int sfd, const struct stat& st, int ddir, const std::string& dname,
                  const std::string& dst_rel) {
    ANYARCH_CHECK(RemoveAt(ddir, dname));
    auto key = std::make_pair(st.st_dev, st.st_ino);
    if (st.st_nlink > 1) {
      auto it = links_.find(key);
      if (it != links_.end()) {
        ANYARCH_TRY(UniqueFd target, OpenInRoot(dst_root_, it->second, O_PATH | O_NOFOLLOW));
        if (::linkat(target.get(), "", ddir, dname.c_str(), AT_EMPTY_PATH) == 0) return Ok();
      }
    }
    UniqueFd out(
        ::openat(ddir, dname.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (out.get() < 0) return Unexpected(ErrnoError(errno, "creating /" + dst_rel));
    ANYARCH_CHECK(CopyData(sfd, out.get(), "/" + dst_rel));
    Ids ids = Owner(st);
    if (::fchown(out.get(), ids.uid, ids.gid) != 0)
      return Unexpected(ErrnoError(errno, "chown /" + dst_rel));
    CopyXattrs(sfd, out.get());
    // After chown, which clears setuid bits.
    ::fchmod(out.get(), Mode(st));
    struct timespec times[2] = {st.st_mtim, st.st_mtim};
    ::futimens(out.get(), times);
    if (st.st_nlink > 1) links_[key] = dst_rel;
    return Ok();
  }

  // `dst_rel` is the entry's path in the destination, relative to its root.
  Status CopyEntry(int sdir, const std::string& sname, int ddir, const std::string& dname,
                   const std::string& src_rel, const std::string& top_rel,
                   const std::string& dst_rel) {
    struct stat st {};
    if (::fstatat(sdir, sname.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Unexpected(ErrnoError(errno, "/" + src_rel));
    if (Skip(src_rel, top_rel, S_ISDIR(st.st_mode))) return Ok();
    Ids ids = Owner(st);
    struct timespec times[2] = {st.st_mtim, st.st_mtim};
    if (S_ISDIR(st.st_mode)) {
      struct stat old {};
      bool exists = ::fstatat(ddir, dname.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
      if (exists && !S_ISDIR(old.st_mode)) ANYARCH_CHECK(RemoveAt(ddir, dname));
      if ((!exists || !S_ISDIR(old.st_mode)) && ::mkdirat(ddir, dname.c_str(), 0700) != 0)
        return Unexpected(ErrnoError(errno, "creating /" + dst_rel));
      UniqueFd d(::openat(ddir, dname.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd s(::openat(sdir, sname.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (d.get() < 0 || s.get() < 0) return Unexpected(ErrnoError(errno, "/" + dst_rel));
      ANYARCH_CHECK(CopyChildren(s.get(), d.get(), src_rel, top_rel, dst_rel));
      // An excluded directory is entered only for the exceptions below it: when none matched,
      // it does not exist in the copy, as in Docker.
      if (tree_ && tree_->Excluded(src_rel) && !exists) {
        struct stat probe {};
        UniqueFd again(
            ::openat(ddir, dname.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        bool empty = true;
        if (again.get() >= 0) {
          DIR* dd = ::fdopendir(::dup(again.get()));
          while (dd) {
            dirent* e = ::readdir(dd);
            if (!e) break;
            if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") empty = false;
          }
          if (dd) ::closedir(dd);
        }
        (void)probe;
        if (empty) {
          ::unlinkat(ddir, dname.c_str(), AT_REMOVEDIR);
          return Ok();
        }
      }
      if (::fchown(d.get(), ids.uid, ids.gid) != 0)
        return Unexpected(ErrnoError(errno, "chown /" + dst_rel));
      CopyXattrs(s.get(), d.get());
      ::fchmod(d.get(), Mode(st));
      ::futimens(d.get(), times);
      return Ok();
    }
    if (S_ISREG(st.st_mode)) {
      UniqueFd s(::openat(sdir, sname.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (s.get() < 0) return Unexpected(ErrnoError(errno, "/" + src_rel));
      return CopyFile(s.get(), st, ddir, dname, dst_rel);
    }
    ANYARCH_CHECK(RemoveAt(ddir, dname));
    if (S_ISLNK(st.st_mode)) {
      std::string target(4096, '\0');
      ssize_t n = ::readlinkat(sdir, sname.c_str(), target.data(), target.size() - 1);
      if (n < 0) return Unexpected(ErrnoError(errno, "/" + src_rel));
      target.resize(static_cast<std::size_t>(n));
      // Kept as a link: its target is never followed here, and inside the image it resolves
      // in the image.
      if (::symlinkat(target.c_str(), ddir, dname.c_str()) != 0)
        return Unexpected(ErrnoError(errno, "creating /" + dst_rel));
    } else if (S_ISFIFO(st.st_mode)) {
      if (::mkfifoat(ddir, dname.c_str(), Mode(st)) != 0)
        return Unexpected(ErrnoError(errno, "creating /" + dst_rel));
    } else if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && keep_owner_) {
      if (::mknodat(ddir, dname.c_str(), st.st_mode, st.st_rdev) != 0)
        return Unexpected(ErrnoError(errno, "creating /" + dst_rel));
    } else {
      return Ok();  // sockets, and devices from the build context, are not copied
    }
    ::fchownat(ddir, dname.c_str(), ids.uid, ids.gid, AT_SYMLINK_NOFOLLOW);
    ::utimensat(ddir, dname.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return Ok();
  }

  int src_root_, dst_root_;
  const SourceTree* tree_;
  std::optional<Ids> chown_;
  std::optional<mode_t> chmod_;
  bool keep_owner_;
  const dockerfile::IgnoreMatcher* excludes_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

bool LooksLikeArchive(const std::string& head) {
  auto starts = [&](std::string_view magic) { return head.compare(0, magic.size(), magic) == 0; };
  return starts("\x1f\x8b") || starts("BZh") ||
         starts(
             "\xfd"
             "7zXZ") ||
         starts("\x28\xb5\x2f\xfd") || (head.size() > 262 && head.compare(257, 5, "ustar") == 0);
}

// ADD of a URL: the download at `target` (relative to the root), 0600 unless --chmod, owned by
// --chown's ids or root, with the server's Last-Modified as its mtime.
Status WriteDownload(int root, const Fetched& f, const std::string& target,
                     const std::optional<Ids>& chown, std::optional<mode_t> chmod) {
  std::string parent =
      target.find('/') == std::string::npos ? "" : target.substr(0, target.rfind('/'));
  ANYARCH_CHECK(MkdirInRoot(root, parent, 0755, chown ? static_cast<long>(chown->uid) : -1,
                            chown ? static_cast<long>(chown->gid) : -1));
  ANYARCH_TRY(UniqueFd pd, OpenInRoot(root, parent, O_RDONLY | O_DIRECTORY));
  std::string name =
      target.substr(target.rfind('/') == std::string::npos ? 0 : target.rfind('/') + 1);
  ANYARCH_CHECK(RemoveAt(pd.get(), name));
  UniqueFd in(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Unexpected(ErrnoError(errno, f.path));
  UniqueFd out(
      ::openat(pd.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) return Unexpected(ErrnoError(errno, "creating /" + target));
  ANYARCH_CHECK(CopyFdData(in.get(), out.get(), "/" + target));
  if (::fchown(out.get(), chown ? chown->uid : 0, chown ? chown->gid : 0) != 0)
    return Unexpected(ErrnoError(errno, "chown /" + target));
  if (::fchmod(out.get(), chmod ? *chmod : 0600) != 0)
    return Unexpected(ErrnoError(errno, "chmod /" + target));
  struct timespec times[2] = {{static_cast<time_t>(f.mtime), 0}, {static_cast<time_t>(f.mtime), 0}};
  if (::futimens(out.get(), times) != 0) return Unexpected(ErrnoError(errno, "/" + target));
  return Ok();
}

std::string Basename(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

}  // namespace

Result<LayerStep> PrepareCopy(StageEnv& env, const ImageState& state,
                              const dockerfile::Step& step) {
  const auto& in = *step.inst;
  const bool add = in.kind == dockerfile::Kind::kAdd;
  const char* kind = add ? "ADD" : "COPY";
  ANYARCH_TRY(CopyFlags flags, ParseFlags(env, step));
  std::vector<std::string> words = step.words;
  if (words.empty() || (words.size() < 2 && step.heredocs.empty()))
    return MakeError(ErrorCode::kInvalid, Where(env, step) + ": " + kind +
                                              " needs at least one source and a destination");
  std::string dest_word = words.back();
  words.pop_back();
  std::string dest = dest_word;
  if (dest.empty() || dest[0] != '/')
    dest = JoinInRoot(state.WorkingDir(), dest) +
           (dest_word.empty() || dest_word.back() == '/' ? "/" : "");
  bool dest_dir_written = !dest_word.empty() && (dest_word.back() == '/' || dest_word == ".");
  std::string dest_rel = JoinInRoot("", dest);

  // ADD's URLs are downloaded now: their content is part of the key.
  std::vector<Fetched> fetched;
  for (auto it = words.begin(); it != words.end();) {
    if (!IsUrl(*it)) {
      if (!flags.checksum.empty())
        return MakeError(ErrorCode::kInvalid, Where(env, step) + ": --checksum is only for URL " +
                                                  "sources, and " + *it + " is not one");
      ++it;
      continue;
    }
    if (!add)
      return MakeError(ErrorCode::kInvalid, Where(env, step) + ": COPY cannot fetch " +
                                                ShownUrl(*it) + "; use ADD for URLs");
    if (!IsHttpUrl(*it))
      return MakeError(ErrorCode::kUnsupported,
                       Where(env, step) + ": ADD of " + ShownUrl(*it) +
                           " is not supported: only http:// and https:// URLs are fetched");
    if (!flags.from.empty())
      return MakeError(ErrorCode::kInvalid,
                       Where(env, step) + ": ADD --from cannot be used with a URL source");
    auto got = env.fetcher.Fetch(*it, flags.checksum);
    if (!got) return Unexpected(std::move(got.error()).With(Where(env, step)));
    fetched.push_back(std::move(*got));
    it = words.erase(it);
  }

  // Where the sources come from.
  enum class From { kContext, kStage, kImage, kNamedDir } from = From::kContext;
  std::optional<ImageState> from_stage;
  std::shared_ptr<const ResolvedImage> from_image;
  std::optional<SourceTree> named_tree;
  Json def = {{"kind", kind},
              {"dest", dest},
              {"chown", flags.chown},
              {"parents", flags.parents},
              {"excludes", flags.excludes}};
  if (flags.chmod) def["chmod"] = *flags.chmod;
  if (!flags.from.empty()) {
    auto ctx = env.request.build_contexts.find(flags.from);
    std::error_code ec;
    if (auto idx = env.find_stage(flags.from)) {
      ANYARCH_TRY(ImageState s, env.stage_state(*idx));
      from_stage = std::move(s);
      from = From::kStage;
      def["from"] = "stage:" + from_stage->key.ToString();
    } else if (ctx != env.request.build_contexts.end() && fs::is_directory(ctx->second, ec)) {
      ANYARCH_TRY(SourceTree t, SourceTree::Open(ctx->second, "build context " + flags.from));
      named_tree = std::move(t);
      from = From::kNamedDir;
    } else {
      ANYARCH_TRY(from_image, env.resolver.Resolve(flags.from, env.platform));
      from = From::kImage;
      def["from"] = "image:" + from_image->manifest.raw.digest.ToString();
    }
  }

  // Sources and, for the key, what they hold.
  const SourceTree* tree = from == From::kContext    ? &env.context
                           : from == From::kNamedDir ? &*named_tree
                                                     : nullptr;
  std::vector<std::pair<std::string, std::string>> sources;  // (pattern, matched path)
  Json src_def = Json::array();
  if (tree) {
    ANYARCH_TRY(auto exclude_matcher,
                dockerfile::IgnoreMatcher::Parse(Join(flags.excludes, "\n"), "--exclude"));
    for (const auto& w : words) {
      ANYARCH_TRY(auto matches, tree->Match(w));
      for (const auto& m : matches) {
        sources.emplace_back(w, m);
        auto hash = tree->Hash(m, [&](const std::string& p) {
          std::string below = p.size() > m.size() ? p.substr(m.empty() ? 0 : m.size() + 1) : "";
          return !below.empty() && exclude_matcher.Excluded(below);
        });
        if (!hash) return Unexpected(std::move(hash.error()).With(Where(env, step)));
        src_def.push_back({{"name", Basename(m)},
                           {"path", flags.parents ? m : ""},
                           {"content", hash->ToString()}});
      }
    }
    if (from == From::kNamedDir) def["from"] = "dir";
  } else {
    for (const auto& w : words) {
      sources.emplace_back(w, w);
      src_def.push_back(w);
    }
  }
  for (const auto& f : fetched)
    src_def.push_back(
        {{"name", f.name}, {"content", f.digest.ToString()}, {"mtime", f.mtime}, {"url", true}});
  def["sources"] = src_def;
  Json heredocs = Json::array();
  for (const auto& [delim, content] : step.heredocs) heredocs.push_back({delim, content});
  def["heredocs"] = heredocs;
  const std::size_t total = sources.size() + fetched.size() + step.heredocs.size();
  const bool dest_is_dir = dest_dir_written || total > 1 ||
                           std::any_of(words.begin(), words.end(), [](const std::string& w) {
                             return w.find_first_of("*?[") != std::string::npos;
                           });

  LayerStep out;
  out.definition = def;
  std::string shown = Join(step.words, " ");
  out.created_by = std::string(kind) + " " + shown + " # buildkit";
  // A --chown by name reads the stage's /etc/passwd, so only numeric owners leave it out.
  out.independent = flags.link && flags.chown.find_first_not_of("0123456789:") == std::string::npos;
  if (flags.link) out.definition["link"] = true;
  out.reads = state.lowers;
  if (from_stage)
    out.reads.insert(out.reads.end(), from_stage->lowers.begin(), from_stage->lowers.end());
  out.execute = [&env, state, step, flags, sources, fetched, dest_rel, dest_is_dir, from,
                 from_stage, from_image, tree, add](const Scratch& scratch) -> Status {
    std::vector<isolation::OverlaySpec> views;
    std::vector<std::string> lowers = state.lowers;
    if (lowers.empty()) lowers.push_back(env.empty_dir);
    // --link writes onto an empty tree; the stage's own tree is then only read for --chown
    // names (the last view).
    views.push_back({.lowers = flags.link ? std::vector<std::string>{env.empty_dir} : lowers,
                     .upper = scratch.diff(),
                     .work = scratch.work()});
    if (from == From::kStage) {
      std::vector<std::string> l = from_stage->lowers;
      if (l.empty()) l.push_back(env.empty_dir);
      views.push_back({.lowers = l});
    } else if (from == From::kImage) {
      views.push_back({.lowers = {from_image->rootfs}});
    }
    if (flags.link) views.push_back({.lowers = lowers});
    return isolation::WithOverlays(views, [&](const std::vector<std::string>& merged) -> Status {
      UniqueFd dst_root(::open(merged[0].c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (dst_root.get() < 0) return Unexpected(ErrnoError(errno, merged[0]));
      UniqueFd src_root(tree ? ::dup(tree->fd())
                             : ::open(merged[1].c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (src_root.get() < 0) return Unexpected(ErrnoError(errno, "the COPY source"));
      std::optional<Ids> chown;
      if (!flags.chown.empty()) {
        auto ids = ResolveChown(flags.link ? merged.back() : merged[0], flags.chown);
        if (!ids) return Unexpected(std::move(ids.error()).With(Where(env, step) + ": --chown"));
        chown = *ids;
      }
      ANYARCH_TRY(auto excludes,
                  dockerfile::IgnoreMatcher::Parse(Join(flags.excludes, "\n"), "--exclude"));
      Copier copier(src_root.get(), dst_root.get(), tree == &env.context ? tree : nullptr, chown,
                    flags.chmod, from == From::kStage || from == From::kImage, &excludes);
      // An existing directory at the destination makes it a directory destination too.
      bool into_dir = dest_is_dir;
      if (!into_dir) {
        auto existing = OpenInRoot(dst_root.get(), dest_rel, O_PATH | O_DIRECTORY);
        into_dir = static_cast<bool>(existing);
      }
      for (const auto& [pattern, path] : sources) {
        std::string target = dest_rel;
        ANYARCH_TRY(UniqueFd probe, OpenInRoot(src_root.get(), path, O_PATH));
        struct stat st {};
        ::fstat(probe.get(), &st);
        if (add && S_ISREG(st.st_mode)) {
          UniqueFd rd(::open(("/proc/self/fd/" + std::to_string(probe.get())).c_str(),
                             O_RDONLY | O_CLOEXEC));
          char head[512] = {};
          ssize_t n = rd.get() >= 0 ? ::pread(rd.get(), head, sizeof head, 0) : -1;
          if (n > 0 && LooksLikeArchive(std::string(head, static_cast<std::size_t>(n)))) {
            ANYARCH_CHECK(MkdirInRoot(dst_root.get(), dest_rel, 0755));
            ANYARCH_TRY(UniqueFd d, OpenInRoot(dst_root.get(), dest_rel, O_PATH | O_DIRECTORY));
            auto reader = FileReader::Open("/proc/self/fd/" + std::to_string(rd.get()));
            if (!reader) return Unexpected(reader.error());
            // Entries keep the tar's owners (BuildKit's applyRootArchive lchowns to the
            // header's ids); --chown replaces them on every entry.
            layer::UnpackOptions unpack;
            if (chown) unpack.owner = std::make_pair(chown->uid, chown->gid);
            auto stats =
                layer::ApplyLayer(**reader, "/proc/self/fd/" + std::to_string(d.get()), unpack);
            if (!stats)
              return Unexpected(
                  std::move(stats.error()).With(Where(env, step) + ": unpacking " + path));
            continue;
          }
        }
        if (flags.parents && !S_ISDIR(st.st_mode)) {
          target = JoinInRoot(dest_rel, path);
        } else if (flags.parents) {
          target = JoinInRoot(dest_rel, path);
        } else if (into_dir && !S_ISDIR(st.st_mode)) {
          target = JoinInRoot(dest_rel, Basename(path));
        }
        auto copied = copier.CopyTop(path, target);
        if (!copied) return Unexpected(std::move(copied.error()).With(Where(env, step)));
      }
      for (const auto& f : fetched) {
        std::string target = into_dir ? JoinInRoot(dest_rel, f.name) : dest_rel;
        auto copied = WriteDownload(dst_root.get(), f, target, chown, flags.chmod);
        if (!copied) return Unexpected(std::move(copied.error()).With(Where(env, step)));
      }
      for (const auto& [delim, content] : step.heredocs) {
        std::string target = into_dir ? JoinInRoot(dest_rel, delim) : dest_rel;
        std::string parent =
            target.find('/') == std::string::npos ? "" : target.substr(0, target.rfind('/'));
        ANYARCH_CHECK(MkdirInRoot(dst_root.get(), parent, 0755, chown ? chown->uid : -1,
                                  chown ? chown->gid : -1));
        ANYARCH_TRY(UniqueFd pd, OpenInRoot(dst_root.get(), parent, O_RDONLY | O_DIRECTORY));
        std::string name = Basename(target);
        ANYARCH_CHECK(RemoveAt(pd.get(), name));
        UniqueFd f(::openat(pd.get(), name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (f.get() < 0) return Unexpected(ErrnoError(errno, "creating /" + target));
        for (std::size_t off = 0; off < content.size();) {
          ssize_t w = ::write(f.get(), content.data() + off, content.size() - off);
          if (w < 0) return Unexpected(ErrnoError(errno, "writing /" + target));
          off += static_cast<std::size_t>(w);
        }
        if (chown) ::fchown(f.get(), chown->uid, chown->gid);
        ::fchmod(f.get(), flags.chmod ? *flags.chmod : 0644);
      }
      return Ok();
    });
  };
  return out;
}

Result<LayerStep> PrepareWorkdir(StageEnv& env, ImageState& state, const dockerfile::Step& step) {
  if (step.words.empty() || step.words[0].empty())
    return MakeError(ErrorCode::kInvalid, Where(env, step) + ": WORKDIR needs a path");
  // Appended, not "/" + ...: GCC 12 warns falsely (-Wrestrict) on that at -O2.
  std::string dir = std::string("/").append(JoinInRoot(state.WorkingDir(), step.words[0]));
  state.Run()["WorkingDir"] = dir;
  std::string user = state.User();
  LayerStep out;
  out.definition = {{"kind", "WORKDIR"}, {"dir", dir}, {"user", user}};
  out.created_by = "WORKDIR " + dir;
  out.reads = state.lowers;
  out.execute = [&env, lowers = state.lowers, dir, user](const Scratch& scratch) -> Status {
    std::vector<std::string> l = lowers;
    if (l.empty()) l.push_back(env.empty_dir);
    return isolation::WithOverlay(
        {.lowers = l, .upper = scratch.diff(), .work = scratch.work()},
        [&](const std::string& merged) -> Status {
          UniqueFd root(::open(merged.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
          if (root.get() < 0) return Unexpected(ErrnoError(errno, merged));
          if (OpenInRoot(root.get(), JoinInRoot("", dir), O_PATH | O_DIRECTORY)) return Ok();
          long uid = -1, gid = -1;
          if (!user.empty()) {
            auto ids = rootfs::ResolveUser(merged, user);
            if (ids) {
              uid = ids->uid;
              gid = ids->gid;
            }
          }
          return MkdirInRoot(root.get(), JoinInRoot("", dir), 0755, uid, gid);
        });
  };
  return out;
}

}  // namespace anyarch::build

namespace anyarch::build {

Status CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::create_directories(to, ec);
  if (ec) return MakeError(ErrorCode::kIo, to + ": " + ec.message());
  UniqueFd src(::open(from.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  UniqueFd dst(::open(to.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (src.get() < 0 || dst.get() < 0) return Unexpected(ErrnoError(errno, "copying into " + to));
  Copier copier(src.get(), dst.get(), nullptr, std::nullopt, std::nullopt, true, nullptr);
  return copier.CopyTop("", "");
}

}  // namespace anyarch::build

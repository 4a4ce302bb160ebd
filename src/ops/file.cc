#include "ops/file.h"

#include <filesystem>

#include "base/fs.h"
#include "base/io.h"
#include "base/strings.h"

namespace anyarch::ops {

const char* FileKindName(FileReport::Kind kind) {
  switch (kind) {
    case FileReport::Kind::kElf:
      return "elf";
    case FileReport::Kind::kScript:
      return "script";
    case FileReport::Kind::kOther:
      return "other";
    case FileReport::Kind::kDirectory:
      return "directory";
    case FileReport::Kind::kError:
      return "error";
  }
  return "other";
}

namespace {

Result<std::string> ReadHead(const std::string& path, std::size_t n) {
  ANYARCH_TRY(auto reader, FileReader::Open(path));
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ANYARCH_TRY(std::size_t k, reader->Read(out.data() + got, n - got));
    if (k == 0) break;
    got += k;
  }
  out.resize(got);
  return out;
}

}  // namespace

std::vector<FileReport> InspectFiles(const std::vector<std::string>& paths) {
  std::vector<FileReport> out;
  for (const auto& p : paths) {
    FileReport rep;
    rep.path = p;
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      rep.kind = FileReport::Kind::kDirectory;
      rep.note = "directory";
      out.push_back(std::move(rep));
      continue;
    }
    // Only the first bytes tell the kind; the ELF reader reads what else it needs itself.
    auto head = ReadHead(p, 4096);
    if (!head) {
      rep.kind = FileReport::Kind::kError;
      rep.note = head.error().ToString();
      out.push_back(std::move(rep));
      continue;
    }
    std::string_view h = *head;
    if (elf::IsElf(h)) {
      auto info = elf::InspectFile(p);
      if (info) {
        rep.kind = FileReport::Kind::kElf;
        rep.elf = *info;
      } else {
        rep.kind = FileReport::Kind::kOther;
        rep.note = "malformed ELF file: " + info.error().message();
      }
    } else if (h.size() >= 2 && h[0] == '#' && h[1] == '!') {
      rep.kind = FileReport::Kind::kScript;
      std::string line(h.substr(
          2, h.find('\n') == std::string_view::npos ? std::string_view::npos : h.find('\n') - 2));
      rep.script_interpreter = std::string(TrimSpace(line));
      rep.note =
          "script, runs on any platform that has " +
          (rep.script_interpreter.empty() ? std::string("an interpreter") : rep.script_interpreter);
    } else if (h.empty()) {
      rep.note = "empty file";
    } else if (h.size() >= 2 && static_cast<unsigned char>(h[0]) == 0x1f &&
               static_cast<unsigned char>(h[1]) == 0x8b) {
      rep.note = "gzip data, not an executable";
    } else if (h.size() >= 4 && h.substr(0, 4) == "PK\x03\x04") {
      rep.note = "zip archive (a .jar?), runs wherever its runtime runs";
    } else {
      bool text = true;
      for (char c : h.substr(0, 512)) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x09 || (u > 0x0d && u < 0x20)) text = false;
      }
      rep.note = text ? "text, not an executable" : "data, not an executable";
    }
    out.push_back(std::move(rep));
  }
  return out;
}

}  // namespace anyarch::ops

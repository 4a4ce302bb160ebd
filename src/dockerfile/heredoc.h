// Finding heredoc markers in RUN, COPY and ADD arguments, as BuildKit's parser does.
//
// BuildKit splits the instruction into words with its shell lexer in "raw" mode (quotes,
// escapes and unset variables kept as written, the escape character always "\", and "<<"
// followed by blanks kept in the same word as what follows), and takes every word of the form
// [digits]<<[-][blanks]rest as a heredoc when `rest` is one shell word:
//   RUN 3<<EOF        fd 3 (the shell sees "3<<EOF" in the command line)
//   <<-EOF            leading tabs are stripped from the body and from the terminator line
//   <<'EOF' <<"EOF"   quoted: the body is not expanded
//   <<eo'f' <<'e'o\'f partly quoted: the name is what the shell makes of it (eof, eo'f), and
//                     any quoting at all means no expansion; <<eo\'f is an escaped quote only,
//                     so it is named eo'f and does expand
//   <<'one two'       a quoted name may hold blanks
//   <<$EOF            a literal name "$EOF": variables in the name are not expanded
//   <<  EOF           blanks after "<<" (BuildKit 0.22+), also "<<  EOF  > foo"; "<<- EOF" is
//                     not a heredoc (the blanks after "-" end the word)
// Traps: the marker must start its word ("$((1<<2))" and "a<<EOF" are not heredocs, but
// "1<<2" is one, as in BuildKit); "<<<" is a here-string; a quoted marker ("'<<EOF'") is text;
// "<<EOF>file" is named "EOF>file" (BuildKit does not split at the redirection), so write
// "<<EOF >file".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace anyarch::dockerfile {

struct HeredocMarker {
  std::string name;        // the terminator line
  unsigned fd = 0;         // RUN 3<<EOF; 0 when not given
  bool chomp = false;      // <<-
  bool expand = true;      // false when any part of the name was quoted
  std::size_t offset = 0;  // of the marker word in the text
  std::size_t size = 0;    // of the marker word
};

// The markers in `args`, in order. kInvalid for a marker whose name has an unterminated quote
// (BuildKit: "unexpected end of statement while looking for matching single-quote").
Result<std::vector<HeredocMarker>> FindHeredocMarkers(std::string_view args);

}  // namespace anyarch::dockerfile

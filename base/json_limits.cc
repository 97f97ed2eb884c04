#include "base/json_limits.h"

#include "absl/strings/str_cat.h"

namespace edgeloop {

absl::Status CheckJsonLimits(absl::string_view text, absl::string_view origin, int max_depth,
                             size_t max_bytes) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": JSON of ", text.size(),
                                                   " bytes; at most ", max_bytes, " are read"));
  }
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return absl::InvalidArgumentError(absl::StrCat(origin, ": JSON nested deeper than ",
                                                       max_depth, " levels (at byte ", i, ")"));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return absl::OkStatus();
}

}  // namespace edgeloop

// Bounds checked before any JSON text reaches protobuf's parser, whose time grows faster
// than linearly with nesting depth (40,000 nested arrays took minutes) and which holds the
// whole document in memory.
//
// CheckJsonLimits scans `text` once, in linear time and constant memory, and returns
// InvalidArgument (naming `origin`) when the text is longer than `max_bytes` or nests
// objects and arrays deeper than `max_depth`; brackets inside strings do not count.
// Every JSON edgeloop parses (architectures, search state, model metadata, run files,
// CSV cells) goes through it with these defaults: the deepest document edgeloop writes
// nests 6 levels.
#ifndef EDGELOOP_BASE_JSON_LIMITS_H_
#define EDGELOOP_BASE_JSON_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace edgeloop {

inline constexpr int kMaxJsonDepth = 32;
inline constexpr size_t kMaxJsonBytes = size_t{256} << 20;

absl::Status CheckJsonLimits(absl::string_view text, absl::string_view origin,
                             int max_depth = kMaxJsonDepth, size_t max_bytes = kMaxJsonBytes);

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_JSON_LIMITS_H_

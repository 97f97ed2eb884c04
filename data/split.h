// Dataset splits by object and by layer range; never by frame, so neighbouring scan lines
// cannot leak between training and evaluation.
//
// Grammar (whitespace ignored):
//   spec   := "all" | term ("," term)*
//   term   := object [":" order "[" bound ":" bound "]"]
//   object := an object name (C027) | "*" (every object)
//   order  := "layers"          the object's layers sorted by layer number
//           | "random-layers"   the same layers in a fixed pseudo-random order (seeded by the
//                               object name only, so complementary ranges stay disjoint)
//   bound  := "" | N | P "%"    half-open positions like a Python slice: an empty lower bound
//                               is 0, an empty upper bound the layer count; P% of n layers is
//                               position round(P * n / 100); integers are clamped to [0, n]
// Examples: "C027:layers[0:80%]", "C027:layers[80%:]", "C029,C032", "*:layers[0:40]",
// "C030:random-layers[0:10%]", "all". A term naming an unknown object is an error. The
// selected scan lines keep the reader's order; terms that overlap select a line once.
#ifndef EDGELOOP_DATA_SPLIT_H_
#define EDGELOOP_DATA_SPLIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/reader.h"

namespace edgeloop::data {

struct SplitBound {
  bool set = false;
  bool percent = false;
  double value = 0;
};

struct SplitTerm {
  std::string object;  // "*" = every object
  bool random_order = false;
  SplitBound lo, hi;  // both unset = every layer
};

struct Split {
  std::string spec;
  std::vector<SplitTerm> terms;  // empty = all
};

absl::StatusOr<Split> ParseSplit(const std::string& spec);

// Indices into reader.lines() of the scan lines the split selects, ascending.
absl::StatusOr<std::vector<int64_t>> SelectLines(const Reader& reader, const Split& split);

}  // namespace edgeloop::data

#endif  // EDGELOOP_DATA_SPLIT_H_

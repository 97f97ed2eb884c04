#include "data/split.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/hash.h"
#include "base/rng.h"

namespace edgeloop::data {
namespace {

absl::Status BadSpec(const std::string& spec, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "split '", spec, "': ", why,
      " (expected e.g. all, C027,C028, C027:layers[0:80%], C030:random-layers[0:10%])"));
}

absl::StatusOr<SplitBound> ParseBound(const std::string& spec, std::string text) {
  SplitBound bound;
  if (text.empty()) return bound;
  bound.set = true;
  if (absl::EndsWith(text, "%")) {
    bound.percent = true;
    text.pop_back();
  }
  if (!absl::SimpleAtod(text, &bound.value) || !std::isfinite(bound.value) || bound.value < 0 ||
      (bound.percent && bound.value > 100) ||
      (!bound.percent && bound.value != std::floor(bound.value)))
    return BadSpec(spec, absl::StrCat("bad layer bound '", text, bound.percent ? "%" : "",
                                      "' (a non-negative integer or a percentage 0-100%)"));
  return bound;
}

int64_t Position(const SplitBound& bound, int64_t n, int64_t unset) {
  if (!bound.set) return unset;
  const double p =
      bound.percent ? std::round(bound.value * static_cast<double>(n) / 100.0) : bound.value;
  return std::clamp<int64_t>(static_cast<int64_t>(p), 0, n);
}

uint64_t NameSeed(const std::string& name) { return Fnv1a64(name); }

}  // namespace

absl::StatusOr<Split> ParseSplit(const std::string& spec_in) {
  Split split;
  std::string spec;
  for (char c : spec_in)
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) spec += c;
  split.spec = spec;
  if (spec.empty()) return BadSpec(spec_in, "empty split");
  if (spec == "all") return split;
  for (const std::string& text : std::vector<std::string>(absl::StrSplit(spec, ','))) {
    SplitTerm term;
    const size_t colon = text.find(':');
    term.object = text.substr(0, colon);
    if (term.object.empty())
      return BadSpec(spec, absl::StrCat("term '", text, "' names no object"));
    if (term.object == "all") term.object = "*";
    if (colon != std::string::npos) {
      std::string range = text.substr(colon + 1);
      if (absl::StartsWith(range, "random-")) {
        term.random_order = true;
        range = range.substr(7);
      }
      if (!absl::StartsWith(range, "layers[") || !absl::EndsWith(range, "]"))
        return BadSpec(spec, absl::StrCat("term '", text, "': expected layers[LO:HI] after ':'"));
      const std::string inner = range.substr(7, range.size() - 8);
      const size_t sep = inner.find(':');
      if (sep == std::string::npos || inner.find(':', sep + 1) != std::string::npos)
        return BadSpec(spec,
                       absl::StrCat("term '", text, "': expected one ':' inside layers[...]"));
      auto lo = ParseBound(spec, inner.substr(0, sep));
      if (!lo.ok()) return lo.status();
      auto hi = ParseBound(spec, inner.substr(sep + 1));
      if (!hi.ok()) return hi.status();
      term.lo = *lo;
      term.hi = *hi;
    }
    split.terms.push_back(term);
  }
  return split;
}

absl::StatusOr<std::vector<int64_t>> SelectLines(const Reader& reader, const Split& split) {
  const auto& layers = reader.layers();
  std::vector<bool> layer_selected(layers.size(), split.terms.empty());
  const std::vector<std::string> objects = reader.Objects();
  for (const SplitTerm& term : split.terms) {
    if (term.object != "*" &&
        std::find(objects.begin(), objects.end(), term.object) == objects.end())
      return absl::NotFoundError(
          absl::StrCat("split '", split.spec, "': object ", term.object,
                       " is not in the data (objects: ", absl::StrJoin(objects, ", "), ")"));
    for (const std::string& object : objects) {
      if (term.object != "*" && term.object != object) continue;
      std::vector<size_t> own;  // the object's layers in reader order (sorted by number)
      for (size_t i = 0; i < layers.size(); ++i)
        if (layers[i].object == object) own.push_back(i);
      if (term.random_order) {
        Rng rng(NameSeed(object));
        rng.Shuffle(&own);
      }
      const int64_t n = static_cast<int64_t>(own.size());
      const int64_t lo = Position(term.lo, n, 0), hi = Position(term.hi, n, n);
      for (int64_t p = lo; p < hi; ++p) layer_selected[own[static_cast<size_t>(p)]] = true;
    }
  }
  std::vector<int64_t> selected;
  const auto& lines = reader.lines();
  for (int64_t i = 0; i < static_cast<int64_t>(lines.size()); ++i)
    if (layer_selected[static_cast<size_t>(lines[i].layer)]) selected.push_back(i);
  return selected;
}

}  // namespace edgeloop::data

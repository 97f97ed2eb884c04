#include "arch/space.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace edgeloop::arch {
namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectErrors(std::string origin) : origin_(std::move(origin)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty())
      first_ = absl::StrCat(origin_, ":", line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string origin_;
  std::string first_;
};

template <typename T>
std::string JoinChoices(const T& values) {
  std::vector<std::string> parts;
  for (auto v : values) parts.push_back(absl::StrFormat("%g", static_cast<double>(v)));
  return absl::StrJoin(parts, ", ");
}

template <typename T>
bool Has(const google::protobuf::RepeatedField<T>& v, T x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Sorts ascending; returns false on duplicates or non-positive values.
template <typename T>
bool Normalise(google::protobuf::RepeatedField<T>* v) {
  std::sort(v->begin(), v->end());
  for (int i = 0; i < v->size(); ++i) {
    if (!((*v)[i] > 0)) return false;
    if (i > 0 && (*v)[i] == (*v)[i - 1]) return false;
  }
  return true;
}

absl::Status CheckList(absl::string_view origin, absl::string_view field, bool nonempty, bool ok) {
  if (!nonempty)
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": space field '", field, "' needs at least one choice"));
  if (!ok)
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": space field '", field, "' must list distinct positive values"));
  return absl::OkStatus();
}

template <typename T>
T MinOf(const google::protobuf::RepeatedField<T>& v) {
  return *std::min_element(v.begin(), v.end());
}
template <typename T>
T MaxOf(const google::protobuf::RepeatedField<T>& v) {
  return *std::max_element(v.begin(), v.end());
}

// Picks a uniformly random element of `choices` other than `current` (if any exists).
template <typename T>
T OtherChoice(const std::vector<T>& choices, T current, Rng* rng) {
  std::vector<T> others;
  for (T c : choices)
    if (c != current) others.push_back(c);
  if (others.empty()) return current;
  return rng->Choice(others);
}

template <typename T>
std::vector<T> ToVec(const google::protobuf::RepeatedField<T>& v) {
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

Space::Space(SearchSpace spec) : spec_(std::move(spec)) {}

absl::StatusOr<Space> Space::FromText(absl::string_view text, absl::string_view origin) {
  SearchSpace spec;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors{std::string(origin)};
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &spec)) {
    return absl::InvalidArgumentError(
        errors.first().empty() ? absl::StrCat(std::string(origin), ": malformed space file")
                               : errors.first());
  }
  const std::string o(origin);
  auto* p = spec.mutable_patch_size();
  for (auto [name, list] :
       {std::pair{"patch_size.t", p->mutable_t()}, std::pair{"patch_size.h", p->mutable_h()},
        std::pair{"patch_size.w", p->mutable_w()}}) {
    bool nonempty = !list->empty();
    if (auto s = CheckList(o, name, nonempty, Normalise(list)); !s.ok()) return s;
  }
  if (auto s =
          CheckList(o, "embed_dim", !spec.embed_dim().empty(), Normalise(spec.mutable_embed_dim()));
      !s.ok())
    return s;
  if (spec.stage_size() != kNumStages) {
    return absl::InvalidArgumentError(absl::StrCat(
        o, ": space field 'stage': got ", spec.stage_size(), " stages, expected exactly 4"));
  }
  for (int s = 0; s < kNumStages; ++s) {
    auto* st = spec.mutable_stage(s);
    if (auto e = CheckList(o, absl::StrCat("stage[", s, "].depth"), !st->depth().empty(),
                           Normalise(st->mutable_depth()));
        !e.ok())
      return e;
    if (auto e = CheckList(o, absl::StrCat("stage[", s, "].num_heads"), !st->num_heads().empty(),
                           Normalise(st->mutable_num_heads()));
        !e.ok())
      return e;
  }
  if (auto s =
          CheckList(o, "mlp_ratio", !spec.mlp_ratio().empty(), Normalise(spec.mutable_mlp_ratio()));
      !s.ok())
    return s;
  if (spec.window_size_size() != 3 ||
      std::any_of(spec.window_size().begin(), spec.window_size().end(),
                  [](int w) { return w < 1; })) {
    return absl::InvalidArgumentError(
        absl::StrCat(o, ": space field 'window_size' must be exactly 3 positive values (T, H, W)"));
  }
  if (auto s = CheckList(o, "resolution", !spec.resolution().empty(),
                         Normalise(spec.mutable_resolution()));
      !s.ok())
    return s;
  if (auto s = CheckList(o, "frames", !spec.frames().empty(), Normalise(spec.mutable_frames()));
      !s.ok())
    return s;
  std::set<std::string> names;
  for (const NamedArch& n : spec.named()) {
    if (n.name().empty() || n.name() == "min" || n.name() == "max" ||
        !names.insert(n.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(o, ": named architecture '", n.name(),
                       "': names must be non-empty, unique, and not 'min' or 'max'"));
    }
    if (auto s = ValidateStructure(n.arch()); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(o, ": named architecture '", n.name(), "': ", s.message()));
    }
  }
  Space space(std::move(spec));
  // Every embed_dim must leave at least one valid head count in every stage, else part of
  // the space would be silently empty.
  for (int32_t e : space.spec_.embed_dim()) {
    for (int s = 0; s < kNumStages; ++s) {
      if (space.ValidHeads(e, s).empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(o, ": no num_heads choice of stage ", s, " (",
                         JoinChoices(space.spec_.stage(s).num_heads()), ") divides its width ",
                         static_cast<int64_t>(e) << s, " for embed_dim ", e));
      }
    }
  }
  // Every resolution must fit the largest patch.
  if (MinOf(space.spec_.resolution()) < std::max(MaxOf(p->h()), MaxOf(p->w()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        o, ": resolution ", MinOf(space.spec_.resolution()), " is smaller than a patch"));
  }
  return space;
}

absl::StatusOr<Space> Space::FromFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read space file: ", text.status().message()));
  }
  return FromText(*text, path);
}

std::vector<int32_t> Space::ValidHeads(int32_t embed_dim, int stage) const {
  std::vector<int32_t> out;
  const int64_t width = static_cast<int64_t>(embed_dim) << stage;
  for (int32_t h : spec_.stage(stage).num_heads())
    if (width % h == 0) out.push_back(h);
  return out;
}

absl::Status Space::Contains(const ArchConfig& a) const {
  // Shape first (so indexing is safe), then membership (the most useful message for a value
  // the space does not offer), then the remaining structural rules.
  if (a.patch_size_size() != 3 || a.window_size_size() != 3 || a.depths_size() != kNumStages ||
      a.num_heads_size() != kNumStages) {
    return ValidateStructure(a);
  }
  auto outside = [&](absl::string_view field, const std::string& value,
                     const std::string& allowed) {
    return absl::InvalidArgumentError(absl::StrCat("arch field '", field, "': got ", value,
                                                   ", not in space '", spec_.name(),
                                                   "'; allowed: ", allowed));
  };
  const auto& p = spec_.patch_size();
  const char* dims[3] = {"patch_size[0] (T)", "patch_size[1] (H)", "patch_size[2] (W)"};
  const google::protobuf::RepeatedField<int32_t>* lists[3] = {&p.t(), &p.h(), &p.w()};
  for (int i = 0; i < 3; ++i) {
    if (!Has(*lists[i], a.patch_size(i)))
      return outside(dims[i], absl::StrCat(a.patch_size(i)), JoinChoices(*lists[i]));
  }
  if (!Has(spec_.embed_dim(), a.embed_dim()))
    return outside("embed_dim", absl::StrCat(a.embed_dim()), JoinChoices(spec_.embed_dim()));
  for (int s = 0; s < kNumStages; ++s) {
    if (!Has(spec_.stage(s).depth(), a.depths(s)))
      return outside(absl::StrCat("depths[", s, "]"), absl::StrCat(a.depths(s)),
                     JoinChoices(spec_.stage(s).depth()));
    if (!Has(spec_.stage(s).num_heads(), a.num_heads(s)))
      return outside(absl::StrCat("num_heads[", s, "]"), absl::StrCat(a.num_heads(s)),
                     JoinChoices(spec_.stage(s).num_heads()));
  }
  if (!Has(spec_.mlp_ratio(), a.mlp_ratio()))
    return outside("mlp_ratio", absl::StrFormat("%g", a.mlp_ratio()),
                   JoinChoices(spec_.mlp_ratio()));
  for (int i = 0; i < 3; ++i) {
    if (a.window_size(i) != spec_.window_size(i)) {
      return outside("window_size", absl::StrCat("[", absl::StrJoin(a.window_size(), ","), "]"),
                     absl::StrCat("[", absl::StrJoin(spec_.window_size(), ","), "] (fixed)"));
    }
  }
  if (!Has(spec_.resolution(), a.resolution()))
    return outside("resolution", absl::StrCat(a.resolution()), JoinChoices(spec_.resolution()));
  if (!Has(spec_.frames(), a.frames()))
    return outside("frames", absl::StrCat(a.frames()), JoinChoices(spec_.frames()));
  return ValidateStructure(a);
}

ArchConfig Space::Sample(Rng* rng) const {
  // Choose embed_dim in proportion to the number of valid architectures it admits, so the
  // draw is uniform over the space, then every other gene uniformly.
  std::vector<uint64_t> weights;
  uint64_t total = 0;
  for (int32_t e : spec_.embed_dim()) {
    uint64_t w = 1;
    for (int s = 0; s < kNumStages; ++s) w *= ValidHeads(e, s).size();
    weights.push_back(w);
    total += w;
  }
  uint64_t r = rng->Uniform(total);
  int32_t embed = spec_.embed_dim(0);
  for (int i = 0; i < spec_.embed_dim_size(); ++i) {
    if (r < weights[i]) {
      embed = spec_.embed_dim(i);
      break;
    }
    r -= weights[i];
  }
  ArchConfig a;
  a.add_patch_size(rng->Choice(ToVec(spec_.patch_size().t())));
  a.add_patch_size(rng->Choice(ToVec(spec_.patch_size().h())));
  a.add_patch_size(rng->Choice(ToVec(spec_.patch_size().w())));
  a.set_embed_dim(embed);
  for (int s = 0; s < kNumStages; ++s) a.add_depths(rng->Choice(ToVec(spec_.stage(s).depth())));
  for (int s = 0; s < kNumStages; ++s) a.add_num_heads(rng->Choice(ValidHeads(embed, s)));
  for (int w : spec_.window_size()) a.add_window_size(w);
  a.set_mlp_ratio(rng->Choice(ToVec(spec_.mlp_ratio())));
  a.set_resolution(rng->Choice(ToVec(spec_.resolution())));
  a.set_frames(rng->Choice(ToVec(spec_.frames())));
  return a;
}

// The cheapest corner takes the largest patch (fewest tokens) and the smallest of every
// other dimension; the most expensive corner the opposite.
ArchConfig Space::Corner(bool cheapest) const {
  auto pick = [cheapest](const auto& list, bool larger_is_cheaper) {
    return cheapest == larger_is_cheaper ? MaxOf(list) : MinOf(list);
  };
  ArchConfig a;
  a.add_patch_size(pick(spec_.patch_size().t(), true));
  a.add_patch_size(pick(spec_.patch_size().h(), true));
  a.add_patch_size(pick(spec_.patch_size().w(), true));
  a.set_embed_dim(pick(spec_.embed_dim(), false));
  for (int s = 0; s < kNumStages; ++s) a.add_depths(pick(spec_.stage(s).depth(), false));
  for (int s = 0; s < kNumStages; ++s) {
    auto valid = ValidHeads(a.embed_dim(), s);
    a.add_num_heads(cheapest ? valid.front() : valid.back());
  }
  for (int w : spec_.window_size()) a.add_window_size(w);
  a.set_mlp_ratio(pick(spec_.mlp_ratio(), false));
  a.set_resolution(pick(spec_.resolution(), false));
  a.set_frames(pick(spec_.frames(), false));
  return a;
}

ArchConfig Space::Min() const { return Corner(true); }
ArchConfig Space::Max() const { return Corner(false); }

std::vector<std::string> Space::Names() const {
  std::vector<std::string> names = {"min", "max"};
  bool has_baseline = false;
  for (const NamedArch& n : spec_.named()) {
    names.push_back(n.name());
    has_baseline |= n.name() == "baseline";
  }
  if (!has_baseline) names.push_back("baseline");
  return names;
}

absl::StatusOr<ArchConfig> Space::Named(absl::string_view name) const {
  if (name == "min") return Min();
  if (name == "max") return Max();
  for (const NamedArch& n : spec_.named())
    if (n.name() == name) return n.arch();
  if (name == "baseline") return BaselineArch();
  return absl::InvalidArgumentError(absl::StrCat("unknown architecture name '", name,
                                                 "'; known: ", absl::StrJoin(Names(), ", ")));
}

// Gene order: patch T, H, W; embed_dim; depths[0..3]; num_heads[0..3]; mlp_ratio;
// resolution; frames.
void Space::MutateGene(int gene, ArchConfig* a, Rng* rng) const {
  const auto& p = spec_.patch_size();
  if (gene < 3) {
    const auto& list = gene == 0 ? p.t() : gene == 1 ? p.h() : p.w();
    a->set_patch_size(gene, OtherChoice(ToVec(list), a->patch_size(gene), rng));
  } else if (gene == 3) {
    a->set_embed_dim(OtherChoice(ToVec(spec_.embed_dim()), a->embed_dim(), rng));
  } else if (gene < 8) {
    int s = gene - 4;
    a->set_depths(s, OtherChoice(ToVec(spec_.stage(s).depth()), a->depths(s), rng));
  } else if (gene < 12) {
    int s = gene - 8;
    a->set_num_heads(s, OtherChoice(ValidHeads(a->embed_dim(), s), a->num_heads(s), rng));
  } else if (gene == 12) {
    a->set_mlp_ratio(OtherChoice(ToVec(spec_.mlp_ratio()), a->mlp_ratio(), rng));
  } else if (gene == 13) {
    a->set_resolution(OtherChoice(ToVec(spec_.resolution()), a->resolution(), rng));
  } else {
    a->set_frames(OtherChoice(ToVec(spec_.frames()), a->frames(), rng));
  }
}

void Space::CopyGene(int gene, const ArchConfig& from, ArchConfig* to) const {
  if (gene < 3)
    to->set_patch_size(gene, from.patch_size(gene));
  else if (gene == 3)
    to->set_embed_dim(from.embed_dim());
  else if (gene < 8)
    to->set_depths(gene - 4, from.depths(gene - 4));
  else if (gene < 12)
    to->set_num_heads(gene - 8, from.num_heads(gene - 8));
  else if (gene == 12)
    to->set_mlp_ratio(from.mlp_ratio());
  else if (gene == 13)
    to->set_resolution(from.resolution());
  else
    to->set_frames(from.frames());
}

void Space::RepairHeads(ArchConfig* a, Rng* rng) const {
  for (int s = 0; s < kNumStages; ++s) {
    auto valid = ValidHeads(a->embed_dim(), s);
    if (std::find(valid.begin(), valid.end(), a->num_heads(s)) == valid.end())
      a->set_num_heads(s, rng->Choice(valid));
  }
}

ArchConfig Space::Mutate(const ArchConfig& arch, double prob, Rng* rng) const {
  ArchConfig a = arch;
  for (int g = 0; g < kNumGenes; ++g)
    if (rng->Bernoulli(prob)) MutateGene(g, &a, rng);
  RepairHeads(&a, rng);
  return a;
}

ArchConfig Space::Crossover(const ArchConfig& x, const ArchConfig& y, Rng* rng) const {
  ArchConfig a = x;
  for (int g = 0; g < kNumGenes; ++g)
    if (rng->Bernoulli(0.5)) CopyGene(g, y, &a);
  RepairHeads(&a, rng);
  return a;
}

uint64_t Space::NumArchitectures() const {
  unsigned __int128 per_embed_sum = 0;
  for (int32_t e : spec_.embed_dim()) {
    unsigned __int128 w = 1;
    for (int s = 0; s < kNumStages; ++s)
      w *= static_cast<unsigned __int128>(ValidHeads(e, s).size()) * spec_.stage(s).depth_size();
    per_embed_sum += w;
  }
  unsigned __int128 n = per_embed_sum;
  for (int k :
       {spec_.patch_size().t_size(), spec_.patch_size().h_size(), spec_.patch_size().w_size(),
        spec_.mlp_ratio_size(), spec_.resolution_size(), spec_.frames_size()}) {
    n *= static_cast<unsigned __int128>(k);
    if (n > UINT64_MAX) return UINT64_MAX;
  }
  return static_cast<uint64_t>(n);
}

std::vector<Space::Dimension> Space::Dimensions() const {
  auto dim = [](std::string name, const auto& list) {
    Dimension d{std::move(name), {}};
    for (auto v : list) d.choices.push_back(absl::StrFormat("%g", static_cast<double>(v)));
    return d;
  };
  std::vector<Dimension> out;
  out.push_back(dim("patch_size.t", spec_.patch_size().t()));
  out.push_back(dim("patch_size.h", spec_.patch_size().h()));
  out.push_back(dim("patch_size.w", spec_.patch_size().w()));
  out.push_back(dim("embed_dim", spec_.embed_dim()));
  for (int s = 0; s < kNumStages; ++s)
    out.push_back(dim(absl::StrCat("depths[", s, "]"), spec_.stage(s).depth()));
  for (int s = 0; s < kNumStages; ++s)
    out.push_back(dim(absl::StrCat("num_heads[", s, "]"), spec_.stage(s).num_heads()));
  out.push_back(dim("mlp_ratio", spec_.mlp_ratio()));
  Dimension win{"window_size", {absl::StrCat("(", absl::StrJoin(spec_.window_size(), ","), ")")}};
  out.push_back(win);
  out.push_back(dim("resolution", spec_.resolution()));
  out.push_back(dim("frames", spec_.frames()));
  return out;
}

absl::StatusOr<ArchConfig> ResolveArch(absl::string_view arg, const Space* space) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(arg);
  if (trimmed.empty()) return absl::InvalidArgumentError("--arch is empty");
  if (trimmed.front() == '{') return ArchFromJson(trimmed);
  if (trimmed.find('/') != absl::string_view::npos || absl::EndsWith(trimmed, ".json")) {
    auto text = ReadFile(std::string(trimmed));
    if (!text.ok())
      return absl::InvalidArgumentError(absl::StrCat("--arch: ", text.status().message()));
    auto arch = ArchFromJson(*text);
    if (!arch.ok())
      return absl::InvalidArgumentError(absl::StrCat(trimmed, ": ", arch.status().message()));
    return arch;
  }
  if (space != nullptr) return space->Named(trimmed);
  if (trimmed == "baseline") return BaselineArch();
  return absl::InvalidArgumentError(absl::StrCat(
      "--arch '", trimmed, "' is neither JSON, a .json file, nor a known name (baseline)"));
}

}  // namespace edgeloop::arch

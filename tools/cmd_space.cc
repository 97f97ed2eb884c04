// `edgeloop space info|sample|validate`: inspect a search space file.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "arch/space.h"
#include "base/rng.h"
#include "tools/cli/command.h"

namespace edgeloop {
namespace {

using cli::FlagSet;

std::string Thousands(int64_t v) {
  std::string digits = absl::StrCat(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string CostJson(const ArchConfig& arch, bool in_space) {
  arch::Cost c = arch::ComputeCost(arch);
  return absl::StrCat("{\"params\":", c.params, ",\"flops\":", c.flops, ",\"key\":\"",
                      arch::CanonicalKey(arch), "\",\"in_space\":", in_space ? "true" : "false",
                      ",\"arch\":", arch::ArchToJson(arch), "}");
}

int SpaceInfo(const std::vector<std::string>& args) {
  std::string space_path;
  bool json = false;
  FlagSet flags("space info",
                "Prints the dimensions of a search space, its number of "
                "architectures and the params/FLOPs of min, max and baseline.");
  flags.String("space", &space_path,
               "search space text-format file (e.g. "
               "supernet/spaces/swin3d_lpbf.textproto)",
               cli::InputFile(), true);
  flags.Bool("json", &json, "print one JSON object instead of a table");
  int code;
  if (!cli::ParseFlags(&flags, "space info", args, &code)) return code;
  auto space = arch::Space::FromFile(space_path);
  if (!space.ok()) return cli::ReportError("space info", space.status());

  const ArchConfig min = space->Min(), max = space->Max();
  const ArchConfig baseline = *space->Named("baseline");
  const bool baseline_in = space->Contains(baseline).ok();
  if (json) {
    std::string dims;
    for (const auto& d : space->Dimensions()) {
      if (!dims.empty()) dims += ",";
      std::vector<std::string> quoted;
      for (const auto& c : d.choices) quoted.push_back(absl::StrCat("\"", c, "\""));
      absl::StrAppend(&dims, "\"", d.name, "\":[", absl::StrJoin(quoted, ","), "]");
    }
    std::printf("{\"name\":\"%s\",\"architectures\":%" PRIu64
                ",\"dimensions\":{%s},\"min\":%s,\"max\":%s,\"baseline\":%s}\n",
                space->name().c_str(), space->NumArchitectures(), dims.c_str(),
                CostJson(min, true).c_str(), CostJson(max, true).c_str(),
                CostJson(baseline, baseline_in).c_str());
    return cli::kExitOk;
  }
  std::printf("space %s", space->name().c_str());
  if (!space->spec().description().empty())
    std::printf(": %s", space->spec().description().c_str());
  std::printf("\n\ndimensions:\n");
  for (const auto& d : space->Dimensions())
    std::printf("  %-14s %s\n", d.name.c_str(), absl::StrJoin(d.choices, ", ").c_str());
  std::printf("\narchitectures: %s\n\n",
              Thousands(static_cast<int64_t>(space->NumArchitectures())).c_str());
  std::printf("  %-9s %14s %18s  %s\n", "", "params", "FLOPs (MAC)", "arch");
  for (auto [label, arch] : {std::pair<const char*, const ArchConfig*>{"min", &min},
                             {"max", &max},
                             {"baseline", &baseline}}) {
    arch::Cost c = arch::ComputeCost(*arch);
    std::printf("  %-9s %14s %18s  %s%s\n", label, Thousands(c.params).c_str(),
                Thousands(c.flops).c_str(), arch::ArchToJson(*arch).c_str(),
                (arch == &baseline && !baseline_in) ? "  (outside this space)" : "");
  }
  return cli::kExitOk;
}

int SpaceSample(const std::vector<std::string>& args) {
  std::string space_path;
  int64_t n = 10, seed = 0;
  bool with_cost = false;
  FlagSet flags("space sample",
                "Prints N architectures drawn uniformly from a space, one JSON "
                "object per line; the same seed gives the same lines.");
  flags.String("space", &space_path, "search space text-format file", cli::InputFile(), true);
  flags.Int("n", &n, "number of architectures", cli::AtLeast(0));
  flags.Int("seed", &seed, "random seed", cli::AtLeast(0));
  flags.Bool("cost", &with_cost,
             "print {\"params\",\"flops\",\"key\",\"arch\"} objects instead of bare architectures");
  int code;
  if (!cli::ParseFlags(&flags, "space sample", args, &code)) return code;
  auto space = arch::Space::FromFile(space_path);
  if (!space.ok()) return cli::ReportError("space sample", space.status());
  Rng rng(static_cast<uint64_t>(seed));
  for (int64_t i = 0; i < n; ++i) {
    ArchConfig a = space->Sample(&rng);
    std::printf("%s\n", with_cost ? CostJson(a, true).c_str() : arch::ArchToJson(a).c_str());
  }
  return cli::kExitOk;
}

int SpaceValidate(const std::vector<std::string>& args) {
  std::string space_path, arch_arg;
  FlagSet flags("space validate",
                "Checks that an architecture is valid and inside a space; prints its canonical "
                "key, params and FLOPs, or the reason it is not (exit 2).");
  flags.String("space", &space_path, "search space text-format file", cli::InputFile(), true);
  flags.String("arch", &arch_arg,
               "architecture: JSON object, path to a .json file, or a name "
               "(min, max, baseline, ...)",
               cli::InputFileIfPathLike(), true);
  int code;
  if (!cli::ParseFlags(&flags, "space validate", args, &code)) return code;
  auto space = arch::Space::FromFile(space_path);
  if (!space.ok()) return cli::ReportError("space validate", space.status());
  auto arch = arch::ResolveArch(arch_arg, &*space);
  if (!arch.ok()) return cli::ReportError("space validate", arch.status());
  if (auto s = space->Contains(*arch); !s.ok()) return cli::ReportError("space validate", s);
  std::printf("%s\n", CostJson(*arch, true).c_str());
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"space info", "dimensions, size and min/max/baseline cost of a search space", SpaceInfo},
    {"space sample", "seeded uniform samples of a search space as JSON lines", SpaceSample},
    {"space validate", "check an architecture against a search space", SpaceValidate},
});

}  // namespace

}  // namespace edgeloop

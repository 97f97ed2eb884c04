#include "search/outputs.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "base/proto_json.h"
#include "search/search_state.pb.h"

namespace edgeloop::search {
namespace {

std::string Num(double v) { return std::isfinite(v) ? absl::StrFormat("%.9g", v) : ""; }

std::string CsvQuote(const std::string& s) {
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

std::string PlotRow(const Candidate& c) {
  return absl::StrFormat("%.9g %.9g\n", c.latency_ms(), c.val_mse);
}

}  // namespace

absl::Status WriteFrontCsv(const SearchResult& result, const std::string& path) {
  std::string text =
      "rank,key,verified,val_mse,rmse_speed_mm_s,rmse_power_w,latency_ms,measured_ms,"
      "measured_p90_ms,predicted_ms,params,flops,chosen,arch_json\n";
  int rank = 0;
  for (int i : result.front) {
    const Candidate& c = result.archive[i];
    absl::StrAppend(&text, rank++, ",", c.key, ",", c.measured() ? 1 : 0, ",", Num(c.val_mse), ",",
                    Num(c.rmse_speed_mm_s), ",", Num(c.rmse_power_w), ",", Num(c.latency_ms()), ",",
                    Num(c.measured_ms), ",", Num(c.measured_p90_ms), ",", Num(c.predicted_ms), ",",
                    c.params, ",", c.flops, ",", i == result.chosen ? 1 : 0, ",",
                    CsvQuote(arch::ArchToJson(c.arch)), "\n");
  }
  return WriteFileAtomically(path, text);
}

absl::Status WriteFrontJson(const SearchResult& result, const OutputContext& context,
                            const std::string& path) {
  FrontRecord record;
  record.set_strategy(context.strategy);
  record.set_device(context.device);
  record.set_batch(context.batch);
  *record.mutable_max_latency_ms() = NumberOrNull(context.max_latency_ms);
  int measured = 0, scored = 0;
  for (const Candidate& c : result.archive) {
    scored += !std::isnan(c.val_mse);
    measured += c.measured();
  }
  record.set_evaluated(scored);
  record.set_measured(measured);
  record.set_verified(result.verified);
  record.set_feasible(result.feasible);
  record.set_message(result.message);
  *record.mutable_seconds() = NumberOrNull(result.seconds);
  if (result.chosen >= 0)
    *record.mutable_chosen() = CandidateToRecord(result.archive[result.chosen]);
  if (result.baseline) *record.mutable_baseline() = CandidateToRecord(*result.baseline);
  for (int i : result.front) *record.add_front() = CandidateToRecord(result.archive[i]);
  absl::StatusOr<std::string> json = ProtoToJson(record);
  if (!json.ok()) return json.status();
  return WriteFileAtomically(path, *json + "\n");
}

absl::Status PlotPareto(const SearchResult& result, const OutputContext& context,
                        const std::string& png_path) {
  const std::string stem = png_path + ".plot";
  std::string all, verified, unverified, chosen, baseline;
  for (const Candidate& c : result.archive) {
    if (!std::isnan(c.val_mse) && std::isfinite(c.latency_ms())) absl::StrAppend(&all, PlotRow(c));
  }
  for (int i : result.front) {
    const Candidate& c = result.archive[i];
    absl::StrAppend(c.measured() ? &verified : &unverified, PlotRow(c));
  }
  std::string front_line;
  for (int i : result.front) absl::StrAppend(&front_line, PlotRow(result.archive[i]));
  if (result.chosen >= 0) chosen = PlotRow(result.archive[result.chosen]);
  if (result.baseline && std::isfinite(result.baseline->latency_ms()))
    baseline = PlotRow(*result.baseline);
  struct Series {
    const char* name;
    const std::string* rows;
    const char* style;
  };
  const Series series[] = {
      {"all", &all, "with points pt 7 ps 0.5 lc rgb '#b0b0b0' title 'evaluated'"},
      {"line", &front_line, "with lines lw 1.5 lc rgb '#1f77b4' notitle"},
      {"verified", &verified, "with points pt 7 ps 1.2 lc rgb '#1f77b4' title 'front (measured)'"},
      {"unverified", &unverified,
       "with points pt 6 ps 1.2 lc rgb '#1f77b4' title 'front (predicted only)'"},
      {"baseline", &baseline, "with points pt 5 ps 1.8 lc rgb '#d62728' title 'baseline'"},
      {"chosen", &chosen, "with points pt 3 ps 2.5 lw 2 lc rgb '#2ca02c' title 'chosen'"},
  };
  std::vector<std::string> plots;
  std::vector<std::string> files;
  for (const Series& s : series) {
    if (s.rows->empty()) continue;
    const std::string file = absl::StrCat(stem, ".", s.name, ".dat");
    if (absl::Status st = WriteFileAtomically(file, *s.rows); !st.ok()) return st;
    files.push_back(file);
    plots.push_back(absl::StrCat("'", file, "' using 1:2 ", s.style));
  }
  if (plots.empty())
    return absl::FailedPreconditionError("nothing to plot: no candidate was scored");
  const std::string script = absl::StrCat(
      "set terminal pngcairo size 1000,700 noenhanced\n"
      "set output '",
      png_path, ".tmp'\n", "set title 'edgeloop search (", context.strategy, ", batch ",
      context.batch, ", ", context.device,
      ")'\n"
      "set xlabel 'latency (ms, ",
      result.verified ? "measured" : "measured where marked",
      ")'\n"
      "set ylabel 'validation MSE (inherited weights)'\n"
      "set logscale x\nset grid\nset key top right\n",
      context.max_latency_ms > 0
          ? absl::StrCat("set arrow from ", context.max_latency_ms, ", graph 0 to ",
                         context.max_latency_ms, ", graph 1 nohead dt 2 lc rgb '#888888'\n")
          : "",
      "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  const std::string script_path = stem + ".gp";
  if (absl::Status st = WriteFileAtomically(script_path, script); !st.ok()) return st;
  const std::string command = absl::StrCat("gnuplot '", script_path, "' 2>'", stem, ".log'");
  const int rc = std::system(command.c_str());
  for (const std::string& f : files) std::remove(f.c_str());
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("gnuplot failed (exit ", rc,
                                               "; is gnuplot-nox installed?); see ", stem, ".log; ",
                                               "front.csv and front.json are complete"));
  }
  std::remove((stem + ".log").c_str());
  std::remove(script_path.c_str());
  if (std::rename((png_path + ".tmp").c_str(), png_path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", png_path));
  }
  return absl::OkStatus();
}

}  // namespace edgeloop::search

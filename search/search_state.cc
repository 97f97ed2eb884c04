#include "search/search_state.h"

#include <cstdio>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/atomic_file.h"
#include "base/proto_json.h"

namespace edgeloop::search {
namespace {

constexpr char kStateFormat[] = "edgeloop-search-v1";
constexpr char kVerifyPhase[] = "verify";

std::string StatePath(const std::string& dir) { return dir + "/state.json"; }
std::string LogPath(const std::string& dir) { return dir + "/log.jsonl"; }

absl::Status Invalid(const std::string& origin, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(origin, ": ", what));
}

SearchStateRecord ToRecord(const SearchState& state) {
  SearchStateRecord r;
  r.set_format(kStateFormat);
  r.set_identity(state.settings.identity);
  r.set_strategy(state.settings.strategy);
  r.set_seed(state.settings.seed);
  r.set_generation(state.generation);
  r.set_finished(state.finished);
  for (uint64_t word : state.rng) r.add_rng(word);
  for (double v : state.reference_point) r.add_reference_point(v);
  for (const std::string& key : state.population) r.add_population(key);
  r.set_es_parent(state.es_parent);
  if (state.baseline) *r.mutable_baseline() = CandidateToRecord(*state.baseline);
  r.set_latency_state(state.latency_state);
  for (const Candidate& c : state.archive) *r.add_archive() = CandidateToRecord(c);
  return r;
}

// The candidates of the record, then the population and the ES parent checked against them.
absl::Status ReadMembers(const SearchStateRecord& r, const std::string& origin,
                         SearchState* state) {
  if (r.archive_size() == 0) return Invalid(origin, "no archive");
  absl::flat_hash_set<std::string> keys;
  for (const CandidateRecord& record : r.archive()) {
    absl::StatusOr<Candidate> c = CandidateFromRecord(record, origin);
    if (!c.ok()) return c.status();
    keys.insert(c->key);
    state->archive.push_back(std::move(*c));
  }
  for (const std::string& key : r.population()) {
    if (!keys.contains(key)) {
      return Invalid(origin, absl::StrCat("population member ", key, " is not in the archive"));
    }
    state->population.push_back(key);
  }
  state->es_parent = keys.contains(r.es_parent()) ? r.es_parent() : "";
  if (r.has_baseline()) {
    absl::StatusOr<Candidate> c = CandidateFromRecord(r.baseline(), origin);
    if (!c.ok()) return c.status();
    state->baseline = std::move(*c);
  }
  return absl::OkStatus();
}

absl::StatusOr<SearchState> FromRecord(const SearchStateRecord& r, const std::string& origin) {
  if (r.format() != kStateFormat) return Invalid(origin, "not an edgeloop search state");
  if (r.strategy().empty()) return Invalid(origin, "incomplete search state");
  if (r.rng_size() != 4) return Invalid(origin, "bad rng state");
  if (r.reference_point_size() != 2) return Invalid(origin, "no reference point");
  SearchState state;
  state.settings = {r.identity(), r.strategy(), r.seed()};
  state.generation = r.generation();
  state.finished = r.finished();
  state.rng.assign(r.rng().begin(), r.rng().end());
  state.reference_point = {r.reference_point(0), r.reference_point(1)};
  state.latency_state = r.latency_state();
  if (absl::Status s = ReadMembers(r, origin, &state); !s.ok()) return s;
  return state;
}

// Whether a line of the log survives a resume from a state saved after `generation`.
bool KeepLogLine(absl::string_view line, int generation, bool finished) {
  VerifyLogRecord verify;
  if (ProtoFromJson(line, "log", &verify).ok() && verify.phase() == kVerifyPhase) {
    return finished;  // the verification of an unfinished search runs again
  }
  GenerationLogRecord record;
  return ProtoFromJson(line, "log", &record).ok() && record.generation() <= generation;
}

absl::Status TrimLog(const std::string& dir, int generation, bool finished) {
  absl::StatusOr<std::string> log = ReadFile(LogPath(dir));
  if (!log.ok()) return absl::OkStatus();  // nothing logged yet
  std::string kept;
  for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
    if (KeepLogLine(line, generation, finished)) absl::StrAppend(&kept, line, "\n");
  }
  return WriteFileAtomically(LogPath(dir), kept);
}

absl::Status AppendLine(const std::string& dir, const google::protobuf::Message& line) {
  absl::StatusOr<std::string> json = ProtoToJson(line);
  if (!json.ok()) return json.status();
  const std::string path = LogPath(dir);
  FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return absl::UnavailableError(absl::StrCat("cannot append to ", path));
  std::fprintf(f, "%s\n", json->c_str());
  std::fflush(f);
  std::fclose(f);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> SearchStateToJson(const SearchState& state) {
  absl::StatusOr<std::string> json = ProtoToJson(ToRecord(state));
  if (!json.ok()) return json.status();
  return *json + "\n";
}

absl::StatusOr<SearchState> SearchStateFromJson(absl::string_view text, const std::string& origin) {
  SearchStateRecord record;
  if (absl::Status s = ProtoFromJson(text, origin, &record); !s.ok()) return s;
  return FromRecord(record, origin);
}

bool HasSearchState(const std::string& dir) { return PathExists(StatePath(dir)); }

absl::Status SaveSearchState(const std::string& dir, const SearchState& state) {
  absl::StatusOr<std::string> json = SearchStateToJson(state);
  if (!json.ok()) return json.status();
  return WriteFileAtomically(StatePath(dir), *json);
}

absl::StatusOr<SearchState> LoadSearchState(const std::string& dir) {
  const std::string path = StatePath(dir);
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return SearchStateFromJson(*text, path);
}

absl::StatusOr<SearchState> ResumeSearchState(const std::string& dir,
                                              const SearchSettings& expected) {
  absl::StatusOr<SearchState> state = LoadSearchState(dir);
  if (!state.ok()) return state.status();
  const SearchSettings& saved = state->settings;
  if (saved.identity != expected.identity || saved.strategy != expected.strategy ||
      saved.seed != expected.seed) {
    return absl::FailedPreconditionError(absl::StrCat(
        StatePath(dir), ": the saved search used other settings (", saved.strategy, ", seed ",
        saved.seed, ", ", saved.identity, "); resume with the same flags or use another --out"));
  }
  if (absl::Status s = TrimLog(dir, state->generation, state->finished); !s.ok()) return s;
  RemoveStaleTempFiles(dir);  // a state.json.tmp.PID of a search that was killed
  return state;
}

absl::Status AppendSearchLog(const std::string& dir, const GenerationLogRecord& line) {
  return AppendLine(dir, line);
}

absl::Status AppendSearchLog(const std::string& dir, const VerifyLogRecord& line) {
  return AppendLine(dir, line);
}

void RemoveSearchLog(const std::string& dir) { std::remove(LogPath(dir).c_str()); }

}  // namespace edgeloop::search

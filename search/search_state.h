// The persisted state of a search, SEARCH_DIR/state.json, and its log, SEARCH_DIR/log.jsonl.
//
// The searcher saves its state atomically after every finished generation and appends a log
// line per generation and per verification round. A resume loads the state only under the
// settings it was saved with and drops the log lines of work the state does not hold, so a
// resumed search logs every generation once. Given the same measurements, a search resumed
// from a state continues exactly as the uninterrupted one: the state holds every score and
// measurement, the RNG state and the latency source's own state, doubles written so that
// they read back bit for bit.
//
// Both files are JSON records of search/search_state.proto (see search/json_record.h);
// files written by earlier versions have the same keys and load as well.
#ifndef EDGELOOP_SEARCH_SEARCH_STATE_H_
#define EDGELOOP_SEARCH_SEARCH_STATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "search/candidate.h"
#include "search/pareto.h"
#include "search/search_state.pb.h"

namespace edgeloop::search {

// What a saved search must match to be resumed.
struct SearchSettings {
  std::string identity;  // run, data, split, batch, operators... (SearchOptions::identity)
  std::string strategy;  // StrategyName()
  uint64_t seed = 0;
};

struct SearchState {
  SearchSettings settings;
  int generation = 0;         // the last finished generation
  bool finished = false;      // the final verification is done too
  std::vector<uint64_t> rng;  // the searcher's Rng::State(), 4 words
  Point reference_point = {0, 0};
  std::vector<Candidate> archive;       // every architecture seen, in the order first seen
  std::vector<std::string> population;  // keys of archive members
  std::string es_parent;                // key of an archive member; empty: none
  std::optional<Candidate> baseline;
  std::string latency_state;  // LatencySource::SaveState()
};

// The state as JSON and back. Parsing checks what the searcher relies on: the format tag,
// the RNG state, the reference point, candidates with well-formed architectures and a
// population drawn from the archive; an `es_parent` not in the archive reads as none.
absl::StatusOr<std::string> SearchStateToJson(const SearchState& state);
absl::StatusOr<SearchState> SearchStateFromJson(absl::string_view text, const std::string& origin);

// DIR/state.json.
bool HasSearchState(const std::string& dir);
absl::Status SaveSearchState(const std::string& dir, const SearchState& state);  // atomic
absl::StatusOr<SearchState> LoadSearchState(const std::string& dir);

// Loads DIR/state.json for a resume: FailedPrecondition, naming the saved settings, when
// they differ from `expected`. Then drops the lines of DIR/log.jsonl written after the save:
// those of later generations, and the verification rounds of an unfinished search.
absl::StatusOr<SearchState> ResumeSearchState(const std::string& dir,
                                              const SearchSettings& expected);

// DIR/log.jsonl: appends one line; removes the file (a fresh search).
absl::Status AppendSearchLog(const std::string& dir, const GenerationLogRecord& line);
absl::Status AppendSearchLog(const std::string& dir, const VerifyLogRecord& line);
void RemoveSearchLog(const std::string& dir);

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_SEARCH_STATE_H_

// The server's results cache: measured BatchResults keyed by
// (canonical arch key, batch size, device fingerprint, threads).
//
// With a path, the cache is loaded at Open and rewritten atomically
// (base/atomic_file.h, a serialized CacheFile message) after every Put, so a crash never
// leaves a torn file and a restarted server keeps its results. Thread-safe.
#ifndef EDGELOOP_EDGE_BENCH_RESULT_CACHE_H_
#define EDGELOOP_EDGE_BENCH_RESULT_CACHE_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "edge_bench/protocol.pb.h"

namespace edgeloop::edge_bench {

class ResultCache {
 public:
  // An empty path keeps the cache in memory only. A file that exists but does not parse
  // is an error (DataLoss) rather than silently dropped results.
  static absl::StatusOr<std::unique_ptr<ResultCache>> Open(const std::string& path);

  static std::string Key(const std::string& arch_key, int batch, const std::string& fingerprint,
                         int threads);

  std::optional<BatchResult> Lookup(const std::string& key) const;
  absl::Status Put(const std::string& key, const BatchResult& result);
  size_t size() const;

 private:
  explicit ResultCache(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, BatchResult> entries_;
};

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_RESULT_CACHE_H_

#include "edge_bench/result_cache.h"

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"

namespace edgeloop::edge_bench {

absl::StatusOr<std::unique_ptr<ResultCache>> ResultCache::Open(const std::string& path) {
  std::unique_ptr<ResultCache> cache(new ResultCache(path));
  if (path.empty()) return cache;
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (absl::IsNotFound(bytes.status())) return cache;
  if (!bytes.ok()) return bytes.status();
  CacheFile file;
  if (!file.ParseFromString(*bytes))
    return absl::DataLossError(
        absl::StrCat("cache file ", path, ": not an edgeloop results cache (CacheFile)"));
  for (const CacheEntry& e : file.entries()) cache->entries_[e.key()] = e.result();
  return cache;
}

std::string ResultCache::Key(const std::string& arch_key, int batch, const std::string& fingerprint,
                             int threads) {
  return absl::StrCat(arch_key, "|b", batch, "|", fingerprint, "|t", threads);
}

std::optional<BatchResult> ResultCache::Lookup(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

absl::Status ResultCache::Put(const std::string& key, const BatchResult& result) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_[key] = result;
  if (path_.empty()) return absl::OkStatus();
  CacheFile file;
  for (const auto& [k, r] : entries_) {
    CacheEntry* e = file.add_entries();
    e->set_key(k);
    *e->mutable_result() = r;
  }
  return WriteFileAtomically(path_, file.SerializeAsString());
}

size_t ResultCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace edgeloop::edge_bench

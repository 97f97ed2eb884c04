// A local edge measurement server for the pipeline when no --edge is given: `edgeloop serve`
// started as a child process on a free loopback port (a separate process, as a real device
// would be), stopped with SIGTERM when this object goes away.
#ifndef EDGELOOP_TOOLS_PIPELINE_LOCAL_EDGE_H_
#define EDGELOOP_TOOLS_PIPELINE_LOCAL_EDGE_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace edgeloop::pipeline {

class LocalEdgeServer {
 public:
  // Starts the server with `threads` intra-op threads; its log goes to `log_path` and its
  // results cache to `cache_path`. Unavailable when it does not come up within 30 s.
  static absl::StatusOr<std::unique_ptr<LocalEdgeServer>> Start(const std::string& log_path,
                                                                const std::string& cache_path,
                                                                int threads);
  ~LocalEdgeServer();
  const std::string& url() const { return url_; }

 private:
  LocalEdgeServer(pid_t pid, std::string url) : pid_(pid), url_(std::move(url)) {}
  pid_t pid_;
  std::string url_;
};

}  // namespace edgeloop::pipeline

#endif  // EDGELOOP_TOOLS_PIPELINE_LOCAL_EDGE_H_

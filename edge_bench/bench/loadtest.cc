// edgeloop_edge_loadtest: load and repeatability figures of a running edge server.
//
//   edgeloop_edge_loadtest --edge=ws://HOST:PORT [--token-file=F] [--pings=N] [--clients=C]
//                          [--repeat=R] [--arch=JSON] [--batch=B]
//
// 1. Ping round trips per second: N sequential Ping/Pong round trips of one client.
// 2. C concurrent clients (own connections), each doing 20 pings and one measurement.
// 3. Repeatability: R forced measurements of --arch at --batch with the server's default
//    settings; prints each median and the coefficient of variation of the medians.
// The last line is one JSON object with every figure (for tools/bench/edge_bench.sh).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "edge_bench/client.h"

namespace edgeloop::edge_bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "edgeloop_edge_loadtest: error: %s\n", what.c_str());
  return 1;
}

// `clients` clients at once, each pinging 20 times and then sending `request`; prints and
// returns how many were served.
int ServeConcurrentClients(const ClientOptions& opts, const MeasureRequest& request, int clients) {
  std::atomic<int> served{0};
  std::vector<std::thread> threads;
  const Clock::time_point t1 = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      auto cl = EdgeClient::Create(opts);
      if (!cl.ok() || !(*cl)->WaitConnected(30).ok()) return;
      for (int k = 0; k < 20; ++k)
        if (!(*cl)->PingMs().ok()) return;
      if ((*cl)->Measure(request, 600).ok()) ++served;
    });
  }
  for (auto& t : threads) t.join();
  std::printf("concurrent: %d of %d clients served (20 pings + 1 measurement each) in %.2f s\n",
              served.load(), clients, SecondsSince(t1));
  return served.load();
}

int Main(int argc, char** argv) {
  std::string edge, token_file, arch_json;
  int pings = 5000, clients = 32, repeat = 5, batch = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto take = [&](const char* name, std::string* out) {
      std::string p = absl::StrCat("--", name, "=");
      if (a.rfind(p, 0) != 0) return false;
      *out = a.substr(p.size());
      return true;
    };
    std::string v;
    bool ok = take("edge", &edge) || take("token-file", &token_file) || take("arch", &arch_json);
    if (!ok && take("pings", &v)) ok = absl::SimpleAtoi(v, &pings);
    if (!ok && take("clients", &v)) ok = absl::SimpleAtoi(v, &clients);
    if (!ok && take("repeat", &v)) ok = absl::SimpleAtoi(v, &repeat);
    if (!ok && take("batch", &v)) ok = absl::SimpleAtoi(v, &batch);
    if (!ok) {
      std::fprintf(stderr, "edgeloop_edge_loadtest: error: bad flag '%s'\n", a.c_str());
      return 2;
    }
  }
  if (edge.empty()) {
    std::fprintf(stderr, "edgeloop_edge_loadtest: error: --edge=ws://HOST:PORT is required\n");
    return 2;
  }
  ArchConfig arch = arch::BaselineArch();
  if (!arch_json.empty()) {
    auto parsed = arch::ArchFromJson(arch_json);
    if (!parsed.ok()) {
      std::fprintf(stderr, "edgeloop_edge_loadtest: error: --arch: %s\n",
                   std::string(parsed.status().message()).c_str());
      return 2;
    }
    arch = *parsed;
  }
  ClientOptions opts;
  opts.servers = {edge};
  if (!token_file.empty()) {
    auto token = ReadFile(token_file);
    if (!token.ok()) return Fail(std::string(token.status().message()));
    opts.token = std::string(*token);
    while (!opts.token.empty() && isspace(static_cast<unsigned char>(opts.token.back())))
      opts.token.pop_back();
  }

  // 1. Ping round trips.
  auto client = EdgeClient::Create(opts);
  if (!client.ok()) return Fail(std::string(client.status().message()));
  if (absl::Status st = (*client)->WaitConnected(10); !st.ok())
    return Fail(std::string(st.message()));
  std::vector<double> rtts;
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < pings; ++i) {
    auto rtt = (*client)->PingMs();
    if (!rtt.ok()) return Fail(std::string(rtt.status().message()));
    rtts.push_back(*rtt);
  }
  const double ping_rate = pings / SecondsSince(t0);
  std::sort(rtts.begin(), rtts.end());
  const double rtt_p50 = rtts[rtts.size() / 2], rtt_p99 = rtts[rtts.size() * 99 / 100];
  std::printf("ping: %d round trips, %.0f/s, RTT p50 %.3f ms, p99 %.3f ms\n", pings, ping_rate,
              rtt_p50, rtt_p99);

  // 2. Concurrent clients: each pings and gets one (cached after the first) measurement.
  MeasureRequest quick;
  *quick.mutable_arch() = arch;
  quick.add_batch_sizes(batch);
  const int served = ServeConcurrentClients(opts, quick, clients);

  // 3. Repeatability of forced measurements.
  MeasureRequest forced = quick;
  forced.set_force(true);
  std::vector<double> medians;
  std::vector<int> runs;
  for (int r = 0; r < repeat; ++r) {
    auto result = (*client)->Measure(forced, 600);
    if (!result.ok()) return Fail(std::string(result.status().message()));
    medians.push_back(result->batches(0).median_ms());
    runs.push_back(result->batches(0).runs());
  }
  double mean = 0, var = 0;
  for (double m : medians) mean += m / medians.size();
  for (double m : medians) var += (m - mean) * (m - mean) / std::max<size_t>(1, medians.size() - 1);
  const double cv = mean > 0 ? std::sqrt(var) / mean : 0;
  std::printf(
      "repeatability: %d forced measurements at batch %d, medians [%s] ms, runs [%s], "
      "CV %.2f%%\n",
      repeat, batch, absl::StrJoin(medians, ", ").c_str(), absl::StrJoin(runs, ", ").c_str(),
      100 * cv);
  std::printf(
      "{\"ping_rate\":%.1f,\"rtt_p50_ms\":%.4f,\"rtt_p99_ms\":%.4f,\"clients\":%d,"
      "\"served\":%d,\"medians_ms\":[%s],\"mean_median_ms\":%.4f,\"cv\":%.5f,"
      "\"arch\":%s,\"batch\":%d}\n",
      ping_rate, rtt_p50, rtt_p99, clients, served, absl::StrJoin(medians, ",").c_str(), mean, cv,
      arch::ArchToJson(arch).c_str(), batch);
  return 0;
}

}  // namespace
}  // namespace edgeloop::edge_bench

int main(int argc, char** argv) { return edgeloop::edge_bench::Main(argc, argv); }

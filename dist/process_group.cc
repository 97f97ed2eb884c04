#include "dist/process_group.h"

#include "dist/torch_compat.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace edgeloop::dist {

struct Distributed::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::Collectives> pg;
  std::string backend;
};

Distributed::Distributed(LaunchEnv env, Options options)
    : env_(std::move(env)), options_(options) {}

Distributed::~Distributed() = default;

std::string Distributed::backend() const { return group_ ? group_->backend : "none"; }

absl::StatusOr<std::unique_ptr<Distributed>> Distributed::Init(const LaunchEnv& env,
                                                               const Options& options) {
  std::unique_ptr<Distributed> d(new Distributed(env, options));
  if (env.world_size == 1) return d;
  auto group = std::make_unique<Group>();
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0;
    store_options.numWorkers = env.world_size;
    store_options.waitWorkers = true;
    store_options.timeout = options.timeout;
    compat::UseClassicTcpStore(store_options, 0);
    group->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    return absl::UnavailableError(
        absl::StrCat("rank ", env.rank, "/", env.world_size, ": cannot reach the rendezvous at ",
                     env.master_addr, ":", env.master_port, " (MASTER_ADDR/MASTER_PORT) within ",
                     options.timeout.count() / 1000.0, " s: ", msg));
  }
  try {
#ifdef USE_C10D_NCCL
    if (options.use_cuda) {
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = options.timeout;
      group->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(group->store, env.rank,
                                                              env.world_size, nccl_options);
      group->backend = "nccl";
    }
#endif
    if (!group->pg) {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
      if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      } else if (absl::StartsWith(env.master_addr, "127.") || env.master_addr == "localhost") {
        gloo_options->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      group->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, env.rank,
                                                              env.world_size, gloo_options);
      group->backend = "gloo";
    }
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    return absl::UnavailableError(
        absl::StrCat("rank ", env.rank, ": cannot create the process group: ", msg));
  }
  d->group_ = std::move(group);
  return d;
}

absl::Status Distributed::Collective(const char* what, const std::function<void()>& op) {
  try {
    op();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    return absl::AbortedError(absl::StrCat("rank ", env_.rank, "/", env_.world_size, ": ", what,
                                           " failed (another rank died or timed out after ",
                                           options_.timeout.count() / 1000.0, " s): ", msg));
  }
  return absl::OkStatus();
}

absl::Status Distributed::AllReduceMean(const std::vector<torch::Tensor>& tensors) {
  return AllReduce(tensors, /*mean=*/true);
}

absl::Status Distributed::AllReduceSum(const std::vector<torch::Tensor>& tensors) {
  return AllReduce(tensors, /*mean=*/false);
}

absl::Status Distributed::AllReduce(const std::vector<torch::Tensor>& tensors, bool mean) {
  if (env_.world_size == 1 || tensors.empty()) return absl::OkStatus();
  size_t i = 0;
  while (i < tensors.size()) {
    // Pack consecutive tensors into one flat bucket, reduce it, unpack.
    size_t j = i;
    size_t bytes = 0;
    std::vector<torch::Tensor> bucket;
    while (j < tensors.size() &&
           (bucket.empty() || bytes + tensors[j].nbytes() <= options_.bucket_bytes)) {
      bytes += tensors[j].nbytes();
      bucket.push_back(tensors[j].reshape({-1}));
      ++j;
    }
    torch::Tensor flat = torch::cat(bucket);
    std::vector<at::Tensor> io{flat};
    absl::Status s = Collective("all-reduce", [&] {
      auto work = group_->pg->allreduce(io);
      work->wait(options_.timeout);
    });
    if (!s.ok()) return s;
    if (mean) flat.mul_(1.0 / env_.world_size);
    int64_t offset = 0;
    for (size_t k = i; k < j; ++k) {
      const int64_t n = tensors[k].numel();
      tensors[k].view({-1}).copy_(flat.narrow(0, offset, n));
      offset += n;
    }
    i = j;
  }
  return absl::OkStatus();
}

absl::Status Distributed::Broadcast(const std::vector<torch::Tensor>& tensors) {
  if (env_.world_size == 1) return absl::OkStatus();
  for (const auto& t : tensors) {
    std::vector<at::Tensor> io{t};
    absl::Status s = Collective("broadcast", [&] {
      auto work = group_->pg->broadcast(io);
      work->wait(options_.timeout);
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Distributed::Barrier() {
  if (env_.world_size == 1) return absl::OkStatus();
  // An all-reduce of one element, so the wait honours our timeout like every collective.
  torch::Tensor one = torch::ones({1});
  std::vector<at::Tensor> io{one};
  return Collective("barrier", [&] {
    auto work = group_->pg->allreduce(io);
    work->wait(options_.timeout);
  });
}

}  // namespace edgeloop::dist

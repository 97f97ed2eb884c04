#include "edge_bench/torch_workload.h"

#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/timing_heap.h"
#include "base/versions.h"
#include "edge_bench/host_info.h"
#include "supernet/library_versions.h"
#include "supernet/video_swin.h"

namespace edgeloop::edge_bench {
namespace {

absl::Status FromTorch(const char* what, const std::exception& e) {
  std::string msg = e.what();
  msg = msg.substr(0, msg.find('\n'));  // c10 appends a backtrace
  return absl::InternalError(absl::StrCat(what, ": ", msg));
}

class TorchWorkload : public Workload {
 public:
  TorchWorkload(supernet::VideoSwin model, const ArchConfig& arch, torch::Device device,
                uint64_t seed, int64_t baseline_rss)
      : model_(std::move(model)),
        arch_(arch),
        device_(device),
        seed_(seed),
        baseline_rss_(baseline_rss) {}

  absl::Status PrepareBatch(int batch) override {
    try {
      input_ = torch::Tensor();
      torch::manual_seed(seed_ + static_cast<uint64_t>(batch));
      input_ = torch::randn({batch, 1, arch_.frames(), arch_.resolution(), arch_.resolution()})
                   .to(device_);
      Synchronize();
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return FromTorch("making the input", e);
    }
  }

  absl::Status RunOnce() override {
    try {
      torch::InferenceMode guard;
      torch::Tensor y = model_->forward(input_);
      Synchronize();
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return FromTorch("forward", e);
    }
  }

  void ResetPeakMemory() override {
    if (device_.is_cpu()) ResetProcessPeakRss();
  }

  int64_t PeakMemoryBytes() override {
    if (!device_.is_cpu()) return 0;
    return std::max<int64_t>(0, ProcessPeakRssBytes() - baseline_rss_);
  }

 private:
  void Synchronize() {
    if (device_.is_cuda()) torch::cuda::synchronize();
  }

  supernet::VideoSwin model_;
  ArchConfig arch_;
  torch::Device device_;
  uint64_t seed_;
  int64_t baseline_rss_;
  torch::Tensor input_;
};

class TorchWorkloadFactory : public WorkloadFactory {
 public:
  TorchWorkloadFactory(torch::Device device, int threads) : device_(device), threads_(threads) {}

  absl::StatusOr<std::unique_ptr<Workload>> Create(const ArchConfig& arch, uint64_t seed) override {
    ReleaseFreedMemory();  // what earlier models left must not hide this one's footprint
    const int64_t baseline_rss = ProcessRssBytes();
    try {
      absl::StatusOr<supernet::VideoSwin> model = supernet::MakeVideoSwin(arch, seed);
      if (!model.ok()) return model.status();
      (*model)->eval();
      (*model)->to(device_);
      return std::unique_ptr<Workload>(
          new TorchWorkload(*std::move(model), arch, device_, seed, baseline_rss));
    } catch (const std::exception& e) {
      return FromTorch("building the model", e);
    }
  }

  DeviceInfo Describe() const override {
    DeviceInfo info;
    info.set_cpu_model(CpuModel());
    info.set_cores(LogicalCores());
    info.set_threads(threads_);
    info.set_torch_version(TORCH_VERSION);
    info.set_device(device_.is_cuda() ? "cuda" : "cpu");
    if (device_.is_cuda())
      info.set_cuda_device(absl::StrCat("cuda:", device_.has_index() ? device_.index() : 0, " of ",
                                        torch::cuda::device_count()));
    info.set_hostname(HostName());
    info.set_fingerprint(DeviceFingerprint(info));
    info.set_edgeloop_version(EdgeloopVersion());
    for (const auto& list :
         {supernet::LibraryVersions(), BaseLibraryVersions(), LibraryVersions()}) {
      for (const auto& v : list) info.add_library_versions(FormatLibraryVersion(v));
    }
    return info;
  }

 private:
  torch::Device device_;
  int threads_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WorkloadFactory>> MakeTorchWorkloadFactory(const std::string& device,
                                                                          int threads) {
  if (threads < 1 || threads > 1024)
    return absl::InvalidArgumentError(
        absl::StrCat("threads ", threads, ": expected an integer in 1..1024"));
  if (device != "cpu" && device != "cuda")
    return absl::InvalidArgumentError(absl::StrCat("device '", device, "': expected cpu or cuda"));
  if (device == "cuda" && !torch::cuda::is_available())
    return absl::FailedPreconditionError(
        "device cuda: this LibTorch has no CUDA support or no GPU is visible");
  torch::set_num_threads(threads);
  return std::unique_ptr<WorkloadFactory>(new TorchWorkloadFactory(
      device == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU), threads));
}

}  // namespace edgeloop::edge_bench

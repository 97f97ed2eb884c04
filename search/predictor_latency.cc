#include "search/predictor_latency.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "edge_bench/client.h"
#include "predictor/edge_adapter.h"
#include "predictor/latency_model.h"
#include "predictor/model_io.h"
#include "predictor/recalibrator.h"
#include "predictor/store.h"

namespace edgeloop::search {
namespace {

class PredictorLatency : public LatencySource {
 public:
  PredictorLatency(PredictorLatencyOptions options,
                   std::unique_ptr<predictor::MeasurementStore> store,
                   std::unique_ptr<edge_bench::EdgeClient> client, std::string device)
      : options_(std::move(options)),
        store_(std::move(store)),
        client_(std::move(client)),
        device_(std::move(device)) {}
  ~PredictorLatency() override {
    if (client_) client_->Close();
  }

  absl::Status Start(predictor::LatencyModel model) {
    auto recalibrator = predictor::Recalibrator::Create(store_.get(), std::move(model));
    if (!recalibrator.ok()) return recalibrator.status();
    recalibrator_ = std::move(*recalibrator);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<LatencyEstimate>> Predict(
      const std::vector<ArchConfig>& archs) override {
    std::vector<std::pair<ArchConfig, int>> rows;
    rows.reserve(archs.size());
    for (const ArchConfig& a : archs) rows.emplace_back(a, options_.batch);
    auto predictions = recalibrator_->model().PredictArchitectures(rows, /*uncertainty=*/true);
    if (!predictions.ok()) return predictions.status();
    std::vector<LatencyEstimate> out;
    out.reserve(predictions->size());
    for (const auto& p : *predictions) out.push_back({p.ms, p.log_std});
    return out;
  }

  bool HasEdge() const override { return client_ != nullptr; }
  bool EdgeConnected() const override { return client_ && !client_->Devices().empty(); }

  void RequestMeasurement(const ArchConfig& arch) override {
    if (!client_) return;
    const std::string key = arch::CanonicalKey(arch);
    std::unique_lock<std::mutex> lock(mu_);
    for (const Request& r : queue_) {
      if (r.key == key) return;
    }
    const uint64_t serial = ++serial_;
    queue_.push_back({key, arch, serial, false, {}});
    // Submit may call back at once on the network thread, which takes the lock.
    lock.unlock();
    edge_bench::MeasureRequest message;
    *message.mutable_arch() = arch;
    message.add_batch_sizes(options_.batch);
    *message.mutable_settings() = options_.settings;
    client_->Submit(
        message,
        [this, serial](const edge_bench::RequestOutcome& outcome) {
          std::lock_guard<std::mutex> inner(mu_);
          for (Request& r : queue_) {
            if (r.serial == serial) {
              r.answered = true;
              r.outcome = outcome;
            }
          }
          cv_.notify_all();
        },
        nullptr, options_.request_timeout_s);
  }

  std::vector<LiveMeasurement> Collect(double timeout_s,
                                       std::vector<std::string>* errors) override {
    std::vector<LiveMeasurement> out;
    if (!client_) return out;
    std::vector<Request> answered;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] {
        for (const Request& r : queue_) {
          if (!r.answered) return false;
        }
        return true;
      });
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->answered) {
          answered.push_back(std::move(*it));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const Request& r : answered) {
      if (!r.outcome.status.ok()) {
        if (errors) errors->push_back(absl::StrCat(r.key, ": ", r.outcome.status.message()));
        continue;
      }
      const edge_bench::BatchResult* batch = nullptr;
      for (const auto& b : r.outcome.result.batches()) {
        if (b.batch_size() == options_.batch) batch = &b;
      }
      if (batch == nullptr) {
        if (errors)
          errors->push_back(absl::StrCat(r.key, ": no result for batch ", options_.batch));
        continue;
      }
      predictor::Measurement m = predictor::FromEdgeResult(r.outcome.result, *batch);
      m.arch = r.arch;
      m.device = device_;  // the store and the model speak of one device
      if (absl::Status s = recalibrator_->Observe(m); !s.ok()) {
        if (errors) errors->push_back(absl::StrCat(r.key, ": not stored: ", s.message()));
        continue;
      }
      out.push_back({r.key, m.median_ms, m.p90_ms, recalibrator_->status().predicted_ms});
    }
    return out;
  }

  int Pending() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(queue_.size());
  }

  std::string Device() const override { return device_; }

  // The recalibrator's whole state, so a resumed search predicts exactly as an
  // uninterrupted one would.
  absl::StatusOr<std::string> SaveState() const override { return recalibrator_->SaveState(); }

  absl::Status RestoreState(const std::string& state) override {
    auto restored = predictor::Recalibrator::Restore(store_.get(), state);
    if (!restored.ok()) return restored.status();
    recalibrator_ = std::move(*restored);
    return absl::OkStatus();
  }

 private:
  struct Request {
    std::string key;
    ArchConfig arch;
    uint64_t serial = 0;
    bool answered = false;
    edge_bench::RequestOutcome outcome;
  };

  PredictorLatencyOptions options_;
  std::unique_ptr<predictor::MeasurementStore> store_;
  std::unique_ptr<edge_bench::EdgeClient> client_;
  std::string device_;
  std::unique_ptr<predictor::Recalibrator> recalibrator_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;  // in request order
  uint64_t serial_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LatencySource>> CreatePredictorLatency(
    const PredictorLatencyOptions& options, std::vector<std::string>* warnings) {
  if (options.batch < 1) return absl::InvalidArgumentError("--batch must be >= 1");
  auto store = predictor::MeasurementStore::Open(options.db_path);
  if (!store.ok()) return store.status();

  std::unique_ptr<edge_bench::EdgeClient> client;
  std::string edge_device;
  if (!options.edges.empty()) {
    edge_bench::ClientOptions copts;
    copts.servers = options.edges;
    copts.token = options.token;
    copts.ca_file = options.ca_file;
    copts.client_name = "edgeloop search";
    auto created = edge_bench::EdgeClient::Create(copts);
    if (!created.ok()) return created.status();
    client = std::move(*created);
    if (absl::Status s = client->WaitConnected(options.connect_timeout_s); !s.ok()) {
      if (absl::IsPermissionDenied(s)) return s;
      warnings->push_back(
          absl::StrCat("edge unreachable (", s.message(),
                       "); the search goes on with predicted latencies and keeps retrying"));
    } else {
      edge_device = client->Devices().front().fingerprint();
    }
  }

  absl::StatusOr<predictor::LatencyModel> model = absl::NotFoundError("no model");
  std::string device = !options.device.empty() ? options.device : edge_device;
  if (!options.model_path.empty()) {
    model = predictor::LoadModel(options.model_path);
  } else if (!device.empty()) {
    model = predictor::LoadModelVersion(**store, device);
  } else {
    return absl::InvalidArgumentError(
        "no latency model: give --predictor MODEL.json, or --device / a reachable --edge whose "
        "model is in --db");
  }
  if (!model.ok()) return model.status();
  if (absl::Status s = model->CheckCompatible(""); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the predictor cannot be used: ", s.message(),
                     "; fit a new one with `edgeloop predictor bootstrap`"));
  }
  if (model->meta().mode != predictor::kArchMode) {
    return absl::FailedPreconditionError(
        "the predictor is a tabular model; the search needs an architecture model "
        "(`edgeloop predictor bootstrap` or `predictor fit --db`)");
  }
  if (device.empty()) device = model->meta().device;
  if (model->meta().device != device) {
    warnings->push_back(absl::StrCat("the predictor was fitted for device \"", model->meta().device,
                                     "\" but the edge is \"", device,
                                     "\": recalibrating it from the live measurements"));
    model->mutable_meta()->device = device;
    model->mutable_meta()->version = 0;  // a new model of this device, not a stored version
  }
  auto source =
      std::make_unique<PredictorLatency>(options, std::move(*store), std::move(client), device);
  if (absl::Status s = source->Start(std::move(*model)); !s.ok()) return s;
  return std::unique_ptr<LatencySource>(std::move(source));
}

}  // namespace edgeloop::search

#include "edge_bench/measure_service.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "edge_bench/device_state.h"
#include "edge_bench/host_info.h"
#include "edge_bench/measurer.h"
#include "edge_bench/protocol.h"

namespace edgeloop::edge_bench {

ArchConfig DefaultSentinelArch() {
  ArchConfig a;
  for (int v : {4, 4, 4}) a.add_patch_size(v);
  a.set_embed_dim(24);
  for (int i = 0; i < arch::kNumStages; ++i) {
    a.add_depths(1);
    a.add_num_heads(3);
  }
  for (int v : {8, 7, 7}) a.add_window_size(v);
  a.set_mlp_ratio(1);
  a.set_resolution(64);
  a.set_frames(16);
  return a;
}

ArchConfig DefaultReferenceArch() {
  ArchConfig a = DefaultSentinelArch();
  a.set_resolution(32);
  a.set_frames(8);
  return a;
}

namespace {

// The sentinel runs before real measurements: it must be quick (about a second at most).
MeasurementSettings QuickSentinelSettings() {
  MeasurementSettings s;
  s.set_warmup_runs(3);
  s.set_warmup_ms(100);
  s.set_min_runs(10);
  s.set_max_runs(200);
  s.set_max_time_ms(1000);
  s.set_target_rel_ci(0.02);
  s.set_confidence(0.95);
  return s;
}

// Limits left at 0 derive from the host's memory: half of it for one request (weights and
// activations), a quarter of that for the weights, an eighth for the input.
void DeriveLimits(ServerLimits* l) {
  if (l->max_memory_bytes() <= 0) {
    const int64_t memory = PhysicalMemoryBytes();
    l->set_max_memory_bytes(memory > 0 ? memory / 2 : int64_t{4} << 30);
  }
  if (l->max_params() <= 0) l->set_max_params(l->max_memory_bytes() / 4 / 4);
  if (l->max_input_bytes() <= 0) l->set_max_input_bytes(l->max_memory_bytes() / 8);
  if (!(l->max_request_seconds() > 0)) l->set_max_request_seconds(900);
}

// One line, whatever the library put in the message (c10 appends a backtrace).
std::string OneLine(absl::string_view message) {
  return std::string(message.substr(0, message.find('\n')));
}

}  // namespace

struct MeasureService::Call {
  Call(const MeasureRequest& r, const std::function<bool()>& c,
       const std::function<void(MeasureProgress)>& p)
      : request(r), cancelled(c), progress(p) {}

  const MeasureRequest& request;
  const std::function<bool()>& cancelled;
  const std::function<void(MeasureProgress)>& progress;
  MeasurementSettings settings;
  MeasureHooks hooks;
  std::unique_ptr<Workload> workload;  // built at the first batch size not in the cache
  int batch_index = 0;
  int batch = 0;
  Clock::time_point deadline;  // of the whole request (max_request_seconds)
  bool past_deadline() const { return Clock::now() > deadline; }
};

MeasureService::MeasureService(MeasureServiceOptions options,
                               std::unique_ptr<WorkloadFactory> factory)
    : opts_(std::move(options)), factory_(std::move(factory)) {
  DeriveLimits(&opts_.limits);
  device_ = factory_->Describe();
  *device_.mutable_limits() = opts_.limits;
  if (device_.machine().empty()) device_.set_machine(MachineArch());
  start_state_ = ReadDeviceState(opts_.sysfs_root);
  *device_.mutable_state() = start_state_;
  device_.set_state_fingerprint(DeviceStateFingerprint(start_state_));
  last_state_fingerprint_ = device_.state_fingerprint();
}

absl::StatusOr<std::unique_ptr<MeasureService>> MeasureService::Create(
    MeasureServiceOptions options, std::unique_ptr<WorkloadFactory> factory) {
  std::unique_ptr<MeasureService> service(
      new MeasureService(std::move(options), std::move(factory)));
  MeasureServiceOptions& o = service->opts_;
  o.defaults = ResolveSettings(o.defaults, DefaultSettings());
  if (absl::Status st = CheckSettings(o.defaults); !st.ok()) return st;
  o.sentinel_settings = ResolveSettings(o.sentinel_settings, QuickSentinelSettings());
  if (absl::Status st = CheckSettings(o.sentinel_settings); !st.ok()) return st;
  if (absl::Status st = arch::ValidateStructure(o.sentinel); !st.ok()) return st;
  auto cache = ResultCache::Open(o.cache_file);
  if (!cache.ok()) return cache.status();
  service->cache_ = std::move(*cache);
  return service;
}

MeasureService::Counters MeasureService::counters() const {
  Counters c;
  c.measured = measured_;
  c.cache_hits = cache_hits_;
  c.sentinel_runs = sentinel_runs_;
  return c;
}

void MeasureService::Log(const std::string& line) const {
  if (opts_.log) opts_.log(line);
}

std::pair<ErrorCode, std::string> MeasureService::Validate(const MeasureRequest& req) const {
  const int max_batch = opts_.limits.max_batch();
  const int64_t max_flops = opts_.limits.max_flops();
  if (req.batch_sizes().empty() || req.batch_sizes_size() > opts_.max_batch_sizes)
    return {ERROR_LIMIT_EXCEEDED, absl::StrCat("batch_sizes: ", req.batch_sizes_size(),
                                               " entries; allowed 1..", opts_.max_batch_sizes)};
  int largest = 0;
  for (int b : req.batch_sizes()) {
    if (b < 1 || b > max_batch)
      return {ERROR_LIMIT_EXCEEDED, absl::StrCat("batch size ", b, ": allowed 1..", max_batch)};
    largest = std::max(largest, b);
  }
  const ArchConfig& a = req.arch();
  if (absl::Status st = arch::ValidateStructure(a); !st.ok())
    return {ERROR_INVALID_ARCH, std::string(st.message())};
  // Bound the token count first, so the FLOP count below cannot overflow.
  auto ceil_div = [](int64_t x, int64_t y) { return (x + y - 1) / y; };
  const int64_t tokens = ceil_div(a.frames(), a.patch_size(0)) *
                         ceil_div(a.resolution(), a.patch_size(1)) *
                         ceil_div(a.resolution(), a.patch_size(2));
  if (tokens > (int64_t{1} << 24) || a.embed_dim() > 1024)
    return {ERROR_LIMIT_EXCEEDED,
            absl::StrCat("architecture too large: ", tokens, " tokens, embed_dim ", a.embed_dim(),
                         "; allowed <= 16777216 tokens, embed_dim <= 1024")};
  const arch::Cost cost = arch::ComputeCost(a);
  if (cost.flops > max_flops / largest)
    return {ERROR_LIMIT_EXCEEDED,
            absl::StrCat("forward at batch ", largest, " needs ", cost.flops, " x ", largest,
                         " MACs; this server allows ", max_flops)};
  if (auto [code, why] = CheckMemory(a, cost, largest); code != ERROR_UNSPECIFIED)
    return {code, why};
  MeasurementSettings settings = ResolveSettings(req.settings(), opts_.defaults);
  if (absl::Status st = CheckSettings(settings); !st.ok())
    return {ERROR_LIMIT_EXCEEDED, std::string(st.message())};
  return {ERROR_UNSPECIFIED, ""};
}

// Parameters, input and memory at the largest batch. The memory estimate: the float
// weights, the input, and three live tensors the size of the largest activation (the
// residual stream, an attention or MLP intermediate and its output) per sample.
std::pair<ErrorCode, std::string> MeasureService::CheckMemory(const ArchConfig& a,
                                                              const arch::Cost& cost,
                                                              int largest) const {
  const ServerLimits& l = opts_.limits;
  if (cost.params > l.max_params())
    return {ERROR_LIMIT_EXCEEDED, absl::StrCat("architecture has ", cost.params,
                                               " parameters; this server allows ", l.max_params())};
  const double input = 4.0 * largest * a.frames() * a.resolution() * a.resolution();
  if (input > static_cast<double>(l.max_input_bytes()))
    return {ERROR_LIMIT_EXCEEDED,
            absl::StrCat("input at batch ", largest, " is ", static_cast<int64_t>(input),
                         " bytes; this server allows ", l.max_input_bytes())};
  const double memory = 4.0 * cost.params + input + 3 * 4.0 * largest * cost.peak_activation_floats;
  if (memory > static_cast<double>(l.max_memory_bytes()))
    return {
        ERROR_LIMIT_EXCEEDED,
        absl::StrCat("forward at batch ", largest, " needs about ", static_cast<int64_t>(memory),
                     " bytes of memory; this server allows ", l.max_memory_bytes())};
  return {ERROR_UNSPECIFIED, ""};
}

void MeasureService::Post(const Call& call, MeasureProgress progress) const {
  if (!call.progress) return;
  progress.set_request_id(call.request.request_id());
  call.progress(std::move(progress));
}

Envelope MeasureService::ErrorFor(const Call& call, const absl::Status& status) const {
  ErrorCode code = ERROR_INTERNAL;
  if (absl::IsCancelled(status)) {
    code = shutting_down_ ? ERROR_SHUTTING_DOWN : ERROR_CANCELLED;
    if (!shutting_down_ && call.past_deadline() && !(call.cancelled && call.cancelled())) {
      return MakeErrorEnvelope(call.request.request_id(), ERROR_LIMIT_EXCEEDED,
                               absl::StrCat("measuring took longer than this server's limit of ",
                                            opts_.limits.max_request_seconds(), " s per request"));
    }
  } else if (absl::IsInvalidArgument(status)) {
    code = ERROR_INVALID_ARCH;
  }
  return MakeErrorEnvelope(call.request.request_id(), code, OneLine(status.message()));
}

absl::Status MeasureService::MaybeMeasureSentinel(const Call& call) {
  if (opts_.sentinel_interval_s < 0) return absl::OkStatus();
  const Clock::time_point now = Clock::now();
  if (sentinel_first_ms_ > 0 &&
      std::chrono::duration<double>(now - last_sentinel_).count() < opts_.sentinel_interval_s)
    return absl::OkStatus();
  MeasureProgress p;
  p.set_phase(PHASE_SENTINEL);
  Post(call, p);
  auto workload = factory_->Create(opts_.sentinel, 0);
  if (!workload.ok()) return workload.status();
  MeasureHooks quiet;
  quiet.should_stop = call.hooks.should_stop;
  auto r = MeasureBatch(workload->get(), 1, opts_.sentinel_settings, quiet);
  if (!r.ok()) return r.status();
  if (sentinel_first_ms_ == 0) sentinel_first_ms_ = r->median_ms();
  drift_ = r->median_ms() / sentinel_first_ms_;
  last_sentinel_ = Clock::now();
  ++sentinel_runs_;
  Log(absl::StrCat("sentinel median ", r->median_ms(), " ms, drift factor ", drift_));
  return absl::OkStatus();
}

absl::Status MeasureService::PrepareReference(const Call& call) {
  if (reference_) return absl::OkStatus();
  auto built = factory_->Create(opts_.reference, 0);
  if (!built.ok()) return built.status();
  if (absl::Status st = (*built)->PrepareBatch(1); !st.ok()) return st;
  MeasureHooks quiet;
  quiet.should_stop = call.hooks.should_stop;
  auto nominal = CalibrateReference(built->get(), opts_.reference_calibration_ms, quiet);
  if (!nominal.ok()) return nominal.status();
  reference_ = std::move(*built);
  reference_nominal_ms_ = *nominal;
  Log(absl::StrCat("paired reference ", arch::CanonicalKey(opts_.reference), ": nominal ",
                   reference_nominal_ms_, " ms"));
  return absl::OkStatus();
}

absl::Status MeasureService::MeasureInto(Call& call, const std::string& cache_key,
                                         MeasureResult* result) {
  if (absl::Status st = MaybeMeasureSentinel(call); !st.ok()) return st;
  if (!call.workload) {
    MeasureProgress p;
    p.set_phase(PHASE_BUILDING);
    p.set_batch_size(call.batch);
    p.set_batch_index(call.batch_index);
    Post(call, p);
    auto built = factory_->Create(call.request.arch(), call.request.seed());
    if (!built.ok()) return built.status();
    call.workload = std::move(*built);
  }
  const bool paired = call.settings.paired_reference();
  PairedReference pairing;
  if (paired) {
    if (absl::Status st = PrepareReference(call); !st.ok()) return st;
    pairing = {reference_.get(), reference_nominal_ms_};
  }
  absl::StatusOr<BatchResult> r = MeasureBatch(call.workload.get(), call.batch, call.settings,
                                               call.hooks, paired ? &pairing : nullptr);
  if (!r.ok()) return r.status();
  r->set_drift_factor(drift_);
  if (absl::Status st = cache_->Put(cache_key, *r); !st.ok())
    Log(absl::StrCat("cannot save the results cache: ", st.message()));
  ++measured_;
  *result->add_batches() = *std::move(r);
  return absl::OkStatus();
}

std::optional<Envelope> MeasureService::StampState(const MeasureRequest& request,
                                                   MeasureResult* result) {
  DeviceState now = ReadDeviceState(opts_.sysfs_root);
  const std::string fingerprint = DeviceStateFingerprint(now);
  if (opts_.lock_state && fingerprint != device_.state_fingerprint()) {
    const std::string what = DescribeStateChange(start_state_, now);
    Log(absl::StrCat("refused request ", request.request_id(), ": device state changed: ", what));
    return MakeErrorEnvelope(request.request_id(), ERROR_STATE_CHANGED,
                             absl::StrCat("device state changed since start: ", what));
  }
  if (fingerprint != last_state_fingerprint_) {
    result->set_state_changed(true);
    result->set_previous_state_fingerprint(last_state_fingerprint_);
    Log(absl::StrCat("device state fingerprint ", last_state_fingerprint_, " -> ", fingerprint));
  }
  last_state_fingerprint_ = fingerprint;
  *result->mutable_state() = std::move(now);
  result->set_state_fingerprint(fingerprint);
  return std::nullopt;
}

Envelope MeasureService::Process(const MeasureRequest& request,
                                 const std::function<bool()>& cancelled,
                                 const std::function<void(MeasureProgress)>& progress) {
  Call call(request, cancelled, progress);
  call.settings = ResolveSettings(request.settings(), opts_.defaults);
  call.deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(opts_.limits.max_request_seconds()));
  call.hooks.should_stop = [&call, this] {
    return (call.cancelled && call.cancelled()) || shutting_down_.load() || call.past_deadline();
  };
  call.hooks.progress = [&call, this](Phase phase, const LatencySummary& s) {
    MeasureProgress p;
    p.set_phase(phase);
    p.set_batch_size(call.batch);
    p.set_batch_index(call.batch_index);
    p.set_runs(static_cast<int32_t>(s.n));
    p.set_median_ms(s.median);
    p.set_rel_ci(std::isfinite(s.rel_ci_half_width) ? s.rel_ci_half_width : 0);
    Post(call, p);
  };
  Envelope out;
  MeasureResult* result = out.mutable_measure_result();
  result->set_request_id(request.request_id());
  result->set_arch_key(arch::CanonicalKey(request.arch()));
  *result->mutable_device() = device_;
  if (std::optional<Envelope> refused = StampState(request, result)) return *std::move(refused);
  for (call.batch_index = 0; call.batch_index < request.batch_sizes_size(); ++call.batch_index) {
    call.batch = request.batch_sizes(call.batch_index);
    const std::string key =
        ResultCache::Key(result->arch_key(), call.batch, device_.fingerprint(), device_.threads());
    std::optional<BatchResult> hit;
    if (!request.force()) hit = cache_->Lookup(key);
    // A plain cached result does not answer a paired request.
    if (hit && call.settings.paired_reference() && hit->normalized_median_ms() <= 0) hit.reset();
    if (hit) {
      hit->set_cached(true);
      *result->add_batches() = *std::move(hit);
      ++cache_hits_;
      continue;
    }
    if (absl::Status st = MeasureInto(call, key, result); !st.ok()) return ErrorFor(call, st);
  }
  result->set_drift_factor(drift_);
  return out;
}

}  // namespace edgeloop::edge_bench

#include "supernet/swin_stage.h"

#include "supernet/window_geometry.h"

namespace edgeloop::supernet {

SwinStageImpl::SwinStageImpl(const StageDims& widest, const Dims3& window_config, bool downsample)
    : window_config_(window_config) {
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < widest.depth; ++i) {
    block_list_.push_back(SwinBlock3D(widest, window_config));
    blocks->push_back(block_list_.back());
  }
  if (downsample) this->downsample = register_module("downsample", PatchMerging(widest.width));
}

torch::Tensor SwinStageImpl::forward(const torch::Tensor& x, const StageDims& active) {
  const WindowPlan plan = PlanWindows({x.size(1), x.size(2), x.size(3)}, window_config_);
  const bool any_shifted_block = active.depth > 1 && plan.shifted();
  const torch::Tensor mask =
      any_shifted_block ? ShiftedWindowMask(plan).to(x.device(), x.scalar_type()) : torch::Tensor();
  torch::Tensor y = x;
  for (int64_t i = 0; i < active.depth; ++i) y = block_list_[i](y, plan, i % 2 == 1, mask, active);
  if (downsample) y = downsample(y, active.width);
  return y;
}

}  // namespace edgeloop::supernet

// Anchor translation unit of the precompiled <torch/torch.h> that torch targets reuse.

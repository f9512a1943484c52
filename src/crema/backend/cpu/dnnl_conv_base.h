// DnnlConvolutionBase<Reference>: the fast CPU engine of a convolution-like layer, shared by
// DnnlConvolutionLayer (Reference = ConvolutionLayer) and DnnlDeconvolutionLayer
// (Reference = DeconvolutionLayer).
//
// It is a Reference — same parameters, blobs, shapes, errors and results, to rounding — that
// computes with oneDNN instead of im2col + GEMM. Reshape shapes the tops as Reference does
// and, when the input geometry changed, makes oneDNN's forward, backward-data and
// backward-weights primitives and the reorders around them
// (backend/cpu/dnnl_conv_primitives.h); Forward/Backward run them and allocate nothing once
// the thread's scratch buffers have grown to the net's largest layer.
// Weight and bias gradients are added to the blobs' diffs, as the reference layer does.
//
// 1×1 convolutions without padding and with one group run as oneDNN sgemm on the NCHW blobs
// (the reference layer's algorithm): one per image, or on small planes one for the whole batch
// (backend/cpu/pointwise_conv.h); this saves the layout copies around oneDNN's blocked
// kernels. Depthwise deconvolutions (group = C = num_output, kernels of up to
// cpu::kDepthwiseMaxTaps cells) are the other exception: oneDNN has no fast depthwise
// deconvolution weight gradient, so they run on the direct NCHW kernels of
// backend/cpu/depthwise_conv.h, which the subclass maps onto its own computation
// (DepthwiseForward, DepthwiseBackward) with conv_geometry() as their geometry. Depthwise
// convolutions stay on oneDNN's jit_dw kernels: in MobileNet v1 they train 15-19% faster than
// on the direct kernels, their layout copies included.
//
// At inference a Convolution may also compute the per-channel affine layers and the ReLU that
// follow it in place (FuseEpilogue): BatchNorm and Scale are folded into the weights and bias
// at every Forward, the ReLU becomes oneDNN's post-op (or the GEMM path's last pass), so those
// layers need not run.
//
// Reshape throws what Reference::Reshape throws, and Unsupported (naming the layer) when
// oneDNN cannot create a primitive for the geometry. A layer is used by one thread at a time
// (it executes on that thread's stream, backend/cpu/dnnl_context.h).
#ifndef CREMA_BACKEND_CPU_DNNL_CONV_BASE_H_
#define CREMA_BACKEND_CPU_DNNL_CONV_BASE_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "crema/backend/cpu/blas.h"
#include "crema/backend/cpu/depthwise_conv.h"
#include "crema/backend/cpu/dnnl_context.h"
#include "crema/backend/cpu/dnnl_conv_primitives.h"
#include "crema/backend/cpu/pointwise_conv.h"
#include "crema/layers/base_conv_layer.h"

namespace crema {

template <class Reference>
class DnnlConvolutionBase : public Reference {
 public:
  explicit DnnlConvolutionBase(const caffe::LayerParameter& param) : Reference(param) {}

  // Shapes the tops as Reference does, then prepares the depthwise path or the primitives.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override {
    const ConvKernel& k = this->kernel_;
    // A 1×1 convolution over NCHW is one GEMM per image, on the blobs as they are: no layout
    // copies in or out, which oneDNN's blocked kernels need (measured 3-6% faster training on
    // ResNet-50, GoogLeNet and MobileNet v1, and less memory). With a stride the GEMM reads
    // the image's subsampled columns (the reference layer's im2col): ResNet-50's strided
    // projections ran at 45-80 GFLOP/s on oneDNN's kernels, at 80-100 this way.
    gemm_path_ = k.kernel_h == 1 && k.kernel_w == 1 && k.pad_h == 0 && k.pad_w == 0 &&
                 !this->transposed_ && this->group_ == 1;
    if (gemm_path_) {
      Reference::Reshape(bottom, top);  // the tops, and the column buffer a stride needs
      pointwise_shape_ = {.num = this->num_, .channels = this->channels_,
                          .height = this->height_, .width = this->width_,
                          .outputs = this->num_output_, .out_height = this->out_height_,
                          .out_width = this->out_width_, .stride_h = k.stride_h,
                          .stride_w = k.stride_w};
      batched_ = cpu::PointwiseBatchedPays(pointwise_shape_);
      return;
    }
    this->ReshapeTops(bottom, top);
    // Only a deconvolution takes the direct depthwise path (see the header comment).
    depthwise_ = this->transposed_ && this->IsDepthwise() &&
                 k.kernel_h * k.kernel_w <= cpu::kDepthwiseMaxTaps;
    if (depthwise_) {
      depthwise_scratch_.resize(cpu::DepthwiseScratchSize(this->conv_geometry()));
      return;
    }
    using Kind = cpu::DnnlConvPrimitives::Problem::Kind;
    dnnl_.Prepare(*this, *bottom[0],
                  {.kind = this->transposed_ ? Kind::kDeconvolution : Kind::kConvolution,
                   .num = this->num_, .channels = this->channels_, .height = this->height_,
                   .width = this->width_, .num_output = this->num_output_,
                   .out_height = this->out_height_, .out_width = this->out_width_,
                   .group = this->group_, .bias_term = this->bias_term_ || fused_,
                   .kernel = k, .relu = fused_ && epilogue_relu_,
                   .relu_slope = epilogue_relu_slope_});
  }

  // ---- Inference fusion (Net::FuseForInference) ----
  // Layer::FuseEpilogue: a convolution (not a deconvolution) folds the affine maps into its
  // weights and bias at every Forward and applies the ReLU as oneDNN's post-op (or in the
  // GEMM path's last pass). Backward throws afterwards.
  bool FuseEpilogue(std::vector<const Layer*> affines, bool relu, float relu_slope) override {
    if (this->transposed_) return false;
    for (const Layer* affine : affines) {
      if (!affine->PerChannelAffine(this->num_output_, nullptr, nullptr)) return false;
    }
    epilogue_affines_ = std::move(affines);
    epilogue_relu_ = relu;
    epilogue_relu_slope_ = relu_slope;
    fused_ = true;
    const size_t channels = static_cast<size_t>(this->num_output_);
    folded_weight_.resize(static_cast<size_t>(this->blobs_[0]->count()));
    for (std::vector<float>* v : {&folded_bias_, &affine_scale_, &affine_shift_, &step_scale_,
                                  &step_shift_}) {
      v->resize(channels);
    }
    dnnl_.Reset();  // the bias and post-op change the primitives
    return true;
  }

  // oneDNN's names for the implementations it chose for forward, backward data and backward
  // weights ("jit:avx512_core, ..."), or the direct depthwise or per-image GEMM path's name;
  // for logs and tests; empty before the first Reshape.
  const std::string& implementation() const {
    static const std::string kDepthwise = "direct depthwise (NCHW)";
    static const std::string kPointwise = "GEMM per image (NCHW, 1x1)";
    return gemm_path_ ? kPointwise : depthwise_ ? kDepthwise : dnnl_.implementation();
  }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override {
    const float* weight = this->blobs_[0]->cpu_data();
    const float* bias = this->bias_term_ ? this->blobs_[1]->cpu_data() : nullptr;
    if (fused_) {
      FoldEpilogue(weight, bias);
      weight = folded_weight_.data();
      bias = folded_bias_.data();
    }
    if (gemm_path_) {
      PointwiseForward(bottom, top, weight, bias);
    } else if (depthwise_) {
      DepthwiseForward(bottom, top, weight, bias);
    } else {
      dnnl_.Forward(bottom, top, weight, bias);
    }
  }

  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override {
    if (fused_) this->Fail("runs Forward only: the layers after it were fused into it");
    if (gemm_path_ && !batched_) {
      Reference::BackwardCpu(top, propagate_down, bottom);
      return;
    }
    float* weight_diff =
        this->param_propagate_down(0) ? this->blobs_[0]->mutable_cpu_diff() : nullptr;
    float* bias_diff = this->bias_term_ && this->param_propagate_down(1)
                           ? this->blobs_[1]->mutable_cpu_diff()
                           : nullptr;
    if (batched_) {
      for (size_t i = 0; i < top.size(); ++i) {
        cpu::PointwiseBatchedBackward(
            pointwise_shape_, bottom[i]->cpu_data(), top[i]->cpu_diff(),
            this->blobs_[0]->cpu_data(), weight_diff, bias_diff,
            propagate_down[i] ? bottom[i]->mutable_cpu_diff() : nullptr);
      }
    } else if (depthwise_) {
      DepthwiseBackward(top, propagate_down, bottom, weight_diff, bias_diff);
    } else {
      dnnl_.Backward(top, propagate_down, bottom, this->blobs_[0]->cpu_data(), weight_diff,
                     bias_diff);
    }
  }

  // ---- Hooks: the direct depthwise path (a deconvolution's; see the header comment) ----
  // Forward for every bottom, `bias` null without bias_term.
  virtual void DepthwiseForward(const BlobVec& /*bottom*/, const BlobVec& /*top*/,
                                const float* /*weight*/, const float* /*bias*/) {
    this->Fail("has no direct depthwise kernel");
  }
  // Backward for every top: adds the weight and bias gradients to `weight_diff` and
  // `bias_diff` unless null, and overwrites bottom[i]'s diff when propagate_down[i].
  virtual void DepthwiseBackward(const BlobVec& /*top*/,
                                 const std::vector<bool>& /*propagate_down*/,
                                 const BlobVec& /*bottom*/, float* /*weight_diff*/,
                                 float* /*bias_diff*/) {
    this->Fail("has no direct depthwise kernel");
  }

  // The partial sums cpu::DepthwiseBackwardWeights needs, sized by Reshape.
  float* depthwise_scratch() { return depthwise_scratch_.data(); }

 private:
  // folded_weight_ = weight · a_c and folded_bias_ = bias · a_c + b_c per output channel c,
  // with (a, b) the composition of the fused affine maps.
  void FoldEpilogue(const float* weight, const float* bias) {
    const int channels = this->num_output_;
    std::fill(affine_scale_.begin(), affine_scale_.end(), 1.f);
    std::fill(affine_shift_.begin(), affine_shift_.end(), 0.f);
    for (const Layer* affine : epilogue_affines_) {
      affine->PerChannelAffine(channels, step_scale_.data(), step_shift_.data());
      for (int c = 0; c < channels; ++c) {
        affine_scale_[c] *= step_scale_[c];
        affine_shift_[c] = affine_shift_[c] * step_scale_[c] + step_shift_[c];
      }
    }
    const size_t per_channel = folded_weight_.size() / static_cast<size_t>(channels);
    for (int c = 0; c < channels; ++c) {
      const float a = affine_scale_[c];
      const float* w = weight + c * per_channel;
      float* folded = folded_weight_.data() + c * per_channel;
      for (size_t k = 0; k < per_channel; ++k) folded[k] = w[k] * a;
      folded_bias_[c] = (bias != nullptr ? bias[c] : 0.f) * a + affine_shift_[c];
    }
  }

  // y_n = W · columns(x_n) (+ bias per output row, then the fused ReLU) for every image n.
  void PointwiseForward(const BlobVec& bottom, const BlobVec& top, const float* weight,
                        const float* bias) {
    const int outputs = this->num_output_, inputs = this->channels_;
    const int plane = this->out_height_ * this->out_width_;
    const bool relu = fused_ && epilogue_relu_;
    const float slope = epilogue_relu_slope_;
    // A stride's subsampled columns, in the thread's scratch (nothing else uses it meanwhile).
    const bool strided =
        !batched_ && (pointwise_shape_.stride_h != 1 || pointwise_shape_.stride_w != 1);
    float* columns = strided ? static_cast<float*>(cpu::ThreadScratch(
                                   0, sizeof(float) * static_cast<size_t>(inputs) * plane))
                             : nullptr;
    for (size_t i = 0; i < bottom.size(); ++i) {
      const float* x = bottom[i]->cpu_data();
      float* y = top[i]->mutable_cpu_data();
      if (batched_) {
        cpu::PointwiseBatchedForward(pointwise_shape_, x, weight, bias, relu, slope, y);
        continue;
      }
      for (int n = 0; n < this->num_; ++n) {
        float* y_n = y + n * this->top_image_size_;
        const float* x_n = x + n * this->bottom_image_size_;
        if (strided) {
          cpu::PointwiseImageColumns(pointwise_shape_, x_n, columns);
          x_n = columns;
        }
        cpu::Gemm(false, false, outputs, plane, inputs, 1.f, weight, x_n, 0.f, y_n);
        if (bias == nullptr && !relu) continue;
#pragma omp parallel for if (static_cast<int64_t>(outputs) * plane >= (1 << 15)) schedule(static)
        for (int o = 0; o < outputs; ++o) {
          float* row = y_n + static_cast<size_t>(o) * plane;
          const float b = bias != nullptr ? bias[o] : 0.f;
          if (relu) {
            for (int s = 0; s < plane; ++s) {
              const float v = row[s] + b;
              row[s] = v > 0.f ? v : slope * v;
            }
          } else {
            for (int s = 0; s < plane; ++s) row[s] += b;
          }
        }
      }
    }
  }

  cpu::DnnlConvPrimitives dnnl_;
  // The fused epilogue (FuseEpilogue).
  bool fused_ = false;
  bool gemm_path_ = false;
  bool batched_ = false;  // the GEMM path, as one GEMM for the batch (cpu::PointwiseBatched*)
  cpu::PointwiseShape pointwise_shape_;
  std::vector<const Layer*> epilogue_affines_;
  bool epilogue_relu_ = false;
  float epilogue_relu_slope_ = 0.f;
  std::vector<float> folded_weight_, folded_bias_;
  std::vector<float> affine_scale_, affine_shift_, step_scale_, step_shift_;
  bool depthwise_ = false;  // fixed by the set-up geometry
  std::vector<float> depthwise_scratch_;
};

}  // namespace crema

#endif  // CREMA_BACKEND_CPU_DNNL_CONV_BASE_H_

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
// Depthwise layers (group = C = num_output, kernels of up to cpu::kDepthwiseMaxTaps cells)
// are the exception: they run on the direct NCHW kernels of backend/cpu/depthwise_conv.h,
// which the subclass maps onto its own computation (DepthwiseForward, DepthwiseBackward),
// with conv_geometry() as their geometry.
//
// Reshape throws what Reference::Reshape throws, and Unsupported (naming the layer) when
// oneDNN cannot create a primitive for the geometry. A layer is used by one thread at a time
// (it executes on that thread's stream, backend/cpu/dnnl_context.h).
#ifndef CREMA_BACKEND_CPU_DNNL_CONV_BASE_H_
#define CREMA_BACKEND_CPU_DNNL_CONV_BASE_H_

#include <string>
#include <vector>

#include "crema/backend/cpu/depthwise_conv.h"
#include "crema/backend/cpu/dnnl_conv_primitives.h"
#include "crema/layers/base_conv_layer.h"

namespace crema {

template <class Reference>
class DnnlConvolutionBase : public Reference {
 public:
  explicit DnnlConvolutionBase(const caffe::LayerParameter& param) : Reference(param) {}

  // Shapes the tops as Reference does, then prepares the depthwise path or the primitives.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override {
    this->ReshapeTops(bottom, top);
    const ConvKernel& k = this->kernel_;
    depthwise_ = this->IsDepthwise() && k.kernel_h * k.kernel_w <= cpu::kDepthwiseMaxTaps;
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
                   .group = this->group_, .bias_term = this->bias_term_, .kernel = k});
  }

  // oneDNN's names for the implementations it chose for forward, backward data and backward
  // weights ("jit:avx512_core, ..."), or "direct depthwise (NCHW)" for a depthwise layer; for
  // logs and tests; empty before the first Reshape.
  const std::string& implementation() const {
    static const std::string kDepthwise = "direct depthwise (NCHW)";
    return depthwise_ ? kDepthwise : dnnl_.implementation();
  }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override {
    const float* weight = this->blobs_[0]->cpu_data();
    const float* bias = this->bias_term_ ? this->blobs_[1]->cpu_data() : nullptr;
    if (depthwise_) {
      DepthwiseForward(bottom, top, weight, bias);
    } else {
      dnnl_.Forward(bottom, top, weight, bias);
    }
  }

  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override {
    float* weight_diff =
        this->param_propagate_down(0) ? this->blobs_[0]->mutable_cpu_diff() : nullptr;
    float* bias_diff = this->bias_term_ && this->param_propagate_down(1)
                           ? this->blobs_[1]->mutable_cpu_diff()
                           : nullptr;
    if (depthwise_) {
      DepthwiseBackward(top, propagate_down, bottom, weight_diff, bias_diff);
    } else {
      dnnl_.Backward(top, propagate_down, bottom, this->blobs_[0]->cpu_data(), weight_diff,
                     bias_diff);
    }
  }

  // ---- Hooks: the depthwise path ----
  // Forward for every bottom, `bias` null without bias_term.
  virtual void DepthwiseForward(const BlobVec& bottom, const BlobVec& top, const float* weight,
                                const float* bias) = 0;
  // Backward for every top: adds the weight and bias gradients to `weight_diff` and
  // `bias_diff` unless null, and overwrites bottom[i]'s diff when propagate_down[i].
  virtual void DepthwiseBackward(const BlobVec& top, const std::vector<bool>& propagate_down,
                                 const BlobVec& bottom, float* weight_diff,
                                 float* bias_diff) = 0;

  // The partial sums cpu::DepthwiseBackwardWeights needs, sized by Reshape.
  float* depthwise_scratch() { return depthwise_scratch_.data(); }

 private:
  cpu::DnnlConvPrimitives dnnl_;
  bool depthwise_ = false;  // fixed by the set-up geometry
  std::vector<float> depthwise_scratch_;
};

}  // namespace crema

#endif  // CREMA_BACKEND_CPU_DNNL_CONV_BASE_H_

// DnnlConvPrimitives: the oneDNN side of a convolution-like layer, shared by
// DnnlConvolutionLayer and DnnlDeconvolutionLayer (backend/cpu/dnnl_conv_layer.h,
// dnnl_deconv_layer.h).
//
// For one input geometry it holds oneDNN's forward, backward-data and backward-weights
// primitives (convolution or deconvolution), and for every tensor whose blob layout differs
// from the layout the primitive chose the reorder into or out of a copy in that layout
// (backend/cpu/dnnl_staged.h). Weights keep their own copies; activations and the
// primitives' scratchpads, which live only during one call, use the calling thread's scratch
// buffers (dnnl_context.h), so a net holds one set of them, not one per layer. The blobs
// stay in Caffe's plain layouts: activations NCHW, a Convolution's weight (num_output, C/group,
// kh, kw) and a Deconvolution's (C, num_output/group, kh, kw), the bias (num_output). All of
// it is made by Prepare when the input geometry changes and reused by every Forward/Backward
// after it, which allocate nothing once the thread's scratch buffers have grown to the
// largest layer of the net.
//
// Thread-safety: owned by one layer, used by one thread at a time (it executes on that
// thread's stream, backend/cpu/dnnl_context.h).
#ifndef CREMA_BACKEND_CPU_DNNL_CONV_PRIMITIVES_H_
#define CREMA_BACKEND_CPU_DNNL_CONV_PRIMITIVES_H_

#include <memory>
#include <string>
#include <vector>

#include "crema/layers/im2col.h"
#include "crema/layers/layer.h"

namespace crema::cpu {

class DnnlConvPrimitives {
 public:
  // The layer's computation in Caffe's terms, as its Reshape knows it.
  struct Problem {
    enum class Kind { kConvolution, kDeconvolution };
    Kind kind = Kind::kConvolution;
    // The bottom is (num, channels, height, width), the top (num, num_output, out_height,
    // out_width); out_height and out_width follow the layer's own size rule.
    int num = 0, channels = 0, height = 0, width = 0;
    int num_output = 0, out_height = 0, out_width = 0;
    int group = 1;
    bool bias_term = true;
    ConvKernel kernel;  // Caffe's: dilation counts from 1
    // Forward also applies max(y, 0) + relu_slope·min(y, 0) (a fused ReLU, inference only).
    bool relu = false;
    float relu_slope = 0.f;
  };

  DnnlConvPrimitives();
  ~DnnlConvPrimitives();
  DnnlConvPrimitives(const DnnlConvPrimitives&) = delete;
  DnnlConvPrimitives& operator=(const DnnlConvPrimitives&) = delete;

  // Makes the primitives, copies and scratchpad for `problem` unless they were made for an
  // input of the same num, height and width (everything else is fixed once the layer is set
  // up, or changed only before Reset). Throws Unsupported naming `layer` and `input` (its bottom[0]) when oneDNN cannot
  // create a primitive for the geometry; nothing is kept then, so the next call tries again.
  void Prepare(const Layer& layer, const Blob& input, const Problem& problem);

  // Forgets the primitives, so that the next Prepare builds them for its problem.
  void Reset();

  // oneDNN's names for the implementations it chose for forward, backward data and backward
  // weights ("jit:avx512_core, ..."); empty before the first Prepare.
  const std::string& implementation() const { return implementation_; }

  // top[i] = the layer's output for bottom[i], for every i, with `weight` and `bias` (null
  // without bias_term) the blobs' data. REQUIRES: Prepare succeeded for these shapes.
  void Forward(const BlobVec& bottom, const BlobVec& top, const float* weight,
               const float* bias);

  // For every i: when `weight_diff` or `bias_diff` is given, the weight and bias gradients of
  // the pair (bottom[i], top[i]'s diff) are added to the ones given (oneDNN overwrites its
  // outputs; blobs accumulate); when propagate_down[i], bottom[i]'s diff is overwritten by the
  // input gradient. REQUIRES: Prepare succeeded for these shapes.
  void Backward(const BlobVec& top, const std::vector<bool>& propagate_down,
                const BlobVec& bottom, const float* weight, float* weight_diff,
                float* bias_diff);

 private:
  struct Primitives;  // oneDNN objects, kept out of this header
  void Build(const Problem& problem);

  std::unique_ptr<Primitives> prims_;
  std::string implementation_;
  // Input geometry the primitives were built for: num, height, width.
  int built_num_ = -1, built_height_ = -1, built_width_ = -1;
};

}  // namespace crema::cpu

#endif  // CREMA_BACKEND_CPU_DNNL_CONV_PRIMITIVES_H_

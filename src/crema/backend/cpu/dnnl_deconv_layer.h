// DnnlDeconvolutionLayer: DeconvolutionLayer computed by oneDNN's deconvolution primitives.
//
// Same parameters, blobs, shapes and results as DeconvolutionLayer (layers/deconv_layer.h),
// to rounding: forward, backward-data and backward-weights (with bias) run as oneDNN
// primitives. Blobs stay in Caffe's plain layouts — activations NCHW, the weight
// (C, num_output/group, kh, kw), which oneDNN reads as its "iohw" / "giohw" layout. The
// primitives see activations and weights in the layouts oneDNN prefers; for every tensor
// whose layout differs from the blob's, the layer reorders into or out of a copy in that
// layout on each call (weights: the layer's own; activations and the scratchpad: the thread's
// scratch buffers). Primitives and reorders are created in Reshape when the input shape
// changes and reused by every Forward/Backward after it;
// Reshape throws what DeconvolutionLayer::Reshape throws, and Unsupported (naming the layer)
// when oneDNN cannot create a primitive for the geometry. Weight and bias gradients are added
// to the blobs' diffs, as the reference layer does. All of this is DnnlConvolutionBase
// (backend/cpu/dnnl_conv_base.h), shared with DnnlConvolutionLayer; implementation() names
// what oneDNN chose.
//
// Depthwise layers (group = C = num_output, e.g. FCN's bilinear upsampling) run on the direct
// NCHW depthwise kernels instead (backend/cpu/depthwise_conv.h; a deconvolution is the
// transpose of a convolution): oneDNN has no fast depthwise deconvolution weight gradient
// (on 16×21×56×56, 4×4 stride 2, its GEMM-based one takes about 2 s).
//
// Thread-safety: a layer is used by one thread at a time (it executes on that thread's
// stream, backend/cpu/dnnl_context.h).
#ifndef CREMA_BACKEND_CPU_DNNL_DECONV_LAYER_H_
#define CREMA_BACKEND_CPU_DNNL_DECONV_LAYER_H_

#include <memory>
#include <vector>

#include "crema/backend/cpu/dnnl_conv_base.h"
#include "crema/layers/deconv_layer.h"

namespace crema {

class DnnlDeconvolutionLayer : public DnnlConvolutionBase<DeconvolutionLayer> {
 public:
  using DnnlConvolutionBase::DnnlConvolutionBase;

 protected:
  // The depthwise convolution's backward data, plus the bias.
  void DepthwiseForward(const BlobVec& bottom, const BlobVec& top, const float* weight,
                        const float* bias) override;
  // The bias gradient; the convolution's weight gradient with the top gradient as its input;
  // the convolution itself applied to the top gradient.
  void DepthwiseBackward(const BlobVec& top, const std::vector<bool>& propagate_down,
                         const BlobVec& bottom, float* weight_diff, float* bias_diff) override;
};

}  // namespace crema

#endif  // CREMA_BACKEND_CPU_DNNL_DECONV_LAYER_H_

// DnnlConvolutionLayer: ConvolutionLayer computed by oneDNN's convolution primitives.
//
// Same parameters, blobs, shapes and results as ConvolutionLayer (layers/conv_layer.h), to
// rounding: forward, backward-data and backward-weights (with bias) run as oneDNN
// primitives, which use JIT kernels for the machine's vector ISA. Blobs stay in Caffe's plain
// NCHW / (num_output, C/group, kh, kw) layouts. The primitives see activations in oneDNN's
// preferred (usually channel-blocked) layout, or channels-last when blocking would pad the
// channels heavily (see ConvolutionActivationLayout in backend/cpu/dnnl_conv_primitives.cpp);
// for every tensor whose layout differs from the blob's, the layer reorders into or out of a
// copy in that layout on each call (weights: the layer's own; activations: the thread's
// scratch buffers, shared by every layer). Primitives and reorders are created in Reshape
// when the input shape changes and reused by every Forward/Backward after it; Reshape throws what ConvolutionLayer::Reshape throws, and
// Unsupported (naming the layer) when oneDNN cannot create a primitive for the geometry.
// Weight and bias gradients are added to the blobs' diffs, as the reference layer does. All
// of this is DnnlConvolutionBase (backend/cpu/dnnl_conv_base.h), shared with
// DnnlDeconvolutionLayer; implementation() names what oneDNN chose.
//
// Depthwise layers (MobileNet's 3×3) run on oneDNN's jit_dw kernels too, and 1×1 layers
// (stride 1, no padding, one group) as one sgemm per image on the NCHW blobs. At inference the
// BatchNorm, Scale and ReLU layers after it can be folded into it (FuseEpilogue, called by
// Net::FuseForInference).
//
// Thread-safety: a layer is used by one thread at a time (it executes on that thread's
// stream, backend/cpu/dnnl_context.h).
#ifndef CREMA_BACKEND_CPU_DNNL_CONV_LAYER_H_
#define CREMA_BACKEND_CPU_DNNL_CONV_LAYER_H_

#include "crema/backend/cpu/dnnl_conv_base.h"
#include "crema/layers/conv_layer.h"

namespace crema {

class DnnlConvolutionLayer : public DnnlConvolutionBase<ConvolutionLayer> {
 public:
  using DnnlConvolutionBase::DnnlConvolutionBase;
};

}  // namespace crema

#endif  // CREMA_BACKEND_CPU_DNNL_CONV_LAYER_H_

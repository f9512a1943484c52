// DnnlDeconvolutionLayer: DeconvolutionLayer computed by oneDNN's deconvolution primitives.
//
// Same parameters, blobs, shapes and results as DeconvolutionLayer (layers/deconv_layer.h),
// to rounding: forward, backward-data and backward-weights (with bias) run as oneDNN
// primitives. Blobs stay in Caffe's plain layouts — activations NCHW, the weight
// (C, num_output/group, kh, kw), which oneDNN reads as its "iohw" / "giohw" layout. The
// primitives see activations and weights in the layouts oneDNN prefers; for every tensor
// whose layout differs from the blob's, the layer keeps a private copy and reorders into or
// out of it on each call. Primitives, reorders, private copies and the scratchpad are created
// in Reshape when the input shape changes and reused by every Forward/Backward after it.
// Weight and bias gradients are added to the blobs' diffs, as the reference layer does.
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
#include <string>
#include <vector>

#include "crema/layers/deconv_layer.h"

namespace crema {

class DnnlDeconvolutionLayer : public DeconvolutionLayer {
 public:
  explicit DnnlDeconvolutionLayer(const caffe::LayerParameter& param);
  ~DnnlDeconvolutionLayer() override;

  // Shapes the tops as DeconvolutionLayer does and, when the input shape changed, recreates
  // the primitives. Throws what DeconvolutionLayer::Reshape throws, and Unsupported (naming
  // the layer) when oneDNN cannot create a primitive for the geometry.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  // oneDNN's names for the implementations of forward, backward data and backward weights,
  // or "direct depthwise (NCHW)"; for logs and tests; empty before the first Reshape.
  const std::string& implementation() const { return implementation_; }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  struct Primitives;  // oneDNN objects, kept out of this header
  void Build();

  std::unique_ptr<Primitives> prims_;
  std::string implementation_;
  // The depthwise path: its geometry and the weight gradient's partial sums.
  bool depthwise_ = false;
  Im2ColGeometry depthwise_geometry_;
  std::vector<float> depthwise_scratch_;
  // Input geometry the primitives were built for: num, height, width.
  int built_num_ = -1, built_height_ = -1, built_width_ = -1;
};

// The registry's creator for type "Deconvolution": DeconvolutionLayer for `engine: CAFFE`,
// DnnlDeconvolutionLayer for DEFAULT and CUDNN (which has no meaning on the CPU). The choice
// is made once, here.
std::unique_ptr<Layer> CreateDeconvolutionLayer(const caffe::LayerParameter& param);

}  // namespace crema

#endif  // CREMA_BACKEND_CPU_DNNL_DECONV_LAYER_H_

// PoolingLayer: MAX or AVE pooling over the two spatial axes of an NCHW blob.
//
// Shapes:
//   bottom[0]  (N, C, H, W)
//   top[0]     (N, C, H_out, W_out)
//   top[1]     (N, C, H_out, W_out), MAX only and optional: the argmax of each window as a
//              float index y·W + x into its input plane
//
// Output size, per spatial axis (H shown; W alike with its own pad/kernel/stride):
//   CEIL (default): H_out = ceil((H + 2·pad_h − kernel_h) / stride_h) + 1
//   FLOOR:          H_out = floor((H + 2·pad_h − kernel_h) / stride_h) + 1
//   then, when pad_h or pad_w is non-zero, each axis whose last window would start at or
//   beyond the end of the image plus its padding ((H_out − 1)·stride_h ≥ H + pad_h) loses
//   that window. Note [Ceil pooling]: this is the rule Caffe shipped; networks' later layer
//   shapes (and so their caffemodels) depend on it, so it is kept exactly, quirks included.
//
// Window of output (y, x): rows [y·stride_h − pad_h, y·stride_h − pad_h + kernel_h), columns
// alike.
//   MAX: the largest input in the window clipped to the image; ties go to the first in
//        row-major scan order. A window with no cell inside the image (possible only with
//        pad 0 and kernel < stride in CEIL mode) yields −FLT_MAX and index −1 and passes no
//        gradient.
//   AVE: the sum over the window clipped to the image, divided by the window size clipped
//        to H + pad_h (W + pad_w): padding cells count, overhang beyond the padding does not.
//        A window with no cell inside the image yields 0.
// Backward: MAX routes each top gradient to its argmax; AVE spreads it evenly (divided by the
// same divisor) over the clipped window.
//
// Parameters (PoolingParameter): pool MAX (default) or AVE; STOCHASTIC is Unsupported on
// the CPU. kernel_size or kernel_h + kernel_w; pad or pad_h/pad_w (default 0); stride or
// stride_h + stride_w (default 1); pad < kernel on each axis. global_pooling: the kernel is
// the whole input plane, no kernel may be given, and pad must be 0 and stride 1.
// round_mode CEIL (default) or FLOOR.
//
// Speed: MAX pooling with a 2×2 stride-2, 3×3 stride-2 or 3×3 stride-1 window (any padding)
// runs a loop specialised at compile time, vectorised along output rows when they are long
// and across rows (through a table of window positions) when they are short, as in LeNet;
// every other case runs the general loop. Reshape picks the loop; all give identical
// results. Planes (n, c) run in parallel with OpenMP.
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for bad parameters or
// a bottom that is not 4-D, and Unsupported for STOCHASTIC. A layer is used by one thread at
// a time.
#ifndef CREMA_LAYERS_POOLING_LAYER_H_
#define CREMA_LAYERS_POOLING_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class PoolingLayer : public Layer {
 public:
  explicit PoolingLayer(const caffe::LayerParameter& param) : Layer(param) {}

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "Pooling"; }
  // MAX reads the winners' indices (its own, or the mask top), AVE nothing.
  bool BackwardReadsBottomData(int) const override { return false; }
  bool BackwardReadsTopData(int top_index) const override { return top_index == 1; }
  int ExactNumBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }
  // MAX may also output its argmax mask.
  int MaxTopBlobs() const override {
    return layer_param_.pooling_param().pool() == caffe::PoolingParameter::MAX ? 2 : 1;
  }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // Which forward loop runs MAX pooling; chosen in Reshape.
  enum class MaxKernel { kGeneral, k2x2Stride2, k3x3Stride2, k3x3Stride1 };

  void MaxForward(const float* x, float* y, int* mask, float* float_mask) const;
  // MaxForward for K×K windows with stride S: by table on short rows, else row by row.
  template <int K, int S>
  void MaxForwardKxK(const float* x, float* y, int* mask, float* float_mask) const;
  // AVE is separable: window sums along rows, then along columns (and backward the
  // reverse), each a short loop over contiguous outputs.
  void AveForward(const float* x, float* y) const;
  void MaxBackward(const float* dy, const int* mask, const float* float_mask, float* dx) const;
  void AveBackward(const float* dy, float* dx) const;

  caffe::PoolingParameter::PoolMethod method_ = caffe::PoolingParameter::MAX;
  bool global_ = false;
  int kernel_h_ = 0, kernel_w_ = 0;
  int pad_h_ = 0, pad_w_ = 0;
  int stride_h_ = 1, stride_w_ = 1;
  bool ceil_mode_ = true;

  int planes_ = 0;  // N·C
  int height_ = 0, width_ = 0;
  int out_height_ = 0, out_width_ = 0;
  MaxKernel max_kernel_ = MaxKernel::kGeneral;
  // Whether the specialised loop runs over a table of window corners (short rows) rather
  // than row by row; whether the table reads a padded copy of each plane (of this size: some
  // window reaches outside the image) or the plane itself; and per output its window's
  // top-left cell, in what it reads and in the image's numbering.
  bool table_ = false;
  bool table_reads_padded_ = false;
  int padded_height_ = 0, padded_width_ = 0;
  std::vector<int> read_corners_, image_corners_;
  int corners_height_ = -1, corners_width_ = -1;  // input size the table was built for
  // Argmax per top element when the mask is not a top.
  std::vector<int> mask_;
  // AVE windows, set by Reshape: per output row (column) the input rows [first, last) it
  // covers inside the image, and its extent counted with the padding (Caffe's divisor is
  // the product of the two extents).
  struct Span {
    int first, last, extent;
  };
  std::vector<Span> ave_rows_, ave_cols_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_POOLING_LAYER_H_

#include "crema/layers/im2col_layer.h"

#include <algorithm>
#include <cstdint>

namespace crema {

void Im2colLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  kernel_ = ParseConvKernel(layer_param_.convolution_param(), Describe());
}

void Im2colLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0]) Fail("cannot run in place");
  const Blob& x = *bottom[0];
  const int n = x.num_axes();
  const int axis = layer_param_.convolution_param().axis();
  if (axis < -n || axis >= n) {
    Fail("convolution_param.axis ", axis, " is out of range for a bottom of shape ",
         x.shape_string());
  }
  channel_axis_ = axis < 0 ? axis + n : axis;
  const int spatial_axes = n - channel_axis_ - 1;
  if (spatial_axes != 2) {
    throw Unsupported(StrCat(Describe(), ": only 2-D im2col is supported (two spatial axes ",
                             "after the channel axis), but the bottom ", x.shape_string(),
                             " has ", spatial_axes, " spatial axes"));
  }
  Im2ColGeometry& g = geometry_;
  g.channels = x.shape(channel_axis_);
  g.height = x.shape(channel_axis_ + 1);
  g.width = x.shape(channel_axis_ + 2);
  g.kernel_h = kernel_.kernel_h;
  g.kernel_w = kernel_.kernel_w;
  g.pad_h = kernel_.pad_h;
  g.pad_w = kernel_.pad_w;
  g.stride_h = kernel_.stride_h;
  g.stride_w = kernel_.stride_w;
  g.dilation_h = kernel_.dilation_h;
  g.dilation_w = kernel_.dilation_w;
  const int64_t extent_h = static_cast<int64_t>(g.dilation_h) * (g.kernel_h - 1) + 1;
  const int64_t extent_w = static_cast<int64_t>(g.dilation_w) * (g.kernel_w - 1) + 1;
  const int64_t padded_h = g.height + 2 * static_cast<int64_t>(g.pad_h);
  const int64_t padded_w = g.width + 2 * static_cast<int64_t>(g.pad_w);
  if (padded_h < extent_h || padded_w < extent_w) {
    Fail("the kernel spans ", extent_h, "x", extent_w, " cells, more than the padded input ",
         padded_h, "x", padded_w, " of ", x.shape_string());
  }
  g.out_height = static_cast<int>((padded_h - extent_h) / g.stride_h + 1);
  g.out_width = static_cast<int>((padded_w - extent_w) / g.stride_w + 1);
  num_ = x.count(0, channel_axis_);

  top_shape_.assign(x.shape().begin(), x.shape().begin() + channel_axis_);
  const int64_t rows = static_cast<int64_t>(g.channels) * g.kernel_h * g.kernel_w;
  if (rows > INT32_MAX) Fail("the column matrix would have ", rows, " channels");
  top_shape_.push_back(static_cast<int>(rows));
  top_shape_.push_back(g.out_height);
  top_shape_.push_back(g.out_width);
  if (static_cast<int64_t>(num_) * rows * g.out_height * g.out_width > INT32_MAX) {
    Fail("the column matrices of a bottom of shape ", x.shape_string(),
         " would hold more than INT_MAX values");
  }
  top[0]->Reshape(top_shape_);
}

void Im2colLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const size_t image = static_cast<size_t>(bottom[0]->count(channel_axis_));
  const size_t columns = static_cast<size_t>(top[0]->count(channel_axis_));
  // Images are independent; one per thread once there is enough work.
#pragma omp parallel for if (num_ > 1 && top[0]->count() >= (1 << 16)) schedule(static)
  for (int n = 0; n < num_; ++n) Im2Col(geometry_, x + n * image, y + n * columns);
}

void Im2colLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                              const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const size_t image = static_cast<size_t>(bottom[0]->count(channel_axis_));
  const size_t columns = static_cast<size_t>(top[0]->count(channel_axis_));
#pragma omp parallel for if (num_ > 1 && top[0]->count() >= (1 << 16)) schedule(static)
  for (int n = 0; n < num_; ++n) {
    float* dx_n = dx + n * image;
    std::fill(dx_n, dx_n + image, 0.f);
    Col2Im(geometry_, dy + n * columns, dx_n);
  }
}

}  // namespace crema

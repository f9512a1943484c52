#include "crema/layers/deconv_layer.h"

#include <algorithm>

#include "crema/backend/cpu/blas.h"
#include "crema/core/filler.h"

namespace crema {

void DeconvolutionLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::ConvolutionParameter& p = layer_param_.convolution_param();
  kernel_ = ParseConvKernel(p, Describe());
  num_output_ = static_cast<int>(p.num_output());
  if (num_output_ <= 0) Fail("num_output must be positive, got ", p.num_output());
  group_ = static_cast<int>(p.group());
  if (group_ <= 0) Fail("group must be positive, got ", p.group());
  bias_term_ = p.bias_term();

  const Blob& input = *bottom[0];
  const int num_axes = input.num_axes();
  if (p.axis() < -num_axes || p.axis() >= num_axes) {
    Fail("axis ", p.axis(), " is out of range for input ", input.shape_string());
  }
  channel_axis_ = p.axis() < 0 ? p.axis() + num_axes : p.axis();
  const int spatial_axes = num_axes - channel_axis_ - 1;
  if (spatial_axes != 2) {
    throw Unsupported(StrCat(Describe(), ": only 2-D deconvolution is supported (two spatial ",
                             "axes after the channel axis), but input ", input.shape_string(),
                             " has ", spatial_axes, " spatial axes"));
  }
  channels_ = input.shape(channel_axis_);
  if (channels_ % group_ != 0) {
    Fail("group ", group_, " does not divide the ", channels_, " input channels");
  }
  if (num_output_ % group_ != 0) {
    Fail("group ", group_, " does not divide num_output ", num_output_);
  }

  // Caffe keeps the weights of the convolution this layer is the transpose of: that
  // convolution maps num_output channels to C, so its weight is (C, num_output/group, kh, kw).
  blobs_.clear();
  blobs_.push_back(std::make_shared<Blob>(std::vector<int>{
      channels_, num_output_ / group_, kernel_.kernel_h, kernel_.kernel_w}));
  FillBlob(p.weight_filler(), blobs_[0].get(), Describe() + " weight_filler");
  if (bias_term_) {
    blobs_.push_back(std::make_shared<Blob>(std::vector<int>{num_output_}));
    FillBlob(p.bias_filler(), blobs_[1].get(), Describe() + " bias_filler");
  }
  param_propagate_down_.assign(blobs_.size(), true);
}

void DeconvolutionLayer::ReshapeTops(const BlobVec& bottom, const BlobVec& top) {
  const Blob& first = *bottom[0];
  if (first.num_axes() != channel_axis_ + 3) {
    Fail("input ", first.shape_string(), " must keep the ", channel_axis_ + 3,
         " axes it was set up with");
  }
  for (size_t i = 1; i < bottom.size(); ++i) {
    if (bottom[i]->shape() != first.shape()) {
      Fail("all inputs must have one shape, got ", first.shape_string(), " and ",
           bottom[i]->shape_string(), " (bottom ", i, ")");
    }
  }
  if (first.shape(channel_axis_) != channels_) {
    Fail("input ", first.shape_string(), " has ", first.shape(channel_axis_),
         " channels, but the weights were made for ", channels_);
  }
  num_ = first.count(0, channel_axis_);
  height_ = first.shape(channel_axis_ + 1);
  width_ = first.shape(channel_axis_ + 2);
  const ConvKernel& k = kernel_;
  const int extent_h = k.dilation_h * (k.kernel_h - 1) + 1;
  const int extent_w = k.dilation_w * (k.kernel_w - 1) + 1;
  // 64-bit: a large stride times a large input must not wrap around before the check.
  const long long out_h = static_cast<long long>(k.stride_h) * (height_ - 1) + extent_h -
                          2LL * k.pad_h;
  const long long out_w = static_cast<long long>(k.stride_w) * (width_ - 1) + extent_w -
                          2LL * k.pad_w;
  if (height_ <= 0 || width_ <= 0 || out_h <= 0 || out_w <= 0) {
    Fail("input ", first.shape_string(), " gives an output of ", out_h, "x", out_w,
         " cells (stride·(size − 1) + dilated kernel − 2·pad); it must be positive");
  }
  if (out_h > (1 << 30) || out_w > (1 << 30)) {
    Fail("input ", first.shape_string(), " gives an output of ", out_h, "x", out_w,
         " cells, too many");
  }
  out_height_ = static_cast<int>(out_h);
  out_width_ = static_cast<int>(out_w);

  std::vector<int> top_shape(first.shape().begin(), first.shape().begin() + channel_axis_);
  top_shape.push_back(num_output_);
  top_shape.push_back(out_height_);
  top_shape.push_back(out_width_);
  for (Blob* t : top) t->Reshape(top_shape);
}

bool DeconvolutionLayer::IsPointwise() const {
  return kernel_.kernel_h == 1 && kernel_.kernel_w == 1 && kernel_.stride_h == 1 &&
         kernel_.stride_w == 1 && kernel_.pad_h == 0 && kernel_.pad_w == 0;
}

void DeconvolutionLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  ReshapeTops(bottom, top);
  const ConvKernel& k = kernel_;
  col_geometry_ = {.channels = num_output_, .height = out_height_, .width = out_width_,
                   .kernel_h = k.kernel_h, .kernel_w = k.kernel_w, .pad_h = k.pad_h,
                   .pad_w = k.pad_w, .stride_h = k.stride_h, .stride_w = k.stride_w,
                   .dilation_h = k.dilation_h, .dilation_w = k.dilation_w,
                   .out_height = height_, .out_width = width_};
  if (!IsPointwise()) {
    const size_t col_size = static_cast<size_t>(num_output_) * k.kernel_h * k.kernel_w *
                            static_cast<size_t>(height_) * width_;
    if (col_buffer_.size() < col_size) col_buffer_.resize(col_size);
  }
}

void DeconvolutionLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int in_size = height_ * width_;                                   // GEMM N
  const int out_size = out_height_ * out_width_;
  const int group_in = channels_ / group_;                                // GEMM K
  const int group_k = num_output_ / group_ * kernel_.kernel_h * kernel_.kernel_w;  // GEMM M
  const size_t image_size = static_cast<size_t>(channels_) * in_size;
  const size_t top_size = static_cast<size_t>(num_output_) * out_size;
  const float* weight = blobs_[0]->cpu_data();
  const float* bias = bias_term_ ? blobs_[1]->cpu_data() : nullptr;
  const bool pointwise = IsPointwise();
  for (size_t i = 0; i < bottom.size(); ++i) {
    const float* x = bottom[i]->cpu_data();
    float* y = top[i]->mutable_cpu_data();
    for (int n = 0; n < num_; ++n) {
      const float* x_n = x + n * image_size;
      float* y_n = y + n * top_size;
      // col_g = W_gᵀ · x_g: each input cell's contributions to every output channel and tap.
      float* col = pointwise ? y_n : col_buffer_.data();
      for (int g = 0; g < group_; ++g) {
        cpu::Gemm(true, false, group_k, in_size, group_in, 1.f,
                  weight + static_cast<size_t>(g) * group_in * group_k,
                  x_n + static_cast<size_t>(g) * group_in * in_size, 0.f,
                  col + static_cast<size_t>(g) * group_k * in_size);
      }
      if (!pointwise) {
        std::fill(y_n, y_n + top_size, 0.f);
        Col2Im(col_geometry_, col, y_n);
      }
      if (bias != nullptr) {
        for (int o = 0; o < num_output_; ++o) {
          float* row = y_n + static_cast<size_t>(o) * out_size;
          for (int s = 0; s < out_size; ++s) row[s] += bias[o];
        }
      }
    }
  }
}

void DeconvolutionLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  const int in_size = height_ * width_;
  const int out_size = out_height_ * out_width_;
  const int group_in = channels_ / group_;
  const int group_k = num_output_ / group_ * kernel_.kernel_h * kernel_.kernel_w;
  const size_t image_size = static_cast<size_t>(channels_) * in_size;
  const size_t top_size = static_cast<size_t>(num_output_) * out_size;
  const float* weight = blobs_[0]->cpu_data();
  const bool weight_grad = param_propagate_down(0);
  const bool bias_grad = bias_term_ && param_propagate_down(1);
  const bool pointwise = IsPointwise();
  float* weight_diff = weight_grad ? blobs_[0]->mutable_cpu_diff() : nullptr;
  float* bias_diff = bias_grad ? blobs_[1]->mutable_cpu_diff() : nullptr;

  for (size_t i = 0; i < top.size(); ++i) {
    const float* dy = top[i]->cpu_diff();
    if (bias_grad) {
      for (int n = 0; n < num_; ++n) {
        for (int o = 0; o < num_output_; ++o) {
          const float* row = dy + n * top_size + static_cast<size_t>(o) * out_size;
          float sum = 0.f;
          for (int s = 0; s < out_size; ++s) sum += row[s];
          bias_diff[o] += sum;
        }
      }
    }
    if (!weight_grad && !propagate_down[i]) continue;
    const float* x = bottom[i]->cpu_data();
    float* dx = propagate_down[i] ? bottom[i]->mutable_cpu_diff() : nullptr;
    for (int n = 0; n < num_; ++n) {
      // The top gradient gathered back into columns: the transpose of the forward scatter.
      const float* col = dy + n * top_size;
      if (!pointwise) {
        Im2Col(col_geometry_, col, col_buffer_.data());
        col = col_buffer_.data();
      }
      if (weight_grad) {
        // dW_g += x_g · col_gᵀ
        const float* x_n = x + n * image_size;
        for (int g = 0; g < group_; ++g) {
          cpu::Gemm(false, true, group_in, group_k, in_size, 1.f,
                    x_n + static_cast<size_t>(g) * group_in * in_size,
                    col + static_cast<size_t>(g) * group_k * in_size, 1.f,
                    weight_diff + static_cast<size_t>(g) * group_in * group_k);
        }
      }
      if (dx != nullptr) {
        // dx_g = W_g · col_g, a plain convolution of the top gradient.
        float* dx_n = dx + n * image_size;
        for (int g = 0; g < group_; ++g) {
          cpu::Gemm(false, false, group_in, in_size, group_k, 1.f,
                    weight + static_cast<size_t>(g) * group_in * group_k,
                    col + static_cast<size_t>(g) * group_k * in_size, 0.f,
                    dx_n + static_cast<size_t>(g) * group_in * in_size);
        }
      }
    }
  }
}

}  // namespace crema

#include "crema/layers/conv_layer.h"

#include <algorithm>
#include <cstring>

#include "crema/backend/cpu/blas.h"
#include "crema/core/filler.h"

namespace crema {

void ConvolutionLayer::ParseGeometry() {
  const caffe::ConvolutionParameter& p = layer_param_.convolution_param();
  const ConvKernel k = ParseConvKernel(p, Describe());
  kernel_h_ = k.kernel_h;
  kernel_w_ = k.kernel_w;
  pad_h_ = k.pad_h;
  pad_w_ = k.pad_w;
  stride_h_ = k.stride_h;
  stride_w_ = k.stride_w;
  dilation_h_ = k.dilation_h;
  dilation_w_ = k.dilation_w;

  num_output_ = static_cast<int>(p.num_output());
  if (num_output_ <= 0) Fail("num_output must be positive, got ", p.num_output());
  group_ = static_cast<int>(p.group());
  if (group_ <= 0) Fail("group must be positive, got ", p.group());
  bias_term_ = p.bias_term();
}

void ConvolutionLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  ParseGeometry();
  const caffe::ConvolutionParameter& p = layer_param_.convolution_param();
  const Blob& input = *bottom[0];
  const int num_axes = input.num_axes();
  if (p.axis() < -num_axes || p.axis() >= num_axes) {
    Fail("axis ", p.axis(), " is out of range for input ", input.shape_string());
  }
  channel_axis_ = p.axis() < 0 ? p.axis() + num_axes : p.axis();
  const int spatial_axes = num_axes - channel_axis_ - 1;
  if (spatial_axes != 2) {
    throw Unsupported(StrCat(Describe(), ": only 2-D convolution is supported (two spatial ",
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

  blobs_.clear();
  blobs_.push_back(std::make_shared<Blob>(
      std::vector<int>{num_output_, channels_ / group_, kernel_h_, kernel_w_}));
  FillBlob(p.weight_filler(), blobs_[0].get(), Describe() + " weight_filler");
  if (bias_term_) {
    blobs_.push_back(std::make_shared<Blob>(std::vector<int>{num_output_}));
    FillBlob(p.bias_filler(), blobs_[1].get(), Describe() + " bias_filler");
  }
  param_propagate_down_.assign(blobs_.size(), true);
}

void ConvolutionLayer::ReshapeTops(const BlobVec& bottom, const BlobVec& top) {
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
  const int extent_h = dilation_h_ * (kernel_h_ - 1) + 1;
  const int extent_w = dilation_w_ * (kernel_w_ - 1) + 1;
  if (height_ + 2 * pad_h_ < extent_h || width_ + 2 * pad_w_ < extent_w) {
    Fail("the kernel spans ", extent_h, "x", extent_w, " cells, more than the padded input ",
         height_ + 2 * pad_h_, "x", width_ + 2 * pad_w_, " of ", first.shape_string());
  }
  out_height_ = (height_ + 2 * pad_h_ - extent_h) / stride_h_ + 1;
  out_width_ = (width_ + 2 * pad_w_ - extent_w) / stride_w_ + 1;

  std::vector<int> top_shape(first.shape().begin(), first.shape().begin() + channel_axis_);
  top_shape.push_back(num_output_);
  top_shape.push_back(out_height_);
  top_shape.push_back(out_width_);
  for (Blob* t : top) t->Reshape(top_shape);
}

void ConvolutionLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  ReshapeTops(bottom, top);
  col_geometry_ = {.channels = channels_, .height = height_, .width = width_,
                   .kernel_h = kernel_h_, .kernel_w = kernel_w_, .pad_h = pad_h_, .pad_w = pad_w_,
                   .stride_h = stride_h_, .stride_w = stride_w_, .dilation_h = dilation_h_,
                   .dilation_w = dilation_w_, .out_height = out_height_, .out_width = out_width_};
  if (!IsPointwise()) {
    const size_t col_size = static_cast<size_t>(channels_) * kernel_h_ * kernel_w_ *
                            out_height_ * out_width_;
    if (col_buffer_.size() < col_size) col_buffer_.resize(col_size);
  }
}

bool ConvolutionLayer::IsPointwise() const {
  return kernel_h_ == 1 && kernel_w_ == 1 && stride_h_ == 1 && stride_w_ == 1 && pad_h_ == 0 &&
         pad_w_ == 0;
}

void ConvolutionLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int out_size = out_height_ * out_width_;
  const int group_out = num_output_ / group_;                          // GEMM M
  const int group_k = channels_ / group_ * kernel_h_ * kernel_w_;      // GEMM K
  const size_t image_size = static_cast<size_t>(channels_) * height_ * width_;
  const size_t top_size = static_cast<size_t>(num_output_) * out_size;
  const float* weight = blobs_[0]->cpu_data();
  const float* bias = bias_term_ ? blobs_[1]->cpu_data() : nullptr;
  const bool pointwise = IsPointwise();
  for (size_t i = 0; i < bottom.size(); ++i) {
    const float* x = bottom[i]->cpu_data();
    float* y = top[i]->mutable_cpu_data();
    for (int n = 0; n < num_; ++n) {
      const float* col = x + n * image_size;
      if (!pointwise) {
        Im2Col(col_geometry_, col, col_buffer_.data());
        col = col_buffer_.data();
      }
      float* y_n = y + n * top_size;
      for (int g = 0; g < group_; ++g) {
        cpu::Gemm(false, false, group_out, out_size, group_k, 1.f,
                  weight + static_cast<size_t>(g) * group_out * group_k,
                  col + static_cast<size_t>(g) * group_k * out_size, 0.f,
                  y_n + static_cast<size_t>(g) * group_out * out_size);
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

void ConvolutionLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  const int out_size = out_height_ * out_width_;
  const int group_out = num_output_ / group_;
  const int group_k = channels_ / group_ * kernel_h_ * kernel_w_;
  const size_t image_size = static_cast<size_t>(channels_) * height_ * width_;
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
      const float* dy_n = dy + n * top_size;
      if (weight_grad) {
        // dW_g += dy_g · col_gᵀ
        const float* col = x + n * image_size;
        if (!pointwise) {
          Im2Col(col_geometry_, col, col_buffer_.data());
          col = col_buffer_.data();
        }
        for (int g = 0; g < group_; ++g) {
          cpu::Gemm(false, true, group_out, group_k, out_size, 1.f,
                    dy_n + static_cast<size_t>(g) * group_out * out_size,
                    col + static_cast<size_t>(g) * group_k * out_size, 1.f,
                    weight_diff + static_cast<size_t>(g) * group_out * group_k);
        }
      }
      if (dx != nullptr) {
        // col_g = W_gᵀ · dy_g, then scattered back onto the image.
        float* dx_n = dx + n * image_size;
        float* col = pointwise ? dx_n : col_buffer_.data();
        for (int g = 0; g < group_; ++g) {
          cpu::Gemm(true, false, group_k, out_size, group_out, 1.f,
                    weight + static_cast<size_t>(g) * group_out * group_k,
                    dy_n + static_cast<size_t>(g) * group_out * out_size, 0.f,
                    col + static_cast<size_t>(g) * group_k * out_size);
        }
        if (!pointwise) {
          std::fill(dx_n, dx_n + image_size, 0.f);
          Col2Im(col_geometry_, col, dx_n);
        }
      }
    }
  }
}

}  // namespace crema

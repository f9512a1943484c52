#include "crema/layers/base_conv_layer.h"

#include <algorithm>

#include "crema/backend/cpu/blas.h"
#include "crema/core/filler.h"

namespace crema {

void BaseConvolutionLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::ConvolutionParameter& p = layer_param_.convolution_param();
  kernel_ = ParseConvKernel(p, Describe());
  num_output_ = static_cast<int>(p.num_output());
  if (num_output_ <= 0) Fail("num_output must be positive, got ", p.num_output());
  group_ = static_cast<int>(p.group());
  if (group_ <= 0) Fail("group must be positive, got ", p.group());
  bias_term_ = p.bias_term();
  pointwise_ = kernel_.kernel_h == 1 && kernel_.kernel_w == 1 && kernel_.stride_h == 1 &&
               kernel_.stride_w == 1 && kernel_.pad_h == 0 && kernel_.pad_w == 0;

  const Blob& input = *bottom[0];
  const int num_axes = input.num_axes();
  if (p.axis() < -num_axes || p.axis() >= num_axes) {
    Fail("axis ", p.axis(), " is out of range for input ", input.shape_string());
  }
  channel_axis_ = p.axis() < 0 ? p.axis() + num_axes : p.axis();
  const int spatial_axes = num_axes - channel_axis_ - 1;
  if (spatial_axes != 2) {
    throw Unsupported(StrCat(Describe(), ": only 2-D ",
                             transposed_ ? "deconvolution" : "convolution",
                             " is supported (two spatial axes after the channel axis), but input ",
                             input.shape_string(), " has ", spatial_axes, " spatial axes"));
  }
  channels_ = input.shape(channel_axis_);
  if (channels_ % group_ != 0) {
    Fail("group ", group_, " does not divide the ", channels_, " input channels");
  }
  if (num_output_ % group_ != 0) {
    Fail("group ", group_, " does not divide num_output ", num_output_);
  }

  // The weight is the convolution's (output channels, image channels / group, kh, kw), the
  // table in the header: a Deconvolution keeps the weight of the convolution it transposes.
  conv_output_channels_ = transposed_ ? channels_ : num_output_;
  const int conv_image_channels = transposed_ ? num_output_ : channels_;
  blobs_.clear();
  blobs_.push_back(std::make_shared<Blob>(std::vector<int>{
      conv_output_channels_, conv_image_channels / group_, kernel_.kernel_h, kernel_.kernel_w}));
  FillBlob(p.weight_filler(), blobs_[0].get(), Describe() + " weight_filler");
  if (bias_term_) {
    blobs_.push_back(std::make_shared<Blob>(std::vector<int>{num_output_}));
    FillBlob(p.bias_filler(), blobs_[1].get(), Describe() + " bias_filler");
  }
  param_propagate_down_.assign(blobs_.size(), true);
}

void BaseConvolutionLayer::ReshapeTops(const BlobVec& bottom, const BlobVec& top) {
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
  ComputeOutputSize(first);

  std::vector<int> top_shape(first.shape().begin(), first.shape().begin() + channel_axis_);
  top_shape.push_back(num_output_);
  top_shape.push_back(out_height_);
  top_shape.push_back(out_width_);
  for (Blob* t : top) t->Reshape(top_shape);

  bottom_image_size_ = static_cast<size_t>(channels_) * height_ * width_;
  top_image_size_ = static_cast<size_t>(num_output_) * out_height_ * out_width_;
  const ConvKernel& k = kernel_;
  conv_geometry_ = {.kernel_h = k.kernel_h, .kernel_w = k.kernel_w, .pad_h = k.pad_h,
                    .pad_w = k.pad_w, .stride_h = k.stride_h, .stride_w = k.stride_w,
                    .dilation_h = k.dilation_h, .dilation_w = k.dilation_w};
  Im2ColGeometry& g = conv_geometry_;
  if (transposed_) {
    // The top is the image, the bottom's H × W cells the convolution's output positions.
    g.channels = num_output_;
    g.height = out_height_;
    g.width = out_width_;
    g.out_height = height_;
    g.out_width = width_;
  } else {
    g.channels = channels_;
    g.height = height_;
    g.width = width_;
    g.out_height = out_height_;
    g.out_width = out_width_;
  }
}

void BaseConvolutionLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  ReshapeTops(bottom, top);
  if (!pointwise_) {
    const Im2ColGeometry& g = conv_geometry_;
    const size_t col_size =
        static_cast<size_t>(g.channels) * g.kernel_h * g.kernel_w * g.out_height * g.out_width;
    if (col_buffer_.size() < col_size) col_buffer_.resize(col_size);
  }
}

const float* BaseConvolutionLayer::ImageColumns(const float* image) {
  if (pointwise_) return image;
  Im2Col(conv_geometry_, image, col_buffer_.data());
  return col_buffer_.data();
}

// In the three products below, per group: M = the group's output channels, K = its image
// channels × kernel taps (the column matrix's rows), N = the output positions.
void BaseConvolutionLayer::ConvolveColumns(const float* columns, const float* weight,
                                           float* output) {
  const Im2ColGeometry& geo = conv_geometry_;
  const int out_size = geo.out_height * geo.out_width;
  const int group_out = conv_output_channels_ / group_;
  const int group_k = geo.channels / group_ * geo.kernel_h * geo.kernel_w;
  for (int g = 0; g < group_; ++g) {
    cpu::Gemm(false, false, group_out, out_size, group_k, 1.f,
              weight + static_cast<size_t>(g) * group_out * group_k,
              columns + static_cast<size_t>(g) * group_k * out_size, 0.f,
              output + static_cast<size_t>(g) * group_out * out_size);
  }
}

void BaseConvolutionLayer::ConvolveTransposed(const float* output, const float* weight,
                                              float* image) {
  const Im2ColGeometry& geo = conv_geometry_;
  const int out_size = geo.out_height * geo.out_width;
  const int group_out = conv_output_channels_ / group_;
  const int group_k = geo.channels / group_ * geo.kernel_h * geo.kernel_w;
  // col_g = W_gᵀ · output_g: each output cell's contributions to every image channel and tap.
  float* col = pointwise_ ? image : col_buffer_.data();
  for (int g = 0; g < group_; ++g) {
    cpu::Gemm(true, false, group_k, out_size, group_out, 1.f,
              weight + static_cast<size_t>(g) * group_out * group_k,
              output + static_cast<size_t>(g) * group_out * out_size, 0.f,
              col + static_cast<size_t>(g) * group_k * out_size);
  }
  if (!pointwise_) {
    // Scattered back onto the image, adding where windows overlap.
    std::fill(image, image + static_cast<size_t>(geo.channels) * geo.height * geo.width, 0.f);
    Col2Im(geo, col, image);
  }
}

void BaseConvolutionLayer::AccumulateWeightGradient(const float* output, const float* columns,
                                                    float* weight_diff) {
  const Im2ColGeometry& geo = conv_geometry_;
  const int out_size = geo.out_height * geo.out_width;
  const int group_out = conv_output_channels_ / group_;
  const int group_k = geo.channels / group_ * geo.kernel_h * geo.kernel_w;
  for (int g = 0; g < group_; ++g) {
    cpu::Gemm(false, true, group_out, group_k, out_size, 1.f,
              output + static_cast<size_t>(g) * group_out * out_size,
              columns + static_cast<size_t>(g) * group_k * out_size, 1.f,
              weight_diff + static_cast<size_t>(g) * group_out * group_k);
  }
}

void BaseConvolutionLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int out_size = out_height_ * out_width_;
  const float* weight = blobs_[0]->cpu_data();
  const float* bias = bias_term_ ? blobs_[1]->cpu_data() : nullptr;
  for (size_t i = 0; i < bottom.size(); ++i) {
    const float* x = bottom[i]->cpu_data();
    float* y = top[i]->mutable_cpu_data();
    for (int n = 0; n < num_; ++n) {
      float* y_n = y + n * top_image_size_;
      ForwardImage(x + n * bottom_image_size_, weight, y_n);
      if (bias != nullptr) {
        for (int o = 0; o < num_output_; ++o) {
          float* row = y_n + static_cast<size_t>(o) * out_size;
          for (int s = 0; s < out_size; ++s) row[s] += bias[o];
        }
      }
    }
  }
}

void BaseConvolutionLayer::BackwardCpu(const BlobVec& top,
                                       const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  const int out_size = out_height_ * out_width_;
  const float* weight = blobs_[0]->cpu_data();
  const bool weight_grad = param_propagate_down(0);
  const bool bias_grad = bias_term_ && param_propagate_down(1);
  float* weight_diff = weight_grad ? blobs_[0]->mutable_cpu_diff() : nullptr;
  float* bias_diff = bias_grad ? blobs_[1]->mutable_cpu_diff() : nullptr;

  for (size_t i = 0; i < top.size(); ++i) {
    const float* dy = top[i]->cpu_diff();
    if (bias_grad) {
      for (int n = 0; n < num_; ++n) {
        for (int o = 0; o < num_output_; ++o) {
          const float* row = dy + n * top_image_size_ + static_cast<size_t>(o) * out_size;
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
      BackwardImage(x + n * bottom_image_size_, dy + n * top_image_size_, weight, weight_diff,
                    dx != nullptr ? dx + n * bottom_image_size_ : nullptr);
    }
  }
}

}  // namespace crema

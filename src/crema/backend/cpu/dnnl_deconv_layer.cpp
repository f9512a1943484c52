#include "crema/backend/cpu/dnnl_deconv_layer.h"

#include <oneapi/dnnl/dnnl.hpp>

#include "crema/backend/cpu/blas.h"
#include "crema/backend/cpu/depthwise_conv.h"
#include "crema/backend/cpu/dnnl_context.h"
#include "crema/backend/cpu/dnnl_staged.h"

namespace crema {

namespace {
using dnnl::memory;
using Staged = cpu::StagedTensor;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;
}  // namespace

struct DnnlDeconvolutionLayer::Primitives {
  dnnl::deconvolution_forward forward;
  dnnl::deconvolution_backward_data backward_data;
  dnnl::deconvolution_backward_weights backward_weights;
  std::vector<dnnl_exec_arg_t> forward_args, backward_data_args, backward_weights_args;

  // Forward.
  Staged src, weights, bias, dst;
  // Backward data.
  Staged bd_diff_dst, bd_weights, bd_diff_src;
  // Backward weights; the plain sides of the weight and bias gradients are owned buffers
  // that are then added to the blobs' diffs.
  Staged bw_src, bw_diff_dst, bw_diff_weights, bw_diff_bias;
  // Both backward primitives want diff_dst in one layout: backward data reads bw_diff_dst.
  bool shared_diff_dst = false;

  // One scratchpad buffer serves all three primitives, which never run at once.
  memory scratchpad_owner;
  memory forward_scratchpad, backward_data_scratchpad, backward_weights_scratchpad;
};

DnnlDeconvolutionLayer::DnnlDeconvolutionLayer(const caffe::LayerParameter& param)
    : DeconvolutionLayer(param) {}

DnnlDeconvolutionLayer::~DnnlDeconvolutionLayer() = default;

void DnnlDeconvolutionLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  ReshapeTops(bottom, top);
  depthwise_ = group_ == channels_ && num_output_ == channels_ &&
               kernel_.kernel_h * kernel_.kernel_w <= cpu::kDepthwiseMaxTaps;
  if (depthwise_) {
    // The transpose of a depthwise convolution whose input is this layer's top: its
    // geometry sees the top as the image and the bottom as the output positions.
    const ConvKernel& k = kernel_;
    depthwise_geometry_ = {.channels = channels_, .height = out_height_, .width = out_width_,
                           .kernel_h = k.kernel_h, .kernel_w = k.kernel_w, .pad_h = k.pad_h,
                           .pad_w = k.pad_w, .stride_h = k.stride_h, .stride_w = k.stride_w,
                           .dilation_h = k.dilation_h, .dilation_w = k.dilation_w,
                           .out_height = height_, .out_width = width_};
    depthwise_scratch_.resize(cpu::DepthwiseScratchSize(depthwise_geometry_));
    implementation_ = "direct depthwise (NCHW)";
    return;
  }
  if (prims_ != nullptr && built_num_ == num_ && built_height_ == height_ &&
      built_width_ == width_) {
    return;
  }
  prims_.reset();
  try {
    Build();
  } catch (const dnnl::error& e) {
    prims_.reset();
    throw Unsupported(StrCat(Describe(), ": oneDNN cannot create the deconvolution for input ",
                             bottom[0]->shape_string(), " (", e.what(), ")"));
  }
  built_num_ = num_;
  built_height_ = height_;
  built_width_ = width_;
}

void DnnlDeconvolutionLayer::Build() {
  const dnnl::engine& engine = cpu::DnnlEngine();
  using Dims = memory::dims;
  const ConvKernel& k = kernel_;
  const Dims src_dims{num_, channels_, height_, width_};
  const Dims dst_dims{num_, num_output_, out_height_, out_width_};
  // oneDNN orders deconvolution weights (out, in, kh, kw) per group; Caffe's blob holds them
  // input-major, which is oneDNN's iohw (giohw with groups) layout of the same dims.
  const Dims weight_dims =
      group_ == 1 ? Dims{num_output_, channels_, k.kernel_h, k.kernel_w}
                  : Dims{group_, num_output_ / group_, channels_ / group_, k.kernel_h,
                         k.kernel_w};
  const Dims bias_dims{num_output_};
  const Dims strides{k.stride_h, k.stride_w};
  // oneDNN counts dilation from 0 (no gaps); Caffe from 1.
  const Dims dilates{k.dilation_h - 1, k.dilation_w - 1};
  // Caffe's output size stride·(H − 1) + dilated kernel − 2·pad is oneDNN's with equal
  // padding on both sides.
  const Dims padding{k.pad_h, k.pad_w};

  const memory::desc src_plain(src_dims, kF32, Tag::nchw);
  const memory::desc dst_plain(dst_dims, kF32, Tag::nchw);
  const memory::desc weights_plain(weight_dims, kF32, group_ == 1 ? Tag::iohw : Tag::giohw);
  const memory::desc bias_plain(bias_dims, kF32, Tag::x);
  const memory::desc src_asked(src_dims, kF32, Tag::any);
  const memory::desc dst_asked(dst_dims, kF32, Tag::any);
  const memory::desc weights_asked(weight_dims, kF32, Tag::any);
  const memory::desc bias_asked(bias_dims, kF32, Tag::any);

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto direct = dnnl::algorithm::deconvolution_direct;
  using Forward = dnnl::deconvolution_forward;
  using BackwardData = dnnl::deconvolution_backward_data;
  using BackwardWeights = dnnl::deconvolution_backward_weights;

  const Forward::primitive_desc forward_pd(
      bias_term_ ? Forward::desc(dnnl::prop_kind::forward_training, direct, src_asked,
                                 weights_asked, bias_asked, dst_asked, strides, dilates,
                                 padding, padding)
                 : Forward::desc(dnnl::prop_kind::forward_training, direct, src_asked,
                                 weights_asked, dst_asked, strides, dilates, padding, padding),
      attr, engine);
  const BackwardData::primitive_desc backward_data_pd(
      BackwardData::desc(direct, src_asked, weights_asked, dst_asked, strides, dilates, padding,
                         padding),
      attr, engine, forward_pd);
  const BackwardWeights::primitive_desc backward_weights_pd(
      bias_term_ ? BackwardWeights::desc(direct, src_asked, weights_asked, bias_asked, dst_asked,
                                         strides, dilates, padding, padding)
                 : BackwardWeights::desc(direct, src_asked, weights_asked, dst_asked, strides,
                                         dilates, padding, padding),
      attr, engine, forward_pd);
  implementation_ = StrCat(forward_pd.impl_info_str(), ", ", backward_data_pd.impl_info_str(),
                           ", ", backward_weights_pd.impl_info_str());

  auto p = std::make_unique<Primitives>();
  using Flow = Staged::Flow;
  p->src.Init(src_plain, forward_pd.src_desc(), Flow::kIn);
  p->weights.Init(weights_plain, forward_pd.weights_desc(), Flow::kIn);
  p->dst.Init(dst_plain, forward_pd.dst_desc(), Flow::kOut);
  p->bd_diff_dst.Init(dst_plain, backward_data_pd.diff_dst_desc(), Flow::kIn);
  p->bd_weights.Init(weights_plain, backward_data_pd.weights_desc(), Flow::kIn);
  p->bd_diff_src.Init(src_plain, backward_data_pd.diff_src_desc(), Flow::kOut);
  p->bw_src.Init(src_plain, backward_weights_pd.src_desc(), Flow::kIn);
  p->bw_diff_dst.Init(dst_plain, backward_weights_pd.diff_dst_desc(), Flow::kIn);
  p->bw_diff_weights.Init(weights_plain, backward_weights_pd.diff_weights_desc(), Flow::kOut,
                          /*own_user=*/true);
  if (bias_term_) {
    p->bias.Init(bias_plain, forward_pd.bias_desc(), Flow::kIn);
    p->bw_diff_bias.Init(bias_plain, backward_weights_pd.diff_bias_desc(), Flow::kOut,
                         /*own_user=*/true);
  }

  const memory::desc scratch_descs[] = {forward_pd.scratchpad_desc(),
                                        backward_data_pd.scratchpad_desc(),
                                        backward_weights_pd.scratchpad_desc()};
  const memory::desc* largest = &scratch_descs[0];
  for (const memory::desc& d : scratch_descs) {
    if (d.get_size() > largest->get_size()) largest = &d;
  }
  p->scratchpad_owner = memory(*largest, engine);
  void* scratch = p->scratchpad_owner.get_data_handle();
  p->forward_scratchpad = memory(scratch_descs[0], engine, scratch);
  p->backward_data_scratchpad = memory(scratch_descs[1], engine, scratch);
  p->backward_weights_scratchpad = memory(scratch_descs[2], engine, scratch);

  p->forward = Forward(forward_pd);
  p->forward_args = {{DNNL_ARG_SRC, p->src.primitive_memory()},
                     {DNNL_ARG_WEIGHTS, p->weights.primitive_memory()},
                     {DNNL_ARG_DST, p->dst.primitive_memory()},
                     {DNNL_ARG_SCRATCHPAD, p->forward_scratchpad.get()}};
  if (bias_term_) p->forward_args.push_back({DNNL_ARG_BIAS, p->bias.primitive_memory()});

  p->shared_diff_dst = backward_data_pd.diff_dst_desc() == backward_weights_pd.diff_dst_desc();
  p->backward_data = BackwardData(backward_data_pd);
  p->backward_data_args = {{DNNL_ARG_DIFF_DST, p->shared_diff_dst
                                                   ? p->bw_diff_dst.primitive_memory()
                                                   : p->bd_diff_dst.primitive_memory()},
                           {DNNL_ARG_WEIGHTS, p->bd_weights.primitive_memory()},
                           {DNNL_ARG_DIFF_SRC, p->bd_diff_src.primitive_memory()},
                           {DNNL_ARG_SCRATCHPAD, p->backward_data_scratchpad.get()}};

  p->backward_weights = BackwardWeights(backward_weights_pd);
  p->backward_weights_args = {{DNNL_ARG_SRC, p->bw_src.primitive_memory()},
                              {DNNL_ARG_DIFF_DST, p->bw_diff_dst.primitive_memory()},
                              {DNNL_ARG_DIFF_WEIGHTS, p->bw_diff_weights.primitive_memory()},
                              {DNNL_ARG_SCRATCHPAD, p->backward_weights_scratchpad.get()}};
  if (bias_term_) {
    p->backward_weights_args.push_back(
        {DNNL_ARG_DIFF_BIAS, p->bw_diff_bias.primitive_memory()});
  }
  prims_ = std::move(p);
}

void DnnlDeconvolutionLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  if (depthwise_) {
    // Deconvolution forward is the depthwise convolution's backward data.
    const size_t plane = static_cast<size_t>(out_height_) * out_width_;
    for (size_t i = 0; i < bottom.size(); ++i) {
      float* y = top[i]->mutable_cpu_data();
      cpu::DepthwiseBackwardData(depthwise_geometry_, num_, bottom[i]->cpu_data(),
                                 blobs_[0]->cpu_data(), y);
      if (!bias_term_) continue;
      const float* bias = blobs_[1]->cpu_data();
      for (int n = 0; n < num_; ++n) {
        for (int c = 0; c < num_output_; ++c) {
          float* row = y + (static_cast<size_t>(n) * num_output_ + c) * plane;
          for (size_t s = 0; s < plane; ++s) row[s] += bias[c];
        }
      }
    }
    return;
  }
  Primitives& p = *prims_;
  p.weights.Bind(blobs_[0]->cpu_data());
  p.weights.Sync();
  if (bias_term_) {
    p.bias.Bind(blobs_[1]->cpu_data());
    p.bias.Sync();
  }
  for (size_t i = 0; i < bottom.size(); ++i) {
    p.src.Bind(bottom[i]->cpu_data());
    p.src.Sync();
    p.dst.Bind(top[i]->mutable_cpu_data());
    cpu::ExecutePrimitive(p.forward, p.forward_args);
    p.dst.Sync();
  }
  cpu::DnnlStream().wait();
}

void DnnlDeconvolutionLayer::BackwardCpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  const bool weight_grad = param_propagate_down(0);
  const bool bias_grad = bias_term_ && param_propagate_down(1);
  if (depthwise_) {
    const size_t plane = static_cast<size_t>(out_height_) * out_width_;
    for (size_t i = 0; i < top.size(); ++i) {
      const float* dy = top[i]->cpu_diff();
      if (bias_grad) {
        float* bias_diff = blobs_[1]->mutable_cpu_diff();
        for (int n = 0; n < num_; ++n) {
          for (int c = 0; c < num_output_; ++c) {
            const float* row = dy + (static_cast<size_t>(n) * num_output_ + c) * plane;
            double sum = 0;
            for (size_t s = 0; s < plane; ++s) sum += row[s];
            bias_diff[c] += static_cast<float>(sum);
          }
        }
      }
      // In the depthwise convolution's terms the top gradient is the input and the bottom
      // the output: weight gradient and backward data swap roles accordingly.
      if (weight_grad) {
        cpu::DepthwiseBackwardWeights(depthwise_geometry_, num_, dy, bottom[i]->cpu_data(),
                                      blobs_[0]->mutable_cpu_diff(), nullptr,
                                      depthwise_scratch_.data());
      }
      if (propagate_down[i]) {
        cpu::DepthwiseForward(depthwise_geometry_, num_, dy, blobs_[0]->cpu_data(), nullptr,
                              bottom[i]->mutable_cpu_diff());
      }
    }
    return;
  }
  Primitives& p = *prims_;
  dnnl::stream& stream = cpu::DnnlStream();
  bool weights_staged = false;
  for (size_t i = 0; i < top.size(); ++i) {
    const float* dy = top[i]->cpu_diff();
    bool diff_dst_staged = false;  // bw_diff_dst holds this top's gradient
    if (weight_grad || bias_grad) {
      p.bw_src.Bind(bottom[i]->cpu_data());
      p.bw_src.Sync();
      p.bw_diff_dst.Bind(dy);
      p.bw_diff_dst.Sync();
      diff_dst_staged = true;
      cpu::ExecutePrimitive(p.backward_weights, p.backward_weights_args);
      p.bw_diff_weights.Sync();
      if (bias_term_) p.bw_diff_bias.Sync();
      stream.wait();
      // oneDNN overwrites its outputs; the blobs accumulate.
      if (weight_grad) {
        cpu::Axpy(blobs_[0]->count(), 1.f,
                  static_cast<const float*>(p.bw_diff_weights.user_memory().get_data_handle()),
                  blobs_[0]->mutable_cpu_diff());
      }
      if (bias_grad) {
        cpu::Axpy(num_output_, 1.f,
                  static_cast<const float*>(p.bw_diff_bias.user_memory().get_data_handle()),
                  blobs_[1]->mutable_cpu_diff());
      }
    }
    if (propagate_down[i]) {
      if (!weights_staged) {
        p.bd_weights.Bind(blobs_[0]->cpu_data());
        p.bd_weights.Sync();
        weights_staged = true;
      }
      if (!(p.shared_diff_dst && diff_dst_staged)) {
        Staged& diff_dst = p.shared_diff_dst ? p.bw_diff_dst : p.bd_diff_dst;
        diff_dst.Bind(dy);
        diff_dst.Sync();
      }
      p.bd_diff_src.Bind(bottom[i]->mutable_cpu_diff());
      cpu::ExecutePrimitive(p.backward_data, p.backward_data_args);
      p.bd_diff_src.Sync();
    }
  }
  stream.wait();
}

std::unique_ptr<Layer> CreateDeconvolutionLayer(const caffe::LayerParameter& param) {
  if (param.convolution_param().engine() == caffe::ConvolutionParameter::CAFFE) {
    return std::make_unique<DeconvolutionLayer>(param);
  }
  return std::make_unique<DnnlDeconvolutionLayer>(param);
}

}  // namespace crema

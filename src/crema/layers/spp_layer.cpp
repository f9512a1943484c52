#include "crema/layers/spp_layer.h"

#include "crema/layers/concat_layer.h"
#include "crema/layers/flatten_layer.h"
#include "crema/layers/pooling_layer.h"
#include "crema/layers/split_layer.h"

namespace crema {

namespace {

// The window of one pyramid level along one axis of `size` cells split into `bins` bins: the
// smallest kernel whose bins cover the axis, used as its own stride, and padding that centres
// the covered span on the axis.
struct LevelWindow {
  int kernel, pad;
};
LevelWindow WindowFor(int size, int bins) {
  const int kernel = (size + bins - 1) / bins;
  return {kernel, (kernel * bins - size + 1) / 2};
}

caffe::LayerParameter InnerParam(const std::string& name, const char* type) {
  caffe::LayerParameter param;
  param.set_name(name);
  param.set_type(type);
  return param;
}

}  // namespace

SPPLayer::SPPLayer(const caffe::LayerParameter& param) : Layer(param) {}
SPPLayer::~SPPLayer() = default;

caffe::LayerParameter SPPLayer::PoolingParam(int level, int height, int width) const {
  caffe::LayerParameter param = InnerParam(StrCat(name(), "/pool", level), "Pooling");
  caffe::PoolingParameter* pool = param.mutable_pooling_param();
  const LevelWindow h = WindowFor(height, 1 << level);
  const LevelWindow w = WindowFor(width, 1 << level);
  pool->set_kernel_h(static_cast<uint32_t>(h.kernel));
  pool->set_kernel_w(static_cast<uint32_t>(w.kernel));
  pool->set_stride_h(static_cast<uint32_t>(h.kernel));
  pool->set_stride_w(static_cast<uint32_t>(w.kernel));
  pool->set_pad_h(static_cast<uint32_t>(h.pad));
  pool->set_pad_w(static_cast<uint32_t>(w.pad));
  pool->set_pool(layer_param_.spp_param().pool() == caffe::SPPParameter::AVE
                     ? caffe::PoolingParameter::AVE
                     : caffe::PoolingParameter::MAX);
  return param;
}

void SPPLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::SPPParameter& p = layer_param_.spp_param();
  if (!p.has_pyramid_height() || p.pyramid_height() == 0) {
    Fail("needs spp_param.pyramid_height of at least 1");
  }
  // Level l needs 2^l bins per axis, so an input of at least 2^l cells: 31 levels are far
  // beyond any blob, and the limit keeps 2^l in an int.
  if (p.pyramid_height() > 31) {
    Fail("spp_param.pyramid_height ", p.pyramid_height(), " is too large");
  }
  if (p.pool() == caffe::SPPParameter::STOCHASTIC) {
    throw Unsupported(StrCat(Describe(), ": STOCHASTIC pooling is not supported on the CPU; ",
                             "use MAX or AVE"));
  }
  levels_ = static_cast<int>(p.pyramid_height());
  height_ = width_ = -1;
  pooling_.clear();
  pooling_.resize(levels_);
  if (levels_ == 1) return;  // the one Pooling layer writes the top directly

  split_ = std::make_unique<SplitLayer>(InnerParam(name() + "/split", "Split"));
  concat_ = std::make_unique<ConcatLayer>(InnerParam(name() + "/concat", "Concat"));
  split_out_.clear();
  pooled_.clear();
  flat_.clear();
  flatten_.clear();
  split_top_.clear();
  concat_bottom_.clear();
  pool_bottom_.assign(levels_, {});
  pool_top_.assign(levels_, {});
  flat_top_.assign(levels_, {});
  for (int l = 0; l < levels_; ++l) {
    split_out_.push_back(std::make_unique<Blob>());
    pooled_.push_back(std::make_unique<Blob>());
    flat_.push_back(std::make_unique<Blob>());
    flatten_.push_back(
        std::make_unique<FlattenLayer>(InnerParam(StrCat(name(), "/flatten", l), "Flatten")));
    split_top_.push_back(split_out_[l].get());
    pool_bottom_[l] = {split_out_[l].get()};
    pool_top_[l] = {pooled_[l].get()};
    flat_top_[l] = {flat_[l].get()};
    concat_bottom_.push_back(flat_[l].get());
  }
  all_levels_.assign(levels_, true);
}

void SPPLayer::BuildPooling(const BlobVec& bottom, const BlobVec& top) {
  const int height = bottom[0]->shape(2), width = bottom[0]->shape(3);
  for (int l = 0; l < levels_; ++l) {
    const LevelWindow h = WindowFor(height, 1 << l);
    const LevelWindow w = WindowFor(width, 1 << l);
    if (h.pad >= h.kernel || w.pad >= w.kernel) {
      Fail("spp_param.pyramid_height ", levels_, " is too deep for a ", height, "x", width,
           " input: level ", l, " (", 1 << l, "x", 1 << l, " bins) would need a ", h.kernel,
           "x", w.kernel, " kernel with ", h.pad, "x", w.pad,
           " padding, and pooling needs the padding below the kernel");
    }
  }
  for (int l = 0; l < levels_; ++l) {
    pooling_[l] = std::make_unique<PoolingLayer>(PoolingParam(l, height, width));
  }
  WithErrorContext(Describe(), [&] {
    if (levels_ == 1) {
      pooling_[0]->SetUp(bottom, top);
      return;
    }
    split_->SetUp(bottom, split_top_);
    for (int l = 0; l < levels_; ++l) {
      pooling_[l]->SetUp(pool_bottom_[l], pool_top_[l]);
      flatten_[l]->SetUp(pool_top_[l], flat_top_[l]);
    }
    concat_->SetUp(concat_bottom_, top);
  });
  height_ = height;
  width_ = width;
}

void SPPLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0]) Fail("cannot run in place");
  const Blob& x = *bottom[0];
  if (x.num_axes() != 4) Fail("needs a 4-D bottom (N, C, H, W), got shape ", x.shape_string());
  if (x.shape(2) == 0 || x.shape(3) == 0) {
    Fail("needs a bottom with H and W above 0, got shape ", x.shape_string());
  }
  if (x.shape(2) != height_ || x.shape(3) != width_) {
    BuildPooling(bottom, top);  // SetUp of every inner layer reshapes them too
    return;
  }
  // Not WithErrorContext: its prefix would be built on every Forward.
  try {
    if (levels_ == 1) {
      pooling_[0]->Reshape(bottom, top);
      return;
    }
    split_->Reshape(bottom, split_top_);
    for (int l = 0; l < levels_; ++l) {
      pooling_[l]->Reshape(pool_bottom_[l], pool_top_[l]);
      flatten_[l]->Reshape(pool_top_[l], flat_top_[l]);
    }
    concat_->Reshape(concat_bottom_, top);
  } catch (const Error& e) {
    throw Error(e.code(), StrCat(Describe(), ": ", e.what()));
  }
}

void SPPLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  // Each inner Forward reshapes its layer again; with the shapes Reshape just set, that is a
  // cheap no-op.
  if (levels_ == 1) {
    pooling_[0]->Forward(bottom, top);
    return;
  }
  split_->Forward(bottom, split_top_);
  for (int l = 0; l < levels_; ++l) {
    pooling_[l]->Forward(pool_bottom_[l], pool_top_[l]);
    flatten_[l]->Forward(pool_top_[l], flat_top_[l]);
  }
  concat_->Forward(concat_bottom_, top);
}

void SPPLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                           const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  if (levels_ == 1) {
    pooling_[0]->Backward(top, propagate_down, bottom);
    return;
  }
  concat_->Backward(top, all_levels_, concat_bottom_);
  for (int l = 0; l < levels_; ++l) {
    flatten_[l]->Backward(flat_top_[l], one_, pool_top_[l]);
    pooling_[l]->Backward(pool_top_[l], one_, pool_bottom_[l]);
  }
  split_->Backward(split_top_, one_, bottom);
}

}  // namespace crema

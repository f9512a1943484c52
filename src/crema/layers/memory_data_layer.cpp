#include "crema/layers/memory_data_layer.h"

#include <algorithm>
#include <climits>

namespace crema {

void MemoryDataLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::MemoryDataParameter& p = layer_param_.memory_data_param();
  if (p.batch_size() == 0 || p.channels() == 0 || p.height() == 0 || p.width() == 0) {
    Fail("needs memory_data_param batch_size, channels, height and width > 0, got ",
         p.batch_size(), ", ", p.channels(), ", ", p.height(), ", ", p.width());
  }
  const uint64_t item = uint64_t{p.channels()} * p.height() * p.width();
  if (item * p.batch_size() > static_cast<uint64_t>(INT_MAX)) {
    Fail("batch of ", p.batch_size(), "x", p.channels(), "x", p.height(), "x", p.width(),
         " is too large");
  }
  batch_size_ = static_cast<int>(p.batch_size());
  channels_ = static_cast<int>(p.channels());
  height_ = static_cast<int>(p.height());
  width_ = static_cast<int>(p.width());
  item_size_ = static_cast<int>(item);
}

void MemoryDataLayer::Reshape(const BlobVec& /*bottom*/, const BlobVec& top) {
  top[0]->Reshape({batch_size_, channels_, height_, width_});
  top[1]->Reshape({batch_size_});
}

void MemoryDataLayer::Reset(const float* data, const float* labels, int n) {
  if (data == nullptr || labels == nullptr) Fail("Reset needs data and label arrays, got null");
  if (n <= 0 || n % batch_size_ != 0) {
    Fail("Reset needs a positive multiple of batch_size ", batch_size_, " items, got ", n);
  }
  data_ = data;
  labels_ = labels;
  n_ = n;
  pos_ = 0;
}

void MemoryDataLayer::ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& top) {
  if (data_ == nullptr) Fail("has no data: call Reset(data, labels, n) before Forward");
  std::copy_n(data_ + static_cast<size_t>(pos_) * item_size_,
              static_cast<size_t>(batch_size_) * item_size_, top[0]->mutable_cpu_data());
  std::copy_n(labels_ + pos_, batch_size_, top[1]->mutable_cpu_data());
  pos_ = (pos_ + batch_size_) % n_;
}

}  // namespace crema

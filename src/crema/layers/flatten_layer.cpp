#include "crema/layers/flatten_layer.h"

namespace crema {

void FlattenLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0]) Fail("cannot run in place");
  const Blob& x = *bottom[0];
  const int n = x.num_axes();
  const caffe::FlattenParameter& p = layer_param_.flatten_param();
  if (p.axis() < -n || p.axis() >= n) {
    Fail("flatten_param.axis ", p.axis(), " is out of range for a bottom of shape ",
         x.shape_string());
  }
  if (p.end_axis() < -n || p.end_axis() >= n) {
    Fail("flatten_param.end_axis ", p.end_axis(), " is out of range for a bottom of shape ",
         x.shape_string());
  }
  const int start = p.axis() < 0 ? p.axis() + n : p.axis();
  const int end = p.end_axis() < 0 ? p.end_axis() + n : p.end_axis();
  if (end < start) {
    Fail("flatten_param.end_axis (axis ", end, ") comes before axis (axis ", start,
         ") for a bottom of shape ", x.shape_string());
  }
  top_shape_.clear();
  for (int i = 0; i < start; ++i) top_shape_.push_back(x.shape(i));
  top_shape_.push_back(x.count(start, end + 1));
  for (int i = end + 1; i < n; ++i) top_shape_.push_back(x.shape(i));
  top[0]->Reshape(top_shape_);
  top[0]->ShareData(x);
  top[0]->ShareDiff(x);
}

}  // namespace crema

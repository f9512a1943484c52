#include "crema/layers/reshape_layer.h"

#include <climits>

namespace crema {

void ReshapeLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::BlobShape& shape = layer_param_.reshape_param().shape();
  copy_axes_.clear();
  inferred_axis_ = -1;
  constant_count_ = 1;
  for (int i = 0; i < shape.dim_size(); ++i) {
    const int64_t dim = shape.dim(i);
    if (dim == 0) {
      copy_axes_.push_back(i);
    } else if (dim == -1) {
      if (inferred_axis_ != -1) {
        Fail("reshape_param.shape has more than one -1 (dims ", inferred_axis_, " and ", i,
             "); at most one dimension can be inferred");
      }
      inferred_axis_ = i;
    } else if (dim < -1 || dim > INT_MAX) {
      Fail("reshape_param.shape dim ", i, " is ", dim,
           "; give a positive size, 0 (copy) or -1 (infer)");
    } else {
      constant_count_ *= dim;
      if (constant_count_ > INT_MAX) Fail("reshape_param.shape holds more than INT_MAX values");
    }
  }
}

void ReshapeLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0]) Fail("cannot run in place");
  const Blob& x = *bottom[0];
  const int n = x.num_axes();
  const caffe::ReshapeParameter& p = layer_param_.reshape_param();
  // axis −1 is the position after the last axis, so a negative axis a means n + a + 1.
  const int start = p.axis() >= 0 ? p.axis() : n + p.axis() + 1;
  if (start < 0 || start > n) {
    Fail("reshape_param.axis ", p.axis(), " is out of range for a bottom of shape ",
         x.shape_string());
  }
  if (p.num_axes() < -1) Fail("reshape_param.num_axes must be -1 or more, got ", p.num_axes());
  const int end = p.num_axes() == -1 ? n : start + p.num_axes();
  if (end > n) {
    Fail("reshape_param.axis ", p.axis(), " and num_axes ", p.num_axes(),
         " reach beyond the axes of a bottom of shape ", x.shape_string());
  }
  const caffe::BlobShape& shape = p.shape();
  top_shape_.clear();
  for (int i = 0; i < start; ++i) top_shape_.push_back(x.shape(i));
  for (int i = 0; i < shape.dim_size(); ++i) top_shape_.push_back(static_cast<int>(shape.dim(i)));
  for (int i = end; i < n; ++i) top_shape_.push_back(x.shape(i));
  for (int i : copy_axes_) {
    if (start + i >= n) {
      Fail("reshape_param.shape dim ", i, " is 0 (copy), but a bottom of shape ",
           x.shape_string(), " has no axis ", start + i, " to copy");
    }
    top_shape_[start + i] = x.shape(start + i);
  }
  if (inferred_axis_ >= 0) {
    int64_t explicit_count = constant_count_ * x.count(0, start) * x.count(end);
    for (int i : copy_axes_) {
      explicit_count *= top_shape_[start + i];
      if (explicit_count > INT_MAX) break;  // cannot divide the count; stop before overflow
    }
    if (explicit_count == 0 || x.count() % explicit_count != 0) {
      Fail("cannot infer the -1 dimension: the bottom's ", x.count(), " values (shape ",
           x.shape_string(), ") are not a multiple of the other dimensions' product ",
           explicit_count);
    }
    top_shape_[start + inferred_axis_] = static_cast<int>(x.count() / explicit_count);
  }
  int64_t top_count = 1;
  for (int d : top_shape_) {
    top_count *= d;
    if (top_count > INT_MAX) break;  // already too many; stop before overflow
  }
  if (top_count != x.count()) {
    Fail("the new shape ", Blob::ShapeString(top_shape_), " holds ", top_count,
         " values, but the bottom of shape ", x.shape_string(), " holds ", x.count());
  }
  top[0]->Reshape(top_shape_);
  top[0]->ShareData(x);
  top[0]->ShareDiff(x);
}

}  // namespace crema

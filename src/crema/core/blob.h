// Blob: an N-dimensional float array with a gradient of the same shape.
//
// A Blob holds `data` (values) and `diff` (gradients), each in a SyncedMemory. Shapes are
// row-major (C-contiguous), Caffe's NCHW for images. Reshape never shrinks the allocation, so
// a net that reshapes to a smaller batch and back does not allocate inside its hot loop.
// Blobs share buffers by reference (ShareData/ShareDiff) for shared parameters and
// in-place layers. A Blob is not thread-safe.
#ifndef CREMA_CORE_BLOB_H_
#define CREMA_CORE_BLOB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crema/core/synced_memory.h"

namespace caffe {
class BlobProto;
class BlobShape;
}  // namespace caffe

namespace crema {

// Caffe's kMaxBlobAxes.
inline constexpr int kMaxBlobAxes = 32;

class Blob {
 public:
  Blob() = default;
  explicit Blob(const std::vector<int>& shape);
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;

  // Changes the shape; keeps the allocation when it is large enough. Contents are not
  // preserved in any meaningful layout after a shape change.
  // Throws InvalidArgument for negative dimensions, more than kMaxBlobAxes axes or an element
  // count that overflows int.
  void Reshape(const std::vector<int>& shape);
  void Reshape(const caffe::BlobShape& shape);
  void ReshapeLike(const Blob& other) { Reshape(other.shape()); }

  const std::vector<int>& shape() const { return shape_; }
  // Dimension of `axis`; negative axes count from the end (-1 = last).
  int shape(int axis) const { return shape_[CanonicalAxisIndex(axis)]; }
  int num_axes() const { return static_cast<int>(shape_.size()); }
  int count() const { return count_; }
  // Product of dimensions in [start_axis, end_axis).
  int count(int start_axis, int end_axis) const;
  int count(int start_axis) const { return count(start_axis, num_axes()); }
  // Maps axis in [-num_axes, num_axes) to [0, num_axes); throws InvalidArgument otherwise.
  int CanonicalAxisIndex(int axis) const;
  // "64 1 28 28 (50176)", the form Caffe logs shapes in.
  std::string shape_string() const;

  // Legacy 4-D accessors: axes beyond the blob's rank read as 1.
  int num() const { return LegacyShape(0); }
  int channels() const { return LegacyShape(1); }
  int height() const { return LegacyShape(2); }
  int width() const { return LegacyShape(3); }
  int LegacyShape(int index) const;

  // Row-major offset of an index tuple (missing trailing indices are 0).
  int offset(int n, int c = 0, int h = 0, int w = 0) const;

  const float* cpu_data() const;
  float* mutable_cpu_data();
  const float* cpu_diff() const;
  float* mutable_cpu_diff();

  // Makes the diff live in `memory` (for instance a slice of a gradient-communication
  // buffer); its current values are copied there when `keep_values`. Throws InvalidArgument
  // when `memory` is smaller than count() floats.
  void SetDiffMemory(std::shared_ptr<SyncedMemory> memory, bool keep_values = true);
  // Makes the values live in `memory` (a net's memory plan); the current values are not
  // kept. Throws InvalidArgument when `memory` is smaller than count() floats.
  void SetDataMemory(std::shared_ptr<SyncedMemory> memory);
  // The buffers of the values and of the diff (null before the first Reshape; a blob with
  // no elements has buffers of 0 bytes, so its data pointers are not null either). Blobs
  // sharing a buffer (ShareData, ShareDiff) return the same object.
  const std::shared_ptr<SyncedMemory>& data_memory() const { return data_; }
  const std::shared_ptr<SyncedMemory>& diff_memory() const { return diff_; }

  // Makes this blob use `other`'s data (diff) buffer. REQUIRES: equal counts.
  void ShareData(const Blob& other);
  void ShareDiff(const Blob& other);
  // True when this blob's data buffer is the same object as `other`'s.
  bool SharesDataWith(const Blob& other) const { return data_ && data_ == other.data_; }

  // data -= diff, the step every solver ends with.
  void Update();

  float asum_data() const;
  float asum_diff() const;
  float sumsq_data() const;
  float sumsq_diff() const;
  void scale_data(float factor);
  void scale_diff(float factor);

  // True when `proto`'s shape (legacy num/channels/height/width or `shape`) equals this
  // blob's shape; legacy 4-D dims are compared against the blob's trailing axes (Caffe's rule
  // for old InnerProduct weights stored as 1x1xMxN).
  bool ShapeEquals(const caffe::BlobProto& proto) const;
  // Copies values (and diff when present) from `proto`. With `reshape` the blob takes the
  // proto's shape; without it the shapes must agree (ShapeEquals) or InvalidArgument is thrown.
  // Throws Corruption when the number of values does not equal the shape's element count.
  void FromProto(const caffe::BlobProto& proto, bool reshape = true);
  // Writes `shape` plus packed `data` (and `diff` when asked), as Caffe does.
  void ToProto(caffe::BlobProto* proto, bool write_diff = false) const;

  // Shape of a BlobProto as Caffe reads it: legacy 4-D when any legacy field is set.
  static std::vector<int> ProtoShape(const caffe::BlobProto& proto);
  static std::string ShapeString(const std::vector<int>& shape);

 private:
  std::vector<int> shape_;
  int count_ = 0;
  size_t capacity_ = 0;
  std::shared_ptr<SyncedMemory> data_;
  std::shared_ptr<SyncedMemory> diff_;
};

}  // namespace crema

#endif  // CREMA_CORE_BLOB_H_

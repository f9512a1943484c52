#include "crema/core/blob.h"

#include <climits>
#include <cmath>
#include <cstring>
#include <sstream>

#include "crema/core/error.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

Blob::Blob(const std::vector<int>& shape) { Reshape(shape); }

void Blob::Reshape(const std::vector<int>& shape) {
  CREMA_REQUIRE(shape.size() <= static_cast<size_t>(kMaxBlobAxes), "a blob has at most ",
                kMaxBlobAxes, " axes, got ", shape.size());
  int64_t count = 1;
  for (int d : shape) {
    CREMA_REQUIRE(d >= 0, "blob dimensions must be non-negative, got shape ", ShapeString(shape));
    count *= d;
    CREMA_REQUIRE(count <= INT_MAX, "blob shape ", ShapeString(shape),
                  " has more than INT_MAX elements");
  }
  shape_ = shape;
  count_ = static_cast<int>(count);
  // An empty blob gets (empty) buffers too: its pointers are then never null, which memcpy
  // and memset require even for zero bytes.
  if (static_cast<size_t>(count_) > capacity_ || data_ == nullptr) {
    capacity_ = static_cast<size_t>(count_);
    data_ = std::make_shared<SyncedMemory>(capacity_ * sizeof(float));
    diff_ = std::make_shared<SyncedMemory>(capacity_ * sizeof(float));
  }
}

void Blob::Reshape(const caffe::BlobShape& shape) {
  CREMA_REQUIRE(shape.dim_size() <= kMaxBlobAxes, "a blob has at most ", kMaxBlobAxes,
                " axes, got ", shape.dim_size());
  std::vector<int> dims(shape.dim_size());
  for (int i = 0; i < shape.dim_size(); ++i) {
    CREMA_REQUIRE(shape.dim(i) >= 0 && shape.dim(i) <= INT_MAX, "blob dimension ", shape.dim(i),
                  " is out of range");
    dims[i] = static_cast<int>(shape.dim(i));
  }
  Reshape(dims);
}

int Blob::count(int start_axis, int end_axis) const {
  CREMA_DCHECK(start_axis >= 0 && start_axis <= end_axis && end_axis <= num_axes());
  int c = 1;
  for (int i = start_axis; i < end_axis; ++i) c *= shape_[i];
  return c;
}

int Blob::CanonicalAxisIndex(int axis) const {
  CREMA_REQUIRE(axis >= -num_axes() && axis < num_axes(), "axis ", axis,
                " is out of range for a blob of shape ", shape_string());
  return axis < 0 ? axis + num_axes() : axis;
}

int Blob::LegacyShape(int index) const {
  CREMA_DCHECK(num_axes() <= 4);
  if (index >= num_axes() || index < -num_axes()) return 1;
  return shape(index);
}

int Blob::offset(int n, int c, int h, int w) const {
  return ((n * channels() + c) * height() + h) * width() + w;
}

std::string Blob::ShapeString(const std::vector<int>& shape) {
  std::ostringstream os;
  int64_t count = 1;
  bool overflow = false;  // a shape read from a hostile file may hold more than 2^63 values
  for (int d : shape) {
    os << d << ' ';
    overflow = overflow || __builtin_mul_overflow(count, static_cast<int64_t>(d), &count);
  }
  if (overflow) {
    os << "(more than 2^63)";
  } else {
    os << '(' << count << ')';
  }
  return os.str();
}

std::string Blob::shape_string() const { return ShapeString(shape_); }

const float* Blob::cpu_data() const {
  return data_ ? static_cast<const float*>(data_->host_data()) : nullptr;
}
float* Blob::mutable_cpu_data() {
  return data_ ? static_cast<float*>(data_->mutable_host_data()) : nullptr;
}
const float* Blob::cpu_diff() const {
  return diff_ ? static_cast<const float*>(diff_->host_data()) : nullptr;
}
float* Blob::mutable_cpu_diff() {
  return diff_ ? static_cast<float*>(diff_->mutable_host_data()) : nullptr;
}

void Blob::ShareData(const Blob& other) {
  CREMA_REQUIRE(count_ == other.count_, "cannot share data between blobs of shapes ",
                shape_string(), " and ", other.shape_string());
  data_ = other.data_;
  capacity_ = std::min(capacity_, other.capacity_);
}

void Blob::SetDiffMemory(std::shared_ptr<SyncedMemory> memory, bool keep_values) {
  CREMA_REQUIRE(memory->size() >= sizeof(float) * static_cast<size_t>(count_),
                "diff memory of ", memory->size(), " bytes cannot hold a blob of shape ",
                shape_string());
  if (keep_values && count_ > 0) {
    std::memcpy(memory->mutable_host_data(), cpu_diff(), sizeof(float) * static_cast<size_t>(count_));
  }
  diff_ = std::move(memory);
  capacity_ = std::min(capacity_, diff_->size() / sizeof(float));
}

void Blob::SetDataMemory(std::shared_ptr<SyncedMemory> memory) {
  CREMA_REQUIRE(memory->size() >= sizeof(float) * static_cast<size_t>(count_),
                "data memory of ", memory->size(), " bytes cannot hold a blob of shape ",
                shape_string());
  data_ = std::move(memory);
  capacity_ = std::min(capacity_, data_->size() / sizeof(float));
}

void Blob::ShareDiff(const Blob& other) {
  CREMA_REQUIRE(count_ == other.count_, "cannot share diff between blobs of shapes ",
                shape_string(), " and ", other.shape_string());
  diff_ = other.diff_;
  capacity_ = std::min(capacity_, other.capacity_);
}

void Blob::Update() {
  float* data = mutable_cpu_data();
  const float* diff = cpu_diff();
  for (int i = 0; i < count_; ++i) data[i] -= diff[i];
}

namespace {
float Asum(const float* x, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += std::fabs(x[i]);
  return static_cast<float>(s);
}
float Sumsq(const float* x, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return static_cast<float>(s);
}
void Scale(float* x, int n, float a) {
  for (int i = 0; i < n; ++i) x[i] *= a;
}
}  // namespace

float Blob::asum_data() const { return count_ ? Asum(cpu_data(), count_) : 0.f; }
float Blob::asum_diff() const { return count_ ? Asum(cpu_diff(), count_) : 0.f; }
float Blob::sumsq_data() const { return count_ ? Sumsq(cpu_data(), count_) : 0.f; }
float Blob::sumsq_diff() const { return count_ ? Sumsq(cpu_diff(), count_) : 0.f; }
void Blob::scale_data(float factor) {
  if (count_) Scale(mutable_cpu_data(), count_, factor);
}
void Blob::scale_diff(float factor) {
  if (count_) Scale(mutable_cpu_diff(), count_, factor);
}

std::vector<int> Blob::ProtoShape(const caffe::BlobProto& proto) {
  if (proto.has_num() || proto.has_channels() || proto.has_height() || proto.has_width()) {
    return {proto.num(), proto.channels(), proto.height(), proto.width()};
  }
  std::vector<int> shape(proto.shape().dim_size());
  for (int i = 0; i < proto.shape().dim_size(); ++i) {
    const int64_t d = proto.shape().dim(i);
    if (d < 0 || d > INT_MAX) throw Corruption(StrCat("blob dimension ", d, " is out of range"));
    shape[i] = static_cast<int>(d);
  }
  return shape;
}

bool Blob::ShapeEquals(const caffe::BlobProto& proto) const {
  if (proto.has_num() || proto.has_channels() || proto.has_height() || proto.has_width()) {
    // Legacy 4-D dims match the trailing axes; leading legacy dims must then be 1.
    if (num_axes() > 4) return false;
    const int legacy[4] = {proto.num(), proto.channels(), proto.height(), proto.width()};
    for (int i = 0; i < 4; ++i) {
      const int axis_from_end = 4 - i;  // 4..1
      const int dim = axis_from_end <= num_axes() ? shape_[num_axes() - axis_from_end] : 1;
      if (dim != legacy[i]) return false;
    }
    return true;
  }
  if (proto.shape().dim_size() != num_axes()) return false;
  for (int i = 0; i < num_axes(); ++i) {
    if (proto.shape().dim(i) != shape_[i]) return false;
  }
  return true;
}

void Blob::FromProto(const caffe::BlobProto& proto, bool reshape) {
  if (reshape) {
    Reshape(ProtoShape(proto));
  } else if (!ShapeEquals(proto)) {
    throw InvalidArgument(StrCat("blob shape mismatch: expected ", shape_string(), ", got ",
                                 ShapeString(ProtoShape(proto))));
  }
  // The values must be there before memory is taken for them: a proto of a few bytes can
  // declare a shape of two billion values.
  const int stored = proto.double_data_size() > 0 ? proto.double_data_size() : proto.data_size();
  if (stored != count_) {
    throw Corruption(StrCat("blob of shape ", shape_string(), " holds ", stored,
                            " values instead of ", count_));
  }
  float* data = mutable_cpu_data();
  if (proto.double_data_size() > 0) {
    for (int i = 0; i < count_; ++i) data[i] = static_cast<float>(proto.double_data(i));
  } else {
    for (int i = 0; i < count_; ++i) data[i] = proto.data(i);
  }
  if (proto.double_diff_size() > 0 && proto.double_diff_size() == count_) {
    float* diff = mutable_cpu_diff();
    for (int i = 0; i < count_; ++i) diff[i] = static_cast<float>(proto.double_diff(i));
  } else if (proto.diff_size() > 0 && proto.diff_size() == count_) {
    float* diff = mutable_cpu_diff();
    for (int i = 0; i < count_; ++i) diff[i] = proto.diff(i);
  }
}

void Blob::ToProto(caffe::BlobProto* proto, bool write_diff) const {
  proto->Clear();
  for (int d : shape_) proto->mutable_shape()->add_dim(d);
  if (count_ > 0) {
    const float* data = cpu_data();
    proto->mutable_data()->Add(data, data + count_);
    if (write_diff) {
      const float* diff = cpu_diff();
      proto->mutable_diff()->Add(diff, diff + count_);
    }
  }
}

}  // namespace crema

#include "crema/core/filler.h"

#include <cmath>
#include <vector>

#include "crema/core/error.h"
#include "crema/core/rng.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

namespace {

float FanForVarianceNorm(const caffe::FillerParameter& param, const Blob& blob) {
  const int count = blob.count();
  const float fan_in = static_cast<float>(count) / static_cast<float>(blob.shape(0));
  // For 1-D blobs Caffe's count/shape(1) is undefined; use fan_in there.
  const float fan_out = blob.num_axes() > 1
                            ? static_cast<float>(count) / static_cast<float>(blob.shape(1))
                            : fan_in;
  switch (param.variance_norm()) {
    case caffe::FillerParameter::FAN_OUT: return fan_out;
    case caffe::FillerParameter::AVERAGE: return (fan_in + fan_out) / 2.f;
    default: return fan_in;
  }
}

}  // namespace

void FillBlob(const caffe::FillerParameter& param, Blob* blob, const std::string& owner) {
  const std::string& type = param.type();
  const std::string who = owner.empty() ? std::string("filler") : owner;
  const int count = blob->count();
  if (count == 0) return;
  float* data = blob->mutable_cpu_data();
  auto need_axes = [&](int n) {
    CREMA_REQUIRE(blob->num_axes() >= n, who, ": filler '", type, "' needs a blob with at least ",
                  n, " axes, got shape ", blob->shape_string());
  };
  if (type == "constant") {
    for (int i = 0; i < count; ++i) data[i] = param.value();
  } else if (type == "uniform") {
    CREMA_REQUIRE(param.min() <= param.max(), who, ": uniform filler needs min <= max, got min ",
                  param.min(), " and max ", param.max());
    RngUniform(count, param.min(), param.max(), data);
  } else if (type == "gaussian") {
    CREMA_REQUIRE(param.std() > 0, who, ": gaussian filler needs std > 0, got ", param.std());
    RngGaussian(count, param.mean(), param.std(), data);
    if (param.sparse() >= 0) {
      need_axes(1);
      const int num_outputs = blob->shape(0);
      const float keep = static_cast<float>(param.sparse()) / static_cast<float>(num_outputs);
      CREMA_REQUIRE(keep >= 0 && keep <= 1, who, ": gaussian filler's sparse = ", param.sparse(),
                    " exceeds the number of outputs ", num_outputs);
      std::vector<unsigned> mask(count);
      RngBernoulli(count, keep, mask.data());
      for (int i = 0; i < count; ++i) data[i] *= static_cast<float>(mask[i]);
    }
  } else if (type == "positive_unitball") {
    need_axes(1);
    RngUniform(count, 0.f, 1.f, data);
    const int rows = blob->shape(0);
    const int dim = count / rows;
    for (int r = 0; r < rows; ++r) {
      double sum = 0;
      for (int j = 0; j < dim; ++j) sum += data[r * dim + j];
      for (int j = 0; j < dim; ++j) data[r * dim + j] = static_cast<float>(data[r * dim + j] / sum);
    }
  } else if (type == "xavier") {
    need_axes(1);
    const float scale = std::sqrt(3.f / FanForVarianceNorm(param, *blob));
    RngUniform(count, -scale, scale, data);
  } else if (type == "msra") {
    need_axes(1);
    const float stddev = std::sqrt(2.f / FanForVarianceNorm(param, *blob));
    RngGaussian(count, 0.f, stddev, data);
  } else if (type == "bilinear") {
    CREMA_REQUIRE(blob->num_axes() == 4 && blob->shape(2) == blob->shape(3), who,
                  ": bilinear filler needs a 4-D blob with square kernels, got shape ",
                  blob->shape_string());
    const int k = blob->shape(3);
    const int f = (k + 1) / 2;
    const float c = static_cast<float>(2 * f - 1 - f % 2) / (2.f * static_cast<float>(f));
    for (int i = 0; i < count; ++i) {
      const float x = static_cast<float>(i % k);
      const float y = static_cast<float>((i / k) % k);
      data[i] = (1 - std::fabs(x / f - c)) * (1 - std::fabs(y / f - c));
    }
  } else {
    throw InvalidArgument(StrCat(who, ": unknown filler type '", type,
                                 "' (known: constant, uniform, gaussian, positive_unitball, "
                                 "xavier, msra, bilinear)"));
  }
}

}  // namespace crema

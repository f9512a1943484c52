#include "crema/data/transformer.h"

#include <cstring>

#include "crema/core/blob.h"
#include "crema/core/error.h"
#include "crema/data/datum.h"
#include "crema/io/proto_io.h"

namespace crema {

namespace {

// Successive draws from one key: a uniform integer in [0, n).
class KeyedDraws {
 public:
  explicit KeyedDraws(uint64_t key) : state_(key) {}
  int Uniform(int n) {
    state_ = SplitMix64(state_);
    return static_cast<int>((state_ >> 11) % static_cast<uint64_t>(n));
  }

 private:
  uint64_t state_;
};

}  // namespace

DataTransformer::DataTransformer(const caffe::TransformationParameter& param,
                                 caffe::Phase phase)
    : param_(param), phase_(phase) {
  if (param_.force_color() && param_.force_gray()) {
    throw InvalidArgument("transform_param sets both force_color and force_gray; use one");
  }
  if (param_.has_mean_file() && param_.mean_value_size() > 0) {
    throw InvalidArgument(StrCat("transform_param gives both mean_file '", param_.mean_file(),
                                 "' and mean_value; use one of them"));
  }
  if (param_.has_mean_file()) {
    caffe::BlobProto proto;
    ReadBinaryProto(param_.mean_file(), &proto);
    Blob mean;
    try {
      mean.FromProto(proto, /*reshape=*/true);
    } catch (const Error& e) {
      throw Corruption(StrCat("mean_file '", param_.mean_file(), "': ", e.what()));
    }
    // The mean is one image: (1,) C, H, W with any leading axes of size 1.
    std::vector<int> shape = mean.shape();
    while (shape.size() > 3 && shape.front() == 1) shape.erase(shape.begin());
    while (shape.size() < 3) shape.insert(shape.begin(), 1);
    if (shape.size() != 3 || mean.count() == 0) {
      throw Corruption(StrCat("mean_file '", param_.mean_file(), "' has shape ",
                              mean.shape_string(), "; expected one C×H×W image"));
    }
    mean_shape_ = shape;
    mean_image_.assign(mean.cpu_data(), mean.cpu_data() + mean.count());
  }
  mean_values_.assign(param_.mean_value().begin(), param_.mean_value().end());
}

std::vector<int> DataTransformer::InferBlobShape(const std::vector<int>& chw) const {
  CREMA_DCHECK(chw.size() == 3);
  int out_h = 0;
  int out_w = 0;
  CheckInputShape(chw[0], chw[1], chw[2], &out_h, &out_w);
  return {1, chw[0], out_h, out_w};
}

void DataTransformer::CheckInputShape(int channels, int height, int width, int* out_h,
                                      int* out_w) const {
  if (!mean_image_.empty() &&
      (mean_shape_[0] != channels || mean_shape_[1] != height || mean_shape_[2] != width)) {
    throw InvalidArgument(StrCat("mean_file '", param_.mean_file(), "' has shape ",
                                 Blob::ShapeString(mean_shape_), " but the data has shape ",
                                 Blob::ShapeString({channels, height, width})));
  }
  const int num_means = static_cast<int>(mean_values_.size());
  if (num_means > 1 && num_means != channels) {
    throw InvalidArgument(StrCat("transform_param has ", num_means,
                                 " mean_value entries for data with ", channels,
                                 " channels; give 1 or ", channels));
  }
  const int crop = static_cast<int>(param_.crop_size());
  if (crop > 0 && (crop > height || crop > width)) {
    throw InvalidArgument(StrCat("crop_size ", crop, " is larger than the ", height, "x", width,
                                 " image"));
  }
  *out_h = crop > 0 ? crop : height;
  *out_w = crop > 0 ? crop : width;
}

ColorMode DataTransformer::color_mode() const {
  if (param_.force_color()) return ColorMode::kColor;
  if (param_.force_gray()) return ColorMode::kGray;
  return ColorMode::kUnchanged;
}

void DataTransformer::Transform(const DatumPixels& pixels, uint64_t random_key,
                                float* out) const {
  if (pixels.floats != nullptr) {
    TransformPixels(pixels.floats, pixels.channels, pixels.height, pixels.width, random_key, out);
  } else {
    TransformPixels(pixels.bytes, pixels.channels, pixels.height, pixels.width, random_key, out);
  }
}

template <typename Pixel>
void DataTransformer::TransformPixels(const Pixel* pixels, int channels, int height, int width,
                                      uint64_t random_key, float* out) const {
  // Cheap enough to run per datum, and it keeps a bad record from reading out of bounds.
  int out_h = 0;
  int out_w = 0;
  CheckInputShape(channels, height, width, &out_h, &out_w);
  const float scale = param_.scale();
  // The choices of Note [Keyed randomness]: flip first, then the crop offsets.
  KeyedDraws draws(random_key);
  const bool mirror = param_.mirror() && draws.Uniform(2) == 1;
  int h_off = 0;
  int w_off = 0;
  if (param_.crop_size() > 0) {
    if (phase_ == caffe::TRAIN) {
      h_off = draws.Uniform(height - out_h + 1);
      w_off = draws.Uniform(width - out_w + 1);
    } else {
      h_off = (height - out_h) / 2;
      w_off = (width - out_w) / 2;
    }
  }
  const float* mean_image = mean_image_.empty() ? nullptr : mean_image_.data();
  for (int c = 0; c < channels; ++c) {
    const float mean_value = mean_values_.empty()    ? 0.f
                             : mean_values_.size() == 1 ? mean_values_[0]
                                                        : mean_values_[c];
    for (int h = 0; h < out_h; ++h) {
      const int src_row = (c * height + h_off + h) * width + w_off;
      float* dst_row = out + (c * out_h + h) * out_w;
      const Pixel* src = pixels + src_row;
      // Mirroring writes column w of the source window to column out_w − 1 − w.
      if (mean_image != nullptr) {
        const float* mean = mean_image + src_row;
        if (mirror) {
          for (int w = 0; w < out_w; ++w) {
            dst_row[out_w - 1 - w] = (static_cast<float>(src[w]) - mean[w]) * scale;
          }
        } else {
          for (int w = 0; w < out_w; ++w) {
            dst_row[w] = (static_cast<float>(src[w]) - mean[w]) * scale;
          }
        }
      } else if (mirror) {
        for (int w = 0; w < out_w; ++w) {
          dst_row[out_w - 1 - w] = (static_cast<float>(src[w]) - mean_value) * scale;
        }
      } else {
        for (int w = 0; w < out_w; ++w) {
          dst_row[w] = (static_cast<float>(src[w]) - mean_value) * scale;
        }
      }
    }
  }
}

}  // namespace crema

// DataTransformer: turns a Datum into the floats a data layer emits, as Caffe's
// transform_param describes (docs/CAFFE_COMPAT.md §4.4).
//
// For every output element, with the source pixel p at channel c and (cropped, possibly
// mirrored) position (h, w):
//
//   out[c][h][w] = (p[c][h_off + h][w_off + w'] − mean) · scale
//   w'   = w, or crop_w − 1 − w when the image is mirrored
//   mean = mean_file image at the same source position [c][h_off + h][w_off + w'],
//          or mean_value[c] (a single mean_value applies to every channel), or 0
//
// Mean subtraction comes before scaling. Options (TransformationParameter):
//   scale       [1]      multiplier applied after the mean is removed
//   mean_file   [none]   a mean.binaryproto (BlobProto, legacy num=1/channels/height/width)
//                        whose C×H×W must equal the image's (uncropped) C×H×W
//   mean_value  [none]   1 value or one per channel; cannot be combined with mean_file
//   crop_size   [0]      square crop_size×crop_size window: random offset (uniform over every
//                        position that fits) in TRAIN, centred ((H−crop)/2, (W−crop)/2) in TEST
//   mirror      [false]  horizontal flip with probability 1/2, in TRAIN and in TEST alike
//   force_color, force_gray: decode encoded images to 3 (BGR) or 1 channel instead of their
//                        own count (color_mode()); not both.
// Output shape: (1, C, crop_size or H, crop_size or W).
//
// Note [Keyed randomness]: the random choices for an image (flip, crop offset) are a pure
// function of the `random_key` the caller passes — data layers use (seed, item number) — so
// an image is transformed the same way whichever thread transforms it, and a run resumed at
// item n makes the choices an uninterrupted run would have made, without replaying draws.
//
// Thread-safety: a transformer is immutable after construction; share it between threads.
#ifndef CREMA_DATA_TRANSFORMER_H_
#define CREMA_DATA_TRANSFORMER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crema/core/rng.h"
#include "crema/data/datum.h"
#include "crema/data/image_codec.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

class DataTransformer {
 public:
  // Reads the mean file, if any.
  // Throws InvalidArgument when both mean_file and mean_value, or both force_color and
  // force_gray, are given; IOError naming the mean file when it cannot be read; Corruption
  // naming it when it is not a BlobProto or its value count does not match its shape.
  DataTransformer(const caffe::TransformationParameter& param, caffe::Phase phase);

  // The output shape (1, C, H', W') for a C×H×W input.
  // Throws InvalidArgument when crop_size exceeds the height or width, when the mean file's
  // C×H×W differs from the input's (naming the file and both shapes), or when the number of
  // mean values is neither 1 nor C.
  std::vector<int> InferBlobShape(const std::vector<int>& chw) const;

  // Writes the transformed image to out[0 .. C·H'·W'). Throws what InferBlobShape throws.
  // REQUIRES: `out` has room for C·H'·W' floats; exactly one of pixels.bytes/floats is set.
  void Transform(const DatumPixels& pixels, uint64_t random_key, float* out) const;

  // How encoded images are to be decoded (force_color / force_gray / as stored).
  ColorMode color_mode() const;

  const caffe::TransformationParameter& param() const { return param_; }

 private:
  // Throws what InferBlobShape documents; sets the output height and width.
  void CheckInputShape(int channels, int height, int width, int* out_h, int* out_w) const;
  template <typename Pixel>
  void TransformPixels(const Pixel* pixels, int channels, int height, int width,
                       uint64_t random_key, float* out) const;

  caffe::TransformationParameter param_;
  caffe::Phase phase_;
  // Mean image C×H×W (empty without mean_file) and its shape.
  std::vector<float> mean_image_;
  std::vector<int> mean_shape_;
  // mean_value as given (empty without).
  std::vector<float> mean_values_;
};

}  // namespace crema

#endif  // CREMA_DATA_TRANSFORMER_H_

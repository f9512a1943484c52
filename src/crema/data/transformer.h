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
//                        whose C×H×W must equal the datum's (uncropped) C×H×W
//   mean_value  [none]   1 value or one per channel; cannot be combined with mean_file
//   crop_size   [0]      square crop_size×crop_size window: random offset (uniform over every
//                        position that fits) in TRAIN, centred ((H−crop)/2, (W−crop)/2) in TEST
//   mirror      [false]  horizontal flip with probability 1/2, in TRAIN and in TEST alike
//   force_color, force_gray: only affect encoded images, which are not supported yet.
// Output shape: (1, C, crop_size or H, crop_size or W).
//
// Randomness comes from the transformer's own std::mt19937, seeded by the caller, so a
// fixed seed reproduces the same crops and flips whatever other threads do.
//
// Thread-safety: Transform mutates the generator; use one transformer per thread.
#ifndef CREMA_DATA_TRANSFORMER_H_
#define CREMA_DATA_TRANSFORMER_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "crema/proto/caffe.pb.h"

namespace crema {

class DataTransformer {
 public:
  // Reads the mean file, if any.
  // Throws InvalidArgument when both mean_file and mean_value are given; IOError naming the
  // mean file when it cannot be read; Corruption naming it when it is not a BlobProto or its
  // value count does not match its shape.
  DataTransformer(const caffe::TransformationParameter& param, caffe::Phase phase,
                  uint64_t seed);

  // The output shape (1, C, H', W') for a datum (or a C×H×W input shape).
  // Throws InvalidArgument when crop_size exceeds the height or width, when the mean file's
  // C×H×W differs from the datum's (naming the file and both shapes), or when the number of
  // mean values is neither 1 nor C.
  // REQUIRES: the datum passed ValidateDatum (data/datum.h).
  std::vector<int> InferBlobShape(const caffe::Datum& datum) const;
  std::vector<int> InferBlobShape(const std::vector<int>& chw) const;

  // Writes the transformed datum to out[0 .. C·H'·W'), raw uint8 `data` or `float_data`.
  // Throws what InferBlobShape throws for a datum it would refuse.
  // REQUIRES: the datum passed ValidateDatum; `out` has room for C·H'·W' floats.
  void Transform(const caffe::Datum& datum, float* out);

  // Makes the random draws n calls of Transform would make for datums of shape C×H×W,
  // without producing output, so a run that skips records (a resumed run) continues with the
  // crops and flips an uninterrupted run would have used. Throws what InferBlobShape throws.
  // REQUIRES: n >= 0; chw has 3 entries.
  void SkipTransforms(int64_t n, const std::vector<int>& chw);

  const caffe::TransformationParameter& param() const { return param_; }

 private:
  // Throws what InferBlobShape documents; sets the output height and width.
  void CheckInputShape(int channels, int height, int width, int* out_h, int* out_w) const;
  // Draws the random choices of one Transform: flip, then crop offsets (TRAIN) or the centre
  // (TEST).
  void DrawChoices(int height, int width, int out_h, int out_w, bool* mirror, int* h_off,
                   int* w_off);
  // A uniformly distributed integer in [0, n).
  int Rand(int n);
  // Shared body of Transform for both pixel types.
  template <typename Pixel>
  void TransformPixels(const Pixel* pixels, int channels, int height, int width, float* out);

  caffe::TransformationParameter param_;
  caffe::Phase phase_;
  std::mt19937 rng_;
  // Mean image C×H×W (empty without mean_file) and its shape.
  std::vector<float> mean_image_;
  std::vector<int> mean_shape_;
  // mean_value as given (empty without).
  std::vector<float> mean_values_;
};

}  // namespace crema

#endif  // CREMA_DATA_TRANSFORMER_H_

// Small pieces shared by the loss layers: resolving loss_param's normalisation mode, the
// divisor it implies, and reading a class label stored as float.
//
// Header-only and stateless; every function is thread-safe.
#ifndef CREMA_LAYERS_LOSS_HELPERS_H_
#define CREMA_LAYERS_LOSS_HELPERS_H_

#include <algorithm>
#include <climits>

#include "crema/proto/caffe.pb.h"

namespace crema {

// The normalisation mode a loss layer uses: loss_param.normalization when set; otherwise the
// deprecated loss_param.normalize when set (true → VALID, false → BATCH_SIZE); otherwise
// `unset_default` (VALID for most layers, BATCH_SIZE for SigmoidCrossEntropyLoss).
inline caffe::LossParameter::NormalizationMode ResolveLossNormalization(
    const caffe::LossParameter& loss, caffe::LossParameter::NormalizationMode unset_default) {
  if (loss.has_normalization()) return loss.normalization();
  if (loss.has_normalize()) {
    return loss.normalize() ? caffe::LossParameter::VALID : caffe::LossParameter::BATCH_SIZE;
  }
  return unset_default;
}

// The divisor D = max(1, d) of a summed loss over `outer` × `inner` terms of which
// `valid_count` were not ignored: d = outer·inner (FULL), valid_count (VALID), outer
// (BATCH_SIZE) or 1 (NONE). The floor at 1 keeps a batch whose labels are all ignored at a
// loss of 0 instead of NaN.
inline float LossNormalizer(caffe::LossParameter::NormalizationMode mode, int outer, int inner,
                            int valid_count) {
  float d = 1.f;
  switch (mode) {
    case caffe::LossParameter::FULL: d = static_cast<float>(outer) * static_cast<float>(inner); break;
    case caffe::LossParameter::VALID: d = static_cast<float>(valid_count); break;
    case caffe::LossParameter::BATCH_SIZE: d = static_cast<float>(outer); break;
    case caffe::LossParameter::NONE: d = 1.f; break;
  }
  return std::max(1.f, d);
}

// A label stored as float, truncated toward zero as Caffe reads labels. Values that cannot be
// an int (NaN, ±inf, beyond ±2^31) map to INT_MIN, which every range check rejects and no
// ignore_label a prototxt can spell equals in practice.
inline int LossLabelValue(float v) {
  return (v > -2147483648.f && v < 2147483648.f) ? static_cast<int>(v) : INT_MIN;
}

}  // namespace crema

#endif  // CREMA_LAYERS_LOSS_HELPERS_H_

// Fillers: initial values for parameter blobs, chosen by FillerParameter.type.
//
//   constant           value
//   uniform            U(min, max)
//   gaussian           N(mean, std); with sparse = s > 0 each weight is kept with
//                      probability s / shape[0] and zeroed otherwise
//   positive_unitball  U(0, 1), then each of the shape[0] rows scaled to sum to 1
//   xavier             U(-a, a), a = sqrt(3 / n)
//   msra               N(0, sqrt(2 / n))
//   bilinear           bilinear-upsampling kernels for 4-D square filters (Deconvolution)
//
// n is fan_in = count / shape[0] (FAN_IN, the default), fan_out = count / shape[1] (FAN_OUT)
// or their mean (AVERAGE). Random draws use the calling thread's generator (core/rng.h).
#ifndef CREMA_CORE_FILLER_H_
#define CREMA_CORE_FILLER_H_

#include "crema/core/blob.h"

namespace caffe {
class FillerParameter;
}  // namespace caffe

namespace crema {

// Fills `blob`'s data. Throws InvalidArgument for an unknown type or parameters the type
// cannot use (e.g. bilinear on a non-square or non-4-D blob, sparse on a blob without axes),
// naming `owner` (e.g. "Layer 'conv1' (Convolution) weight_filler") in the message.
void FillBlob(const caffe::FillerParameter& param, Blob* blob, const std::string& owner = "");

}  // namespace crema

#endif  // CREMA_CORE_FILLER_H_

// The mean image of a dataset, as Caffe's compute_image_mean computes it (the
// mean.binaryproto a transform_param's mean_file names; docs/CAFFE_COMPAT.md §4.5).
//
// Every pixel position is averaged over all records: raw bytes, float_data values, or
// encoded images decoded with their own channel count (ColorMode::kUnchanged). Sums are
// kept in double precision (Caffe sums in float, which is exact up to 65,793 8-bit images
// and drifts beyond; for datasets below that size the two means are the same floats).
//
// The result is a BlobProto with the legacy 4-D fields num = 1, channels, height, width and
// `data` (C×H×W floats), and no `shape` — the layout Caffe writes and every reader accepts.
//
// Thread-safety: uses only its arguments; the source is used from the calling thread.
#ifndef CREMA_DATA_IMAGE_MEAN_H_
#define CREMA_DATA_IMAGE_MEAN_H_

#include <cstdint>
#include <vector>

#include "crema/data/record_source.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

struct ImageMean {
  caffe::BlobProto blob;               // num 1, channels, height, width, data
  int64_t count = 0;                   // records averaged
  std::vector<double> channel_means;   // mean of each channel plane of the mean image
};

// Averages the source's size() records, starting from its first one (the source is left at
// its first record again).
// Throws InvalidArgument naming the source when it holds no records, and naming the record's
// key, its size and the first record's size when a record's C×H×W differs from the first;
// Corruption naming the key for a record that is not a valid Datum or an encoded image that
// does not decode; what the source throws.
ImageMean ComputeImageMean(RecordSource* source);

}  // namespace crema

#endif  // CREMA_DATA_IMAGE_MEAN_H_

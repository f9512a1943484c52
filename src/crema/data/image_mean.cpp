#include "crema/data/image_mean.h"

#include <string>

#include "crema/core/error.h"
#include "crema/data/datum.h"
#include "crema/data/image_codec.h"
#include "crema/data/progress.h"

namespace crema {

namespace {

std::string SizeString(const DatumPixels& p) {
  return StrCat(p.channels, "x", p.height, "x", p.width);
}

}  // namespace

ImageMean ComputeImageMean(RecordSource* source) {
  const int64_t count = source->size();
  if (count == 0) {
    throw InvalidArgument(StrCat(source->Describe(), " holds no records; there is no mean to ",
                                 "compute"));
  }
  source->SeekToFirst();
  Progress progress("mean", count, "images");
  caffe::Datum datum;
  Image scratch;
  std::vector<double> sum;
  DatumPixels first;
  std::string first_key;
  for (int64_t n = 0; n < count; ++n) {
    const std::string_view key = source->key();
    DatumPixels pixels;
    try {
      ParseDatum(source->value(), key, &datum);
      ValidateDatum(datum, key);
      pixels = DatumImage(datum, key, ColorMode::kUnchanged, &scratch);
    } catch (const Error& e) {
      throw Error(e.code(), StrCat(source->Describe(), ": ", e.what()));
    }
    if (n == 0) {
      first = pixels;
      first_key = key;
      sum.assign(static_cast<size_t>(pixels.channels) * pixels.height * pixels.width, 0.0);
    } else if (pixels.channels != first.channels || pixels.height != first.height ||
               pixels.width != first.width) {
      throw InvalidArgument(StrCat("record '", key, "' of ", source->Describe(), " is ",
                                   SizeString(pixels), " but the first record ('", first_key,
                                   "') is ", SizeString(first),
                                   "; a mean needs images of one size"));
    }
    const size_t size = sum.size();
    if (pixels.bytes != nullptr) {
      for (size_t i = 0; i < size; ++i) sum[i] += pixels.bytes[i];
    } else {
      for (size_t i = 0; i < size; ++i) sum[i] += pixels.floats[i];
    }
    progress.Update(n + 1);
    source->Next();  // wraps to the first record after the last
  }
  progress.Done();

  ImageMean mean;
  mean.count = count;
  caffe::BlobProto& blob = mean.blob;
  blob.set_num(1);
  blob.set_channels(first.channels);
  blob.set_height(first.height);
  blob.set_width(first.width);
  blob.mutable_data()->Reserve(static_cast<int>(sum.size()));
  for (double s : sum) blob.add_data(static_cast<float>(s / static_cast<double>(count)));
  const size_t plane = static_cast<size_t>(first.height) * first.width;
  for (int c = 0; c < first.channels; ++c) {
    double channel = 0;
    for (size_t i = 0; i < plane; ++i) channel += blob.data(static_cast<int>(c * plane + i));
    mean.channel_means.push_back(channel / static_cast<double>(plane));
  }
  return mean;
}

}  // namespace crema

// Fuzzes Datum records as the Data layer reads them from an LMDB: ParseDatum, ValidateDatum,
// DatumImage (raw bytes, float_data, or an encoded image decoded by OpenCV) and the
// DataTransformer writing the layer's floats.
//
// Input: two option bytes, then the record's bytes.
//   byte 0, bit 0: TRAIN (random crop) rather than TEST (centred crop); bit 1: mirror;
//           bit 2: force_color; bit 3: force_gray; bits 4-5: no mean, one mean_value, three
//           mean_values, four mean_values; bit 6: scale 1/256
//   byte 1: crop_size
// scripts/fuzz caps what OpenCV may decode (OPENCV_IO_MAX_IMAGE_PIXELS): an image header can
// declare up to a gigapixel in a few bytes, and OpenCV allocates it before reading pixels.
#include <cstdint>
#include <string_view>
#include <vector>

#include "common.h"
#include "crema/core/error.h"
#include "crema/data/datum.h"
#include "crema/data/transformer.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  crema::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t options = data[0];
  caffe::TransformationParameter param;
  param.set_mirror((options & 2) != 0);
  param.set_force_color((options & 4) != 0);
  param.set_force_gray((options & 8) != 0);
  const int means[] = {0, 1, 3, 4};
  for (int i = 0; i < means[(options >> 4) & 3]; ++i) param.add_mean_value(100.f + i);
  if ((options & 64) != 0) param.set_scale(1.f / 256);
  param.set_crop_size(data[1]);
  const caffe::Phase phase = (options & 1) != 0 ? caffe::TRAIN : caffe::TEST;
  const std::string_view record(reinterpret_cast<const char*>(data + 2), size - 2);
  try {
    const crema::DataTransformer transformer(param, phase);
    caffe::Datum datum;
    crema::ParseDatum(record, "fuzz", &datum);
    crema::ValidateDatum(datum, "fuzz");
    crema::Image scratch;
    const crema::DatumPixels pixels =
        crema::DatumImage(datum, "fuzz", transformer.color_mode(), &scratch);
    const std::vector<int> shape = transformer.InferBlobShape(pixels.shape());
    size_t count = 1;
    for (int d : shape) count *= static_cast<size_t>(d);
    std::vector<float> out(count);
    transformer.Transform(pixels, crema::RandomKey(1, 2), out.data());
  } catch (const crema::Error&) {
  }
  return 0;
}

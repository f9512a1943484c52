// Fuzzes mean.binaryproto files as a transform_param's mean_file reads them: the
// DataTransformer reads the BlobProto (legacy num/channels/height/width or `shape`) and
// checks it is one C×H×W image; when it is, an image of that shape is transformed with it,
// cropped and mirrored.
#include <cstdint>
#include <vector>

#include "common.h"
#include "crema/core/blob.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/data/transformer.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  crema::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = crema::fuzz::WriteScratchFile("mean.binaryproto", data, size);
  caffe::TransformationParameter param;
  param.set_mean_file(path);
  param.set_mirror(true);
  try {
    const crema::DataTransformer transformer(param, caffe::TRAIN);
    // The mean was accepted: it holds one C×H×W image (its values are in the file, so C·H·W
    // is bounded by the input's size). Transform an image of that shape.
    std::vector<int> chw = {1, 1, 1};
    caffe::BlobProto proto;
    crema::ReadBinaryProto(path, &proto);
    std::vector<int> shape = crema::Blob::ProtoShape(proto);
    while (shape.size() > 3 && shape.front() == 1) shape.erase(shape.begin());
    while (shape.size() < 3) shape.insert(shape.begin(), 1);
    if (shape.size() == 3) chw = shape;
    const size_t pixels = static_cast<size_t>(chw[0]) * chw[1] * chw[2];
    std::vector<uint8_t> image(pixels, 7);
    crema::DatumPixels input;
    input.bytes = image.data();
    input.channels = chw[0];
    input.height = chw[1];
    input.width = chw[2];
    for (int crop : {0, 1}) {
      caffe::TransformationParameter cropped = param;
      cropped.set_crop_size(static_cast<uint32_t>(crop));
      const crema::DataTransformer t(cropped, caffe::TRAIN);
      std::vector<int> out_shape = t.InferBlobShape(chw);
      std::vector<float> out(static_cast<size_t>(out_shape[1]) * out_shape[2] * out_shape[3]);
      t.Transform(input, crema::RandomKey(3, 4), out.data());
    }
  } catch (const crema::Error&) {
  }
  return 0;
}

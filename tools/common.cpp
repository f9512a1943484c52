#include <glog/logging.h>

#include <filesystem>
#include <sstream>

#include "commands.h"
#include "crema/core/blob.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/net/net_file.h"

namespace crema::tools {

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::vector<std::string> StagesFromFlag() { return SplitList(FLAGS_stage); }

void RequireCpuOnly() {
  if (!FLAGS_gpu.empty()) {
    throw Unsupported(StrCat("-gpu ", FLAGS_gpu,
                             ": this build of crema computes on CPU only; omit -gpu"));
  }
}

caffe::NetParameter ReadNetForPhase(const std::string& path, caffe::Phase phase) {
  caffe::NetParameter param = ReadNetFile(path);
  param.mutable_state()->set_phase(phase);
  param.mutable_state()->set_level(FLAGS_level);
  for (const std::string& stage : StagesFromFlag()) param.mutable_state()->add_stage(stage);
  return param;
}

}  // namespace crema::tools

namespace crema::tools {

namespace {

// The shape a data layer's first top would have, from its parameters alone; empty when they
// do not say (the dataset itself would).
std::vector<int> DeclaredDataShape(const caffe::LayerParameter& layer, int batch_size) {
  const caffe::TransformationParameter& transform = layer.transform_param();
  int channels = 0, height = 0, width = 0;
  if (transform.force_gray()) channels = 1;
  if (transform.force_color() || transform.mean_value_size() == 3) channels = 3;
  if (layer.type() == "ImageData") {
    const auto& image = layer.image_data_param();
    if (channels == 0) channels = image.is_color() ? 3 : 1;
    height = static_cast<int>(image.new_height());
    width = static_cast<int>(image.new_width());
  }
  if (!transform.mean_file().empty() && std::filesystem::exists(transform.mean_file())) {
    caffe::BlobProto mean;
    ReadBinaryProto(transform.mean_file(), &mean);
    const auto dim = [&](int legacy, int axis_from_end) {
      const int axes = mean.shape().dim_size();
      return axes >= axis_from_end ? static_cast<int>(mean.shape().dim(axes - axis_from_end))
                                   : legacy;
    };
    channels = dim(mean.channels(), 3);
    height = dim(mean.height(), 2);
    width = dim(mean.width(), 1);
  }
  if (transform.crop_size() > 0) height = width = static_cast<int>(transform.crop_size());
  if (channels == 0 && height > 0) channels = 3;  // a crop without a mean: colour images
  if (channels == 0 || height == 0 || width == 0) return {};
  return {batch_size, channels, height, width};
}

}  // namespace

void ReplaceMissingDataWithInputs(caffe::NetParameter* param) {
  namespace fs = std::filesystem;
  for (caffe::LayerParameter& layer : *param->mutable_layer()) {
    std::string source;
    int batch_size = 0;
    if (layer.type() == "Data") {
      source = layer.data_param().source();
      batch_size = static_cast<int>(layer.data_param().batch_size());
    } else if (layer.type() == "ImageData") {
      source = layer.image_data_param().source();
      batch_size = static_cast<int>(layer.image_data_param().batch_size());
    } else if (layer.type() == "HDF5Data") {
      source = layer.hdf5_data_param().source();
      batch_size = static_cast<int>(layer.hdf5_data_param().batch_size());
    } else {
      continue;
    }
    if (source.empty() || fs::exists(source)) continue;
    const std::vector<int> shape = DeclaredDataShape(layer, batch_size);
    if (shape.empty()) {
      throw NotFound(StrCat("layer '", layer.name(), "' (", layer.type(), "): source '", source,
                            "' not found, and its parameters do not give the input shape "
                            "(crop_size, new_height/new_width or a mean_file); create the "
                            "dataset first"));
    }
    LOG(INFO) << "Layer '" << layer.name() << "' (" << layer.type() << "): source '" << source
              << "' not found; using zero-filled input " << Blob::ShapeString(shape);
    caffe::LayerParameter input;
    input.set_name(layer.name());
    input.set_type("Input");
    *input.mutable_top() = layer.top();
    *input.mutable_include() = layer.include();
    *input.mutable_exclude() = layer.exclude();
    caffe::BlobShape* data_shape = input.mutable_input_param()->add_shape();
    for (int d : shape) data_shape->add_dim(d);
    // Labels: one per item, class 0.
    if (layer.top_size() > 1) input.mutable_input_param()->add_shape()->add_dim(shape[0]);
    layer = input;
  }
}

}  // namespace crema::tools

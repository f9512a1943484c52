// Writes the binary seed files of fuzz/corpus/ (run by hand when a reader's format changes;
// the text seeds are copies of the repository's examples or written by hand):
//
//   build-asan/fuzz/crema_fuzz_make_seeds fuzz/corpus
//
// It uses Crema's own writers, so every seed is a valid file of its kind.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/data/datum.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/data/image_codec.h"
#include "crema/io/proto_io.h"
#include "crema/net/net.h"
#include "crema/net/net_hdf5.h"
#include "crema/solver/solver.h"
#include "crema/solver/solver_state_io.h"
#include "small_net.h"

namespace {

namespace fs = std::filesystem;

void WriteBytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out.flush()) throw crema::IOError("cannot write " + path.string());
  std::printf("%s (%zu bytes)\n", path.c_str(), bytes.size());
}

// fuzz_datum's input: two option bytes, then the record.
void WriteDatum(const fs::path& path, uint8_t options, uint8_t crop, const caffe::Datum& datum) {
  std::string bytes;
  bytes.push_back(static_cast<char>(options));
  bytes.push_back(static_cast<char>(crop));
  bytes += datum.SerializeAsString();
  WriteBytes(path, bytes);
}

crema::Image Gradient(int channels, int height, int width) {
  crema::Image image;
  image.channels = channels;
  image.height = height;
  image.width = width;
  for (int i = 0; i < channels * height * width; ++i) {
    image.pixels.push_back(static_cast<uint8_t>(i * 37 % 251));
  }
  return image;
}

void Datums(const fs::path& dir) {
  caffe::Datum raw;
  raw.set_channels(3);
  raw.set_height(4);
  raw.set_width(5);
  const crema::Image pixels = Gradient(3, 4, 5);
  raw.set_data(std::string(pixels.pixels.begin(), pixels.pixels.end()));
  raw.set_label(2);
  WriteDatum(dir / "raw_3x4x5_train_mirror_crop3", 0x03, 3, raw);
  WriteDatum(dir / "raw_3x4x5_test_means3", 0x20, 0, raw);

  caffe::Datum floats;
  floats.set_channels(1);
  floats.set_height(3);
  floats.set_width(3);
  for (int i = 0; i < 9; ++i) floats.add_float_data(0.25f * i - 1);
  WriteDatum(dir / "float_1x3x3_mean1", 0x10, 0, floats);

  const struct {
    const char* name;
    const char* extension;
    int channels;
    int height;
    int width;
    uint8_t options;
    uint8_t crop;
  } encoded[] = {
      {"png_color_6x5_gray", "png", 3, 6, 5, 0x08, 0},
      {"png_gray_4x4_color", "png", 1, 4, 4, 0x04, 2},
      {"jpg_color_8x8_crop4_means3", "jpg", 3, 8, 8, 0x21, 4},
      {"bmp_color_3x3_scale", "bmp", 3, 3, 3, 0x40, 0},
  };
  for (const auto& e : encoded) {
    caffe::Datum datum;
    datum.set_encoded(true);
    datum.set_data(crema::EncodeImage(Gradient(e.channels, e.height, e.width), e.extension));
    datum.set_label(1);
    WriteDatum(dir / e.name, e.options, e.crop, datum);
  }
}

void Means(const fs::path& dir) {
  caffe::BlobProto legacy;
  legacy.set_num(1);
  legacy.set_channels(3);
  legacy.set_height(4);
  legacy.set_width(5);
  for (int i = 0; i < 60; ++i) legacy.add_data(static_cast<float>(i));
  WriteBytes(dir / "legacy_1x3x4x5.binaryproto", legacy.SerializeAsString());

  caffe::BlobProto shaped;
  for (int d : {3, 2, 2}) shaped.mutable_shape()->add_dim(d);
  for (int i = 0; i < 12; ++i) shaped.add_data(100.f + i);
  WriteBytes(dir / "shape_3x2x2.binaryproto", shaped.SerializeAsString());

  caffe::BlobProto doubles;
  for (int d : {1, 1, 2, 2}) doubles.mutable_shape()->add_dim(d);
  for (int i = 0; i < 4; ++i) doubles.add_double_data(0.5 * i);
  WriteBytes(dir / "double_1x1x2x2.binaryproto", doubles.SerializeAsString());
}

std::string ReadAll(const fs::path& path) { return crema::ReadFileToString(path.string()); }

void ModelsAndStates(const fs::path& models, const fs::path& states, const fs::path& scratch) {
  caffe::NetParameter net_param;
  crema::ParseTextProto(crema::fuzz::kSmallNet, "small_net.h", &net_param);
  const crema::Net net(net_param);
  caffe::NetParameter weights;
  net.ToProto(&weights);
  WriteBytes(models / "small.caffemodel", weights.SerializeAsString());

  // The same weights as a V1 net (`layers`, enum types, legacy 4-D blob dims).
  caffe::NetParameter v1;
  v1.set_name(weights.name());
  for (const caffe::LayerParameter& layer : weights.layer()) {
    if (layer.blobs_size() == 0) continue;
    caffe::V1LayerParameter* out = v1.add_layers();
    out->set_name(layer.name());
    const std::string& type = layer.type();
    out->set_type(type == "Convolution"    ? caffe::V1LayerParameter::CONVOLUTION
                  : type == "InnerProduct" ? caffe::V1LayerParameter::INNER_PRODUCT
                                           : caffe::V1LayerParameter::NONE);
    if (out->type() == caffe::V1LayerParameter::NONE) {
      v1.mutable_layers()->RemoveLast();
      continue;
    }
    for (const caffe::BlobProto& blob : layer.blobs()) {
      caffe::BlobProto* legacy = out->add_blobs();
      std::vector<int> dims(blob.shape().dim().begin(), blob.shape().dim().end());
      while (dims.size() < 4) dims.insert(dims.begin(), 1);
      legacy->set_num(dims[0]);
      legacy->set_channels(dims[1]);
      legacy->set_height(dims[2]);
      legacy->set_width(dims[3]);
      *legacy->mutable_data() = blob.data();
    }
  }
  WriteBytes(models / "small_v1_legacy_dims.caffemodel", v1.SerializeAsString());

  const std::string h5 = (scratch / "small.caffemodel.h5").string();
  crema::WriteNetToHdf5(net, h5);
  WriteBytes(models / "small.caffemodel.h5", ReadAll(h5));

  for (const char* type : {"SGD", "Adam"}) {
    caffe::SolverParameter param;
    *param.mutable_net_param() = net_param;
    param.set_type(type);
    param.set_base_lr(0.01f);
    param.set_momentum(0.9f);
    param.set_lr_policy("fixed");
    param.set_max_iter(1);
    param.set_snapshot_prefix((scratch / type).string());
    const std::unique_ptr<crema::Solver> solver = crema::CreateSolver(param);
    solver->Step(1);
    const std::string model = solver->Snapshot();
    caffe::SolverState state =
        crema::ReadSolverState((scratch / (std::string(type) + "_iter_1.solverstate")).string());
    // fuzz_solverstate follows plain names only; it keeps this one beside the state.
    state.set_learned_net("model.caffemodel");
    const std::string lower = type == std::string("SGD") ? "sgd" : "adam";
    WriteBytes(states / (lower + ".solverstate"), state.SerializeAsString());
    const std::string h5_state = (scratch / "state.solverstate.h5").string();
    crema::WriteSolverState(h5_state, state, caffe::SolverParameter::HDF5);
    WriteBytes(states / (lower + ".solverstate.h5"), ReadAll(h5_state));
  }
}

void Hdf5Data(const fs::path& dir, const fs::path& scratch) {
  const std::string path = (scratch / "data.h5").string();
  {
    crema::Hdf5File file = crema::Hdf5File::Create(path);
    std::vector<float> data(5 * 2 * 3);
    for (size_t i = 0; i < data.size(); ++i) data[i] = 0.5f * static_cast<float>(i);
    file.WriteFloat("data", {5, 2, 3}, data.data());
    const float labels[5] = {0, 1, 2, 1, 0};
    file.WriteFloat("label", {5}, labels);
    file.Close();
  }
  WriteBytes(dir / "float_data_5x2x3_label_5.h5", ReadAll(path));
  {
    crema::Hdf5File file = crema::Hdf5File::Create(path);
    std::vector<double> data(4 * 3);
    for (size_t i = 0; i < data.size(); ++i) data[i] = 0.25 * static_cast<double>(i);
    file.WriteDouble("data", {4, 3}, data.data());
    const int32_t labels[4] = {3, 2, 1, 0};
    file.WriteInt32("label", {4, 1}, labels);
    file.Close();
  }
  WriteBytes(dir / "double_data_4x3_int_label_4x1.h5", ReadAll(path));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const fs::path corpus = argv[1];
  const fs::path scratch = fs::temp_directory_path() / "crema-make-seeds";
  fs::create_directories(scratch);
  try {
    Datums(corpus / "fuzz_datum");
    Means(corpus / "fuzz_mean");
    ModelsAndStates(corpus / "fuzz_caffemodel", corpus / "fuzz_solverstate", scratch);
    Hdf5Data(corpus / "fuzz_hdf5", scratch);
  } catch (const crema::Error& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  fs::remove_all(scratch);
  return 0;
}

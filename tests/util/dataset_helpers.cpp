#include "dataset_helpers.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crema/data/lmdb_dataset.h"
#include "test_helpers.h"

namespace crema::testing {

Image PatternImage(int channels, int height, int width, int seed) {
  Image image;
  image.channels = channels;
  image.height = height;
  image.width = width;
  image.pixels.resize(static_cast<size_t>(channels) * height * width);
  size_t i = 0;
  for (int c = 0; c < channels; ++c) {
    for (int h = 0; h < height; ++h) {
      for (int w = 0; w < width; ++w) {
        image.pixels[i++] = static_cast<uint8_t>((seed * 37 + c * 80 + h * 11 + w * 5) & 0xff);
      }
    }
  }
  return image;
}

std::string WriteImageFile(const std::string& path, const Image& image) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  const std::string bytes = EncodeImage(image, p.extension().string());
  WriteFile(path, bytes);
  return bytes;
}

std::vector<std::pair<std::string, caffe::Datum>> ReadDatums(const std::string& db) {
  std::vector<std::pair<std::string, caffe::Datum>> records;
  LmdbReader reader(db);
  for (int64_t i = 0; i < reader.size(); ++i) {
    caffe::Datum datum;
    EXPECT_TRUE(datum.ParseFromArray(reader.value().data(),
                                     static_cast<int>(reader.value().size())))
        << "record " << reader.key() << " of " << db;
    records.emplace_back(std::string(reader.key()), datum);
    reader.Next();
  }
  return records;
}

std::vector<uint8_t> DatumBytes(const caffe::Datum& datum) {
  return std::vector<uint8_t>(datum.data().begin(), datum.data().end());
}

}  // namespace crema::testing

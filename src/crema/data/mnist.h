// MNIST's IDX files and their conversion to the LMDB dataset Caffe's examples train on.
//
// IDX format: a big-endian header, then the items as unsigned bytes.
//   images (train-images-idx3-ubyte): magic 2051, count, rows, cols (int32 each), then
//                                     count·rows·cols pixels, row-major;
//   labels (train-labels-idx1-ubyte): magic 2049, count (int32 each), then count labels.
//
// ConvertMnist writes what Caffe's convert_mnist_data writes: for item i, key
// printf("%08d", i) and value a serialized Datum with channels 1, height rows, width cols,
// the raw pixel bytes in `data` and label = the label byte.
//
// Functions are thread-safe as long as callers use distinct output paths.
#ifndef CREMA_DATA_MNIST_H_
#define CREMA_DATA_MNIST_H_

#include <cstdint>
#include <string>
#include <vector>

namespace crema {

struct MnistImages {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> pixels;  // count·rows·cols bytes, image after image
};

// Reads an IDX image file (magic 2051) / label file (magic 2049).
// Throws IOError naming the file when it cannot be read, and Corruption naming the file and
// the problem for a wrong magic number, a negative count or size, or a file shorter than
// its header says.
MnistImages ReadMnistImages(const std::string& path);
std::vector<uint8_t> ReadMnistLabels(const std::string& path);

// Converts an image file and a label file into the LMDB directory `db_path`; returns the
// number of items written.
// Throws what the readers throw, InvalidArgument naming both files when their counts differ,
// and what LmdbWriter throws (db_path already holds records, cannot be created, ...).
int64_t ConvertMnist(const std::string& images_path, const std::string& labels_path,
                     const std::string& db_path);

}  // namespace crema

#endif  // CREMA_DATA_MNIST_H_

// Helpers for the dataset converter tests: deterministic test images, image files, and the
// records of an LMDB as Datums.
#ifndef CREMA_TESTS_UTIL_DATASET_HELPERS_H_
#define CREMA_TESTS_UTIL_DATASET_HELPERS_H_

#include <string>
#include <utility>
#include <vector>

#include "crema/data/image_codec.h"
#include "crema/proto/caffe.pb.h"

namespace crema::testing {

// A channels×height×width image whose pixels are a pattern that depends on `seed`, every
// plane different (planar, OpenCV channel order as image_codec.h).
Image PatternImage(int channels, int height, int width, int seed);

// Encodes `image` in the format of `path`'s extension (".png", ".jpg", …) and writes it,
// creating missing parent directories. Returns the bytes written.
std::string WriteImageFile(const std::string& path, const Image& image);

// Every record of the LMDB at `db`, in key order, parsed as Datums.
std::vector<std::pair<std::string, caffe::Datum>> ReadDatums(const std::string& db);

// The bytes of a Datum's data as unsigned values.
std::vector<uint8_t> DatumBytes(const caffe::Datum& datum);

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_DATASET_HELPERS_H_

// Image files and encoded records: decoding, encoding and resizing, through OpenCV — the
// decoder and bilinear resize Caffe's tools use, so Crema sees the same pixels Caffe saw.
//
// Decoded images are planar C×H×W uint8, channels in OpenCV's order (BGR for colour, as in
// every Caffe dataset made from image files).
// All functions are thread-safe.
#ifndef CREMA_DATA_IMAGE_CODEC_H_
#define CREMA_DATA_IMAGE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crema {

// How many channels a decoded image has.
enum class ColorMode {
  kUnchanged,  // as stored (a grey PNG stays 1 channel); alpha is dropped
  kColor,      // 3 channels (BGR), grey images are replicated
  kGray,       // 1 channel
};

struct Image {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;  // C×H×W, planar
};

// Decodes JPEG/PNG/BMP/... bytes into `image`, resized to new_height × new_width (bilinear)
// when both are > 0. Returns false when the bytes are not a decodable image.
// REQUIRES: new_height and new_width are both 0 or both > 0.
bool DecodeImage(std::string_view bytes, ColorMode mode, int new_height, int new_width,
                 Image* image);

// Encodes `image` in the format named by `extension` ("png", "jpg", ".jpeg", …).
// Throws InvalidArgument for an unknown format or an image OpenCV cannot encode.
std::string EncodeImage(const Image& image, const std::string& extension);

// Resizes `image` in place to new_height × new_width with bilinear interpolation.
void ResizeImage(int new_height, int new_width, Image* image);

// The whole file. Returns false (leaving *bytes unspecified) when it cannot be read.
bool ReadFileBytes(const std::string& path, std::string* bytes);

}  // namespace crema

#endif  // CREMA_DATA_IMAGE_CODEC_H_

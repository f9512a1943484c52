#include "crema/data/image_codec.h"

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "crema/core/error.h"

namespace crema {

namespace {

// Interleaved H×W×C (OpenCV) → planar C×H×W.
void ToPlanar(const cv::Mat& mat, Image* image) {
  image->channels = mat.channels();
  image->height = mat.rows;
  image->width = mat.cols;
  const int c = mat.channels();
  const size_t plane = static_cast<size_t>(mat.rows) * mat.cols;
  image->pixels.resize(plane * c);
  for (int h = 0; h < mat.rows; ++h) {
    const uint8_t* row = mat.ptr<uint8_t>(h);
    for (int w = 0; w < mat.cols; ++w) {
      for (int k = 0; k < c; ++k) {
        image->pixels[k * plane + static_cast<size_t>(h) * mat.cols + w] = row[w * c + k];
      }
    }
  }
}

cv::Mat ToInterleaved(const Image& image) {
  const int c = image.channels;
  cv::Mat mat(image.height, image.width, CV_8UC(c));
  const size_t plane = static_cast<size_t>(image.height) * image.width;
  for (int h = 0; h < image.height; ++h) {
    uint8_t* row = mat.ptr<uint8_t>(h);
    for (int w = 0; w < image.width; ++w) {
      for (int k = 0; k < c; ++k) {
        row[w * c + k] = image.pixels[k * plane + static_cast<size_t>(h) * image.width + w];
      }
    }
  }
  return mat;
}

}  // namespace

bool DecodeImage(std::string_view bytes, ColorMode mode, int new_height, int new_width,
                 Image* image) {
  if (bytes.empty()) return false;
  int flags = cv::IMREAD_COLOR;
  if (mode == ColorMode::kGray) flags = cv::IMREAD_GRAYSCALE;
  if (mode == ColorMode::kUnchanged) flags = cv::IMREAD_ANYCOLOR;  // keeps grey as grey
  cv::Mat mat;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                         const_cast<char*>(bytes.data()));
    mat = cv::imdecode(buffer, flags);
  } catch (const cv::Exception&) {
    return false;
  }
  if (mat.empty() || mat.depth() != CV_8U) return false;
  if (new_height > 0 && new_width > 0 && (mat.rows != new_height || mat.cols != new_width)) {
    cv::Mat resized;
    cv::resize(mat, resized, cv::Size(new_width, new_height), 0, 0, cv::INTER_LINEAR);
    mat = resized;
  }
  ToPlanar(mat, image);
  return true;
}

std::string EncodeImage(const Image& image, const std::string& extension) {
  const std::string ext = extension.empty() || extension[0] == '.' ? extension : "." + extension;
  std::vector<uint8_t> out;
  bool ok = false;
  try {
    ok = cv::imencode(ext, ToInterleaved(image), out);
  } catch (const cv::Exception& e) {
    throw InvalidArgument(StrCat("cannot encode an image as '", extension, "': ", e.msg));
  }
  if (!ok) throw InvalidArgument(StrCat("cannot encode an image as '", extension, "'"));
  return std::string(out.begin(), out.end());
}

void ResizeImage(int new_height, int new_width, Image* image) {
  if (image->height == new_height && image->width == new_width) return;
  cv::Mat resized;
  cv::resize(ToInterleaved(*image), resized, cv::Size(new_width, new_height), 0, 0,
             cv::INTER_LINEAR);
  ToPlanar(resized, image);
}

bool ReadFileBytes(const std::string& path, std::string* bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const std::streamsize size = in.tellg();
  if (size < 0) return false;
  bytes->resize(static_cast<size_t>(size));
  in.seekg(0);
  return static_cast<bool>(in.read(bytes->data(), size)) || size == 0;
}

}  // namespace crema

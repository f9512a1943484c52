#include "crema/data/mnist.h"

#include <cstdio>
#include <fstream>

#include <glog/logging.h>

#include "crema/core/error.h"
#include "crema/data/lmdb_dataset.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

namespace {

constexpr int32_t kImageMagic = 2051;
constexpr int32_t kLabelMagic = 2049;

// Reads an IDX file's header of `num_fields` big-endian int32s and the payload after it.
class IdxFile {
 public:
  IdxFile(const std::string& path, const char* kind) : path_(path), kind_(kind) {
    in_.open(path, std::ios::binary);
    if (!in_) throw IOErrorFromErrno(StrCat("open MNIST ", kind), path);
  }

  int32_t ReadHeaderField(const char* field) {
    unsigned char bytes[4];
    if (!in_.read(reinterpret_cast<char*>(bytes), 4)) {
      throw Corruption(StrCat("MNIST ", kind_, " file '", path_,
                              "' is truncated: it ends inside the header (reading ", field,
                              ")"));
    }
    const uint32_t value = (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
                           (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
    return static_cast<int32_t>(value);
  }

  void CheckMagic(int32_t expected) {
    const int32_t magic = ReadHeaderField("the magic number");
    if (magic != expected) {
      throw Corruption(StrCat("'", path_, "' is not an MNIST ", kind_, " file: magic number ",
                              magic, ", expected ", expected));
    }
  }

  void ReadPayload(int64_t bytes, std::vector<uint8_t>* out) {
    // Compare with the file size first, so a corrupt header cannot ask for terabytes.
    const std::streamoff here = in_.tellg();
    in_.seekg(0, std::ios::end);
    const std::streamoff available = in_.tellg() - here;
    in_.seekg(here);
    if (available < bytes) {
      throw Corruption(StrCat("MNIST ", kind_, " file '", path_, "' is truncated: its header ",
                              "promises ", bytes, " bytes of data but only ", available,
                              " follow"));
    }
    out->resize(static_cast<size_t>(bytes));
    if (!in_.read(reinterpret_cast<char*>(out->data()), static_cast<std::streamsize>(bytes))) {
      throw IOErrorFromErrno(StrCat("read MNIST ", kind_, " file"), path_);
    }
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const char* kind_;
  std::ifstream in_;
};

}  // namespace

MnistImages ReadMnistImages(const std::string& path) {
  IdxFile file(path, "image");
  file.CheckMagic(kImageMagic);
  MnistImages images;
  images.count = file.ReadHeaderField("the image count");
  images.rows = file.ReadHeaderField("the row count");
  images.cols = file.ReadHeaderField("the column count");
  if (images.count < 0 || images.rows <= 0 || images.cols <= 0) {
    throw Corruption(StrCat("MNIST image file '", path, "' has a bad header: ", images.count,
                            " images of ", images.rows, "x", images.cols));
  }
  file.ReadPayload(int64_t{images.count} * images.rows * images.cols, &images.pixels);
  return images;
}

std::vector<uint8_t> ReadMnistLabels(const std::string& path) {
  IdxFile file(path, "label");
  file.CheckMagic(kLabelMagic);
  const int32_t count = file.ReadHeaderField("the label count");
  if (count < 0) {
    throw Corruption(StrCat("MNIST label file '", path, "' has a bad header: ", count,
                            " labels"));
  }
  std::vector<uint8_t> labels;
  file.ReadPayload(count, &labels);
  return labels;
}

int64_t ConvertMnist(const std::string& images_path, const std::string& labels_path,
                     const std::string& db_path) {
  const MnistImages images = ReadMnistImages(images_path);
  const std::vector<uint8_t> labels = ReadMnistLabels(labels_path);
  if (static_cast<size_t>(images.count) != labels.size()) {
    throw InvalidArgument(StrCat("MNIST files disagree: '", images_path, "' holds ",
                                 images.count, " images but '", labels_path, "' holds ",
                                 labels.size(), " labels"));
  }
  LOG(INFO) << "A total of " << images.count << " items; rows: " << images.rows
            << ", cols: " << images.cols;

  LmdbWriter writer(db_path);
  caffe::Datum datum;
  datum.set_channels(1);
  datum.set_height(images.rows);
  datum.set_width(images.cols);
  const size_t image_bytes = static_cast<size_t>(images.rows) * images.cols;
  std::string value;
  char key[32];
  for (int i = 0; i < images.count; ++i) {
    datum.set_data(images.pixels.data() + i * image_bytes, image_bytes);
    datum.set_label(labels[static_cast<size_t>(i)]);
    datum.SerializeToString(&value);
    std::snprintf(key, sizeof(key), "%08d", i);
    writer.Put(key, value);
  }
  writer.Finish();
  return images.count;
}

}  // namespace crema

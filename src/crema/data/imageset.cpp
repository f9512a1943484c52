#include "crema/data/imageset.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <limits>
#include <random>
#include <utility>

#include <glog/logging.h>

#include "crema/core/error.h"
#include "crema/data/progress.h"
#include "crema/data/staged_lmdb.h"

namespace crema {

namespace {

// LMDB's default key limit (mdb_env_get_maxkeysize).
constexpr size_t kMaxKeyBytes = 511;
// Images decoded in parallel before they are written in order.
constexpr int kBlockSize = 256;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "png" from ".PNG" or "png".
std::string NormalizeFormat(const std::string& format) {
  return Lower(!format.empty() && format[0] == '.' ? format.substr(1) : format);
}

// Lower-case extension of the file name, without the dot ("" when there is none).
std::string Extension(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return Lower(path.substr(dot + 1));
}

bool ExtensionMatches(const std::string& extension, const std::string& format) {
  if (format.empty() || extension == format) return true;
  const auto is_jpeg = [](const std::string& s) { return s == "jpg" || s == "jpeg"; };
  return is_jpeg(extension) && is_jpeg(format);
}

// Uniform in [0, n) without modulo bias. REQUIRES: n > 0.
uint64_t UniformBelow(std::mt19937_64* gen, uint64_t n) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - max % n;  // draws at or above are rejected
  uint64_t x;
  do {
    x = (*gen)();
  } while (x >= limit);
  return x % n;
}

std::string SizeString(int c, int h, int w) { return StrCat(c, "x", h, "x", w); }

// One decoded entry, ready to be written.
struct Converted {
  bool ok = false;
  std::string value;  // serialized Datum
  int channels = 0;
  int height = 0;
  int width = 0;
  std::exception_ptr error;
};

}  // namespace

void ValidateImagesetOptions(const ImagesetOptions& options) {
  CREMA_REQUIRE(options.resize_height >= 0 && options.resize_width >= 0,
                "resize sizes must not be negative, got resize_height ", options.resize_height,
                " and resize_width ", options.resize_width);
  CREMA_REQUIRE((options.resize_height > 0) == (options.resize_width > 0),
                "resize_height and resize_width must be set together (got resize_height ",
                options.resize_height, " and resize_width ", options.resize_width, ")");
  if (options.encoded && !options.encode_type.empty()) {
    Image probe;
    probe.channels = 1;
    probe.height = 1;
    probe.width = 1;
    probe.pixels = {0};
    try {
      EncodeImage(probe, NormalizeFormat(options.encode_type));
    } catch (const Error&) {
      throw InvalidArgument(StrCat("encode_type '", options.encode_type, "' is not an image ",
                                   "format this build can write (use png or jpg)"));
    }
  }
}

void ShuffleImageList(uint64_t seed, std::vector<ImageListEntry>* entries) {
  std::mt19937_64 gen(seed);
  for (size_t i = entries->size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(UniformBelow(&gen, i));
    std::swap((*entries)[i - 1], (*entries)[j]);
  }
}

bool ImageFileToDatum(const std::string& file, int label, const ImagesetOptions& options,
                      caffe::Datum* datum, int* channels, int* height, int* width) {
  std::string bytes;
  if (!ReadFileBytes(file, &bytes)) return false;
  datum->Clear();
  datum->set_label(label);
  const ColorMode mode = options.gray ? ColorMode::kGray : ColorMode::kColor;
  const bool resize = options.resize_height > 0 && options.resize_width > 0;
  Image image;
  if (options.encoded) {
    const std::string extension = Extension(file);
    const std::string format = NormalizeFormat(options.encode_type);
    if (!resize && ExtensionMatches(extension, format)) {
      // The file's bytes are usable as they are if they decode to the channels asked for.
      if (!DecodeImage(bytes, ColorMode::kUnchanged, 0, 0, &image)) return false;
      if (image.channels == (options.gray ? 1 : 3)) {
        *channels = image.channels;
        *height = image.height;
        *width = image.width;
        datum->set_data(std::move(bytes));
        datum->set_encoded(true);
        return true;
      }
    }
    if (!DecodeImage(bytes, mode, options.resize_height, options.resize_width, &image)) {
      return false;
    }
    const std::string out_format = format.empty() ? extension : format;
    std::string encoded;
    try {
      encoded = EncodeImage(image, out_format);
    } catch (const Error&) {
      if (!format.empty()) throw;
      encoded = EncodeImage(image, "png");  // the file's extension is no format OpenCV writes
    }
    datum->set_data(std::move(encoded));
    datum->set_encoded(true);
  } else {
    if (!DecodeImage(bytes, mode, options.resize_height, options.resize_width, &image)) {
      return false;
    }
    datum->set_channels(image.channels);
    datum->set_height(image.height);
    datum->set_width(image.width);
    datum->set_data(image.pixels.data(), image.pixels.size());
    datum->set_encoded(false);  // stored explicitly, as Caffe's tool does: same bytes
  }
  *channels = image.channels;
  *height = image.height;
  *width = image.width;
  return true;
}

ImagesetResult ConvertImageList(std::vector<ImageListEntry> entries, const std::string& root,
                                const std::string& db_path, const ImagesetOptions& options) {
  ValidateImagesetOptions(options);
  CREMA_REQUIRE(!entries.empty(), "the image list is empty; nothing to write to '", db_path,
                "'");
  if (options.shuffle) {
    LOG(INFO) << "Shuffling data";
    ShuffleImageList(options.shuffle_seed, &entries);
  }
  LOG(INFO) << "A total of " << entries.size() << " images.";
  const std::string prefix = ImageRootPrefix(root);
  const int64_t total = static_cast<int64_t>(entries.size());

  StagedLmdb db(db_path);
  Progress progress(options.progress_label, total, "images");
  ImagesetResult result;
  int first_c = 0, first_h = 0, first_w = 0;
  std::string first_file;
  std::vector<Converted> block;
  for (int64_t begin = 0; begin < total; begin += kBlockSize) {
    const int64_t end = std::min<int64_t>(begin + kBlockSize, total);
    block.assign(static_cast<size_t>(end - begin), Converted());
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = begin; i < end; ++i) {
      Converted& out = block[static_cast<size_t>(i - begin)];
      const ImageListEntry& entry = entries[static_cast<size_t>(i)];
      try {
        caffe::Datum datum;
        out.ok = ImageFileToDatum(prefix + entry.path, entry.label, options, &datum,
                                  &out.channels, &out.height, &out.width);
        if (out.ok) datum.SerializeToString(&out.value);
      } catch (...) {
        out.error = std::current_exception();
      }
    }
    for (int64_t i = begin; i < end; ++i) {
      Converted& out = block[static_cast<size_t>(i - begin)];
      const ImageListEntry& entry = entries[static_cast<size_t>(i)];
      const std::string file = prefix + entry.path;
      if (out.error) std::rethrow_exception(out.error);
      if (!out.ok) {
        progress.Clear();
        LOG(ERROR) << "Could not open or decode " << file << ": skipped";
        ++result.skipped;
        progress.Update(i + 1);
        continue;
      }
      if (options.check_size) {
        if (first_file.empty()) {
          first_file = file;
          first_c = out.channels;
          first_h = out.height;
          first_w = out.width;
        } else if (out.channels != first_c || out.height != first_h || out.width != first_w) {
          throw InvalidArgument(StrCat("image '", file, "' is ",
                                       SizeString(out.channels, out.height, out.width),
                                       " but the first image ('", first_file, "') is ",
                                       SizeString(first_c, first_h, first_w),
                                       " (-check_size wants one size)"));
        }
      }
      char index[24];
      std::snprintf(index, sizeof(index), "%08lld", static_cast<long long>(i));
      std::string key = StrCat(index, "_", entry.path);
      if (key.size() > kMaxKeyBytes) key.resize(kMaxKeyBytes);
      db.writer().Put(key, out.value);
      result.written_entries.push_back(entry);
      ++result.written;
      progress.Update(i + 1);
    }
  }
  if (result.written == 0) {
    throw InvalidArgument(StrCat("none of the ", total, " images could be read (first: '",
                                 prefix + entries[0].path, "'); nothing written to '",
                                 db.path(), "'"));
  }
  db.Commit();
  progress.Done();
  LOG(INFO) << "Processed " << total << " files: wrote " << result.written << " to "
            << db.path() << ", skipped " << result.skipped << " unreadable.";
  return result;
}

ImagesetResult ConvertImageset(const std::string& root, const std::string& list_file,
                               const std::string& db_path, const ImagesetOptions& options) {
  ValidateImagesetOptions(options);
  return ConvertImageList(ReadImageList(list_file), root, db_path, options);
}

}  // namespace crema

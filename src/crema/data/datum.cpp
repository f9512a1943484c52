#include "crema/data/datum.h"

#include <cstdint>
#include <limits>

#include "crema/core/error.h"

namespace crema {

namespace {
std::string Record(std::string_view key) { return StrCat("record '", key, "'"); }
}  // namespace

void ParseDatum(std::string_view bytes, std::string_view key, caffe::Datum* datum) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !datum->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw Corruption(StrCat(Record(key), " is not a valid Datum (", bytes.size(),
                            " bytes that do not decode)"));
  }
}

void ValidateDatum(const caffe::Datum& datum, std::string_view key) {
  if (datum.encoded()) {
    if (datum.data().empty()) throw Corruption(StrCat(Record(key), " is an encoded image with no bytes"));
    return;
  }
  if (datum.channels() <= 0 || datum.height() <= 0 || datum.width() <= 0) {
    throw Corruption(StrCat(Record(key), " has a bad shape: channels ", datum.channels(),
                            ", height ", datum.height(), ", width ", datum.width(),
                            " (all must be positive)"));
  }
  // Each dimension is below 2^31, so two multiply within 64 bits; the third may not.
  const int64_t plane = int64_t{datum.channels()} * datum.height();
  if (plane > std::numeric_limits<int64_t>::max() / datum.width()) {
    throw Corruption(StrCat(Record(key), " has a shape of over 2^63 values: channels ",
                            datum.channels(), ", height ", datum.height(), ", width ",
                            datum.width()));
  }
  const int64_t expected = plane * datum.width();
  if (!datum.data().empty()) {
    if (static_cast<int64_t>(datum.data().size()) != expected) {
      throw Corruption(StrCat(Record(key), " holds ", datum.data().size(),
                              " bytes of data but its shape ", datum.channels(), "x",
                              datum.height(), "x", datum.width(), " needs ", expected));
    }
    return;
  }
  if (datum.float_data_size() != expected) {
    throw Corruption(StrCat(Record(key), " holds ", datum.float_data_size(),
                            " float_data values (and no raw data) but its shape ",
                            datum.channels(), "x", datum.height(), "x", datum.width(),
                            " needs ", expected));
  }
}

std::vector<int> DatumShape(const caffe::Datum& datum) {
  return {datum.channels(), datum.height(), datum.width()};
}

DatumPixels DatumImage(const caffe::Datum& datum, std::string_view key, ColorMode mode,
                       Image* scratch) {
  DatumPixels pixels;
  if (datum.encoded()) {
    if (!DecodeImage(datum.data(), mode, 0, 0, scratch)) {
      throw Corruption(StrCat(Record(key), " holds an encoded image that does not decode"));
    }
    pixels.bytes = scratch->pixels.data();
    pixels.channels = scratch->channels;
    pixels.height = scratch->height;
    pixels.width = scratch->width;
    return pixels;
  }
  if (DatumHasFloatData(datum)) {
    pixels.floats = datum.float_data().data();
  } else {
    pixels.bytes = reinterpret_cast<const uint8_t*>(datum.data().data());
  }
  pixels.channels = datum.channels();
  pixels.height = datum.height();
  pixels.width = datum.width();
  return pixels;
}

}  // namespace crema

// Helpers for caffe::Datum, the record type of Caffe's datasets (docs/CAFFE_COMPAT.md §4.3).
//
// A Datum carries one image and its label in one of three encodings:
//   raw      `data` holds C·H·W uint8 pixels, planar C×H×W (channel-major);
//   float    `float_data` holds C·H·W floats in the same layout, `data` is empty;
//   encoded  `encoded` is set and `data` holds a compressed image file (JPEG/PNG).
// Encoded datums are decoded with OpenCV (data/image_codec.h) when they are used.
//
// All functions are thread-safe (they touch only their arguments).
#ifndef CREMA_DATA_DATUM_H_
#define CREMA_DATA_DATUM_H_

#include <string>
#include <string_view>
#include <vector>

#include "crema/data/image_codec.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

// Parses `bytes`, the record stored under `key`, into *datum (reusing its storage).
// Throws Corruption "record '<key>' is not a valid Datum (...)" when the bytes do not decode.
// Callers add the source (file, database) to the message.
void ParseDatum(std::string_view bytes, std::string_view key, caffe::Datum* datum);

// Checks that `datum` holds a usable image: encoded with non-empty `data`, or positive
// channels/height/width with either `data` of exactly C·H·W bytes or (with `data` empty)
// `float_data` of exactly C·H·W values. Throws Corruption naming the key, the expected and
// the actual sizes otherwise.
void ValidateDatum(const caffe::Datum& datum, std::string_view key);

// {channels, height, width}, as stored (no validation; 0s for encoded datums).
std::vector<int> DatumShape(const caffe::Datum& datum);

// True when the datum's values are in float_data rather than raw bytes. REQUIRES: validated,
// not encoded.
inline bool DatumHasFloatData(const caffe::Datum& datum) { return datum.data().empty(); }

// The pixels of a validated datum, planar C×H×W: `bytes` for raw and encoded datums (decoded
// into *scratch with `mode`), `floats` for float datums; the other pointer is null.
struct DatumPixels {
  const uint8_t* bytes = nullptr;
  const float* floats = nullptr;
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<int> shape() const { return {channels, height, width}; }
};

// Throws Corruption "record '<key>' holds an encoded image that does not decode" when the
// bytes of an encoded datum are not an image. `mode` applies to encoded datums only (raw
// pixels are used as stored, as Caffe does).
DatumPixels DatumImage(const caffe::Datum& datum, std::string_view key, ColorMode mode,
                       Image* scratch);

}  // namespace crema

#endif  // CREMA_DATA_DATUM_H_

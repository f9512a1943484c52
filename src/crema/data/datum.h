// Helpers for caffe::Datum, the record type of Caffe's datasets (docs/CAFFE_COMPAT.md §4.3).
//
// A Datum carries one image and its label in one of three encodings:
//   raw      `data` holds C·H·W uint8 pixels, planar C×H×W (channel-major);
//   float    `float_data` holds C·H·W floats in the same layout, `data` is empty;
//   encoded  `encoded` is set and `data` holds a compressed image file (JPEG/PNG).
// Raw and float datums are supported; encoded ones are refused until image decoding lands.
//
// All functions are thread-safe (they touch only their arguments).
#ifndef CREMA_DATA_DATUM_H_
#define CREMA_DATA_DATUM_H_

#include <string>
#include <string_view>
#include <vector>

#include "crema/proto/caffe.pb.h"

namespace crema {

// Parses `bytes`, the record stored under `key`, into *datum (reusing its storage).
// Throws Corruption "record '<key>' is not a valid Datum (...)" when the bytes do not decode.
// Callers add the source (file, database) to the message.
void ParseDatum(std::string_view bytes, std::string_view key, caffe::Datum* datum);

// Checks that `datum` holds a usable image: positive channels/height/width, and either
// `data` of exactly C·H·W bytes or (with `data` empty) `float_data` of exactly C·H·W values.
// Throws Unsupported "record '<key>' holds an encoded image; encoded images are not supported
// yet" for encoded datums, and Corruption naming the key, the expected and the actual sizes
// otherwise.
void ValidateDatum(const caffe::Datum& datum, std::string_view key);

// {channels, height, width}, as stored (no validation).
std::vector<int> DatumShape(const caffe::Datum& datum);

// True when the datum's values are in float_data rather than raw bytes. REQUIRES: validated.
inline bool DatumHasFloatData(const caffe::Datum& datum) { return datum.data().empty(); }

}  // namespace crema

#endif  // CREMA_DATA_DATUM_H_

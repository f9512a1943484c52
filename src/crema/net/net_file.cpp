#include "crema/net/net_file.h"

#include <vector>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/layers/registry.h"
#include "crema/net/net_rules.h"

namespace crema {

namespace {

// The first 'quoted' word of a message: the layer a Net error is about, when it is one.
std::string FirstQuoted(const std::string& message) {
  const size_t open = message.find('\'');
  if (open == std::string::npos) return "";
  const size_t close = message.find('\'', open + 1);
  return close == std::string::npos ? "" : message.substr(open + 1, close - open - 1);
}

// True when `layer` takes part in a net of `state` (the rule of net_rules.h's FilterNet).
bool TakesPart(const caffe::LayerParameter& layer, const caffe::NetState& state) {
  caffe::NetParameter one;
  *one.mutable_state() = state;
  *one.add_layer() = layer;
  try {
    return FilterNet(one).layer_size() == 1;
  } catch (const Error&) {
    return true;  // both include and exclude rules: that is the error itself
  }
}

// "path:line" of the layer `name` of the net file `path` for `state`, or "path".
std::string WhereInNetFile(const std::string& path, const std::string& name,
                           const caffe::NetState& state) {
  std::vector<int> lines;
  caffe::NetParameter file;
  try {
    file = ReadNetParamsFromTextFile(path, &lines);
  } catch (const Error&) {
    return path;  // changed since it was read: the file is all we can name
  }
  int line = 0;
  for (int i = 0; i < file.layer_size(); ++i) {
    if (file.layer(i).name() != name || lines[static_cast<size_t>(i)] == 0) continue;
    // A later layer of the same name wins only if the state includes it (two layers of one
    // name differ by phase, or the second is the error "two layers are named").
    if (line == 0 || TakesPart(file.layer(i), state)) line = lines[static_cast<size_t>(i)];
  }
  return line > 0 ? StrCat(path, ":", line) : path;
}

}  // namespace

caffe::NetParameter ReadNetFile(const std::string& path) {
  std::vector<int> lines;
  caffe::NetParameter param = ReadNetParamsFromTextFile(path, &lines);
  if (param.layer_size() == 0) throw InvalidArgument(StrCat(path, ": the net has no layers"));
  const LayerRegistry& registry = LayerRegistry::Global();
  for (int i = 0; i < param.layer_size(); ++i) {
    const caffe::LayerParameter& layer = param.layer(i);
    if (registry.Has(layer.type())) continue;
    std::string known;
    for (const std::string& type : registry.Types()) known += (known.empty() ? "" : ", ") + type;
    const int line = lines[static_cast<size_t>(i)];
    throw NotFound(StrCat(path, line > 0 ? StrCat(":", line) : std::string(), ": layer '",
                          layer.name(), "' has unknown type '", layer.type(),
                          "' (known types: ", known, ")"));
  }
  return param;
}

std::unique_ptr<Net> BuildNetFromFile(const std::string& path, const caffe::NetParameter& param) {
  try {
    return std::make_unique<Net>(param);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(path + ":", 0) == 0) throw;  // already says where
    const std::string where = WhereInNetFile(path, FirstQuoted(what), param.state());
    throw Error(e.code(), StrCat(where, ": ", what));
  }
}

}  // namespace crema

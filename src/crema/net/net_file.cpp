#include "crema/net/net_file.h"

#include <vector>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/layers/registry.h"

namespace crema {

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

}  // namespace crema

#include "crema/layers/registry.h"

namespace crema {

LayerRegistry& LayerRegistry::Global() {
  static LayerRegistry* registry = [] {
    auto* r = new LayerRegistry();
    RegisterBuiltinLayers(r);
    return r;
  }();
  return *registry;
}

void LayerRegistry::Add(const std::string& type, LayerCreator creator, LayerCreator reference) {
  CREMA_REQUIRE(creators_.count(type) == 0, "layer type '", type, "' is registered twice");
  creators_[type] = Creators{creator, reference};
}

std::vector<std::string> LayerRegistry::Types() const {
  std::vector<std::string> types;
  for (const auto& [type, creator] : creators_) types.push_back(type);
  return types;
}

std::unique_ptr<Layer> LayerRegistry::Create(const caffe::LayerParameter& param,
                                             LayerImplementation implementation) const {
  auto it = creators_.find(param.type());
  if (it == creators_.end()) {
    std::string known;
    for (const auto& [type, creator] : creators_) known += (known.empty() ? "" : ", ") + type;
    throw NotFound(StrCat("layer '", param.name(), "' has unknown type '", param.type(),
                          "' (known types: ", known, ")"));
  }
  const Creators& creators = it->second;
  if (implementation == LayerImplementation::kReference && creators.reference != nullptr) {
    return creators.reference(param);
  }
  return creators.fast(param);
}

}  // namespace crema

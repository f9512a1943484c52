// The table from a layer's `type:` string to the code that creates it.
//
// The table is filled explicitly by RegisterBuiltinLayers (builtin_layers.cpp), the one list
// of every layer Crema ships, so no layer can be lost to static linking. A type may have two
// implementations: the fast one every net gets, and a plain reference (Caffe's own algorithm,
// e.g. im2col + GEMM convolution) that tests compare it with (Net's `implementation`).
// Caffe's `engine` field chooses between its own and cuDNN kernels on the GPU; on the CPU,
// Caffe runs the same code for every engine, and so does Crema.
//
// Thread-safety: Global() is built once, thread-safely; afterwards the registry is read-only
// unless a caller adds types, which must happen before other threads create layers.
#ifndef CREMA_LAYERS_REGISTRY_H_
#define CREMA_LAYERS_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crema/layers/layer.h"

namespace crema {

using LayerCreator = std::unique_ptr<Layer> (*)(const caffe::LayerParameter&);

// Which implementation Create returns for a type that has two.
enum class LayerImplementation { kFast, kReference };

// Creator for a layer class constructible from a LayerParameter.
template <typename LayerClass>
std::unique_ptr<Layer> CreateLayerOf(const caffe::LayerParameter& param) {
  return std::make_unique<LayerClass>(param);
}

class LayerRegistry {
 public:
  // The process-wide registry holding every built-in layer.
  static LayerRegistry& Global();

  // Adds a type, with its reference implementation when that is another class. Throws
  // InvalidArgument when `type` is already registered.
  void Add(const std::string& type, LayerCreator creator, LayerCreator reference = nullptr);
  bool Has(const std::string& type) const { return creators_.count(type) > 0; }
  // Registered type strings, sorted.
  std::vector<std::string> Types() const;

  // Creates the layer named by param.type(), in the implementation asked for (a type with a
  // single implementation gives it for both). Throws NotFound, listing the known types, when
  // the type is unknown; the creator's own exceptions propagate.
  std::unique_ptr<Layer> Create(const caffe::LayerParameter& param,
                                LayerImplementation implementation = LayerImplementation::kFast) const;

 private:
  struct Creators {
    LayerCreator fast;
    LayerCreator reference;  // null: `fast` is the reference too
  };
  std::map<std::string, Creators> creators_;
};

// Adds every built-in layer to `registry`.
void RegisterBuiltinLayers(LayerRegistry* registry);

}  // namespace crema

#endif  // CREMA_LAYERS_REGISTRY_H_

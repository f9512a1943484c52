// The list of every layer Crema ships. Adding a layer = one include and one line here.
#include "crema/layers/registry.h"

namespace crema {

void RegisterBuiltinLayers(LayerRegistry* registry) {
  (void)registry;
}

}  // namespace crema

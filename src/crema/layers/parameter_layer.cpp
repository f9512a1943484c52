#include "crema/layers/parameter_layer.h"

namespace crema {

void ParameterLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  blobs_.clear();
  auto blob = std::make_shared<Blob>();
  WithErrorContext(Describe() + " parameter_param.shape",
                   [&] { blob->Reshape(layer_param_.parameter_param().shape()); });
  blobs_.push_back(std::move(blob));
  param_propagate_down_.assign(1, true);
}

void ParameterLayer::Reshape(const BlobVec& /*bottom*/, const BlobVec& top) {
  const Blob& param = *blobs_[0];
  // Shared again on every call: the net may move a parameter's diff into a gradient
  // communication buffer (Blob::SetDiffMemory) after SetUp, and the top must follow it.
  top[0]->Reshape(param.shape());
  top[0]->ShareData(param);
  top[0]->ShareDiff(param);
}

}  // namespace crema

#include "crema/layers/input_layer.h"

namespace crema {

void InputLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& top) {
  const caffe::InputParameter& p = layer_param_.input_param();
  const int num_shapes = p.shape_size();
  const int num_tops = static_cast<int>(top.size());
  if (num_shapes > 1 && num_shapes != num_tops) {
    Fail("has ", num_shapes, " input_param.shape entries for ", num_tops,
         " tops; give none, one for all tops, or one per top");
  }
  if (num_shapes == 0) return;
  for (int i = 0; i < num_tops; ++i) {
    const caffe::BlobShape& shape = p.shape(num_shapes == 1 ? 0 : i);
    try {
      top[i]->Reshape(shape);
    } catch (const Error& e) {
      Fail("input_param.shape for top ", i, " is invalid: ", e.what());
    }
  }
}

}  // namespace crema

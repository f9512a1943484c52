// The list of every layer Crema ships. Adding a layer = one include and one line here.
#include "crema/layers/registry.h"
#include "crema/backend/cpu/dnnl_conv_layer.h"
#include "crema/layers/accuracy_layer.h"
#include "crema/layers/concat_layer.h"
#include "crema/layers/data_layer.h"
#include "crema/layers/dropout_layer.h"
#include "crema/layers/eltwise_layer.h"
#include "crema/layers/flatten_layer.h"
#include "crema/layers/hdf5_data_layer.h"
#include "crema/layers/image_data_layer.h"
#include "crema/layers/input_layer.h"
#include "crema/layers/inner_product_layer.h"
#include "crema/layers/lrn_layer.h"
#include "crema/layers/memory_data_layer.h"
#include "crema/layers/pooling_layer.h"
#include "crema/layers/relu_layer.h"
#include "crema/layers/sigmoid_layer.h"
#include "crema/layers/silence_layer.h"
#include "crema/layers/softmax_layer.h"
#include "crema/layers/softmax_loss_layer.h"
#include "crema/layers/split_layer.h"
#include "crema/layers/tanh_layer.h"

namespace crema {

void RegisterBuiltinLayers(LayerRegistry* registry) {
  (void)registry;
  registry->Add("Accuracy", &CreateLayerOf<AccuracyLayer>);
  registry->Add("Concat", &CreateLayerOf<ConcatLayer>);
  registry->Add("Convolution", &CreateConvolutionLayer);
  registry->Add("Data", &CreateLayerOf<DataLayer>);
  registry->Add("Dropout", &CreateLayerOf<DropoutLayer>);
  registry->Add("Eltwise", &CreateLayerOf<EltwiseLayer>);
  registry->Add("Flatten", &CreateLayerOf<FlattenLayer>);
  registry->Add("HDF5Data", &CreateLayerOf<HDF5DataLayer>);
  registry->Add("ImageData", &CreateLayerOf<ImageDataLayer>);
  registry->Add("Input", &CreateLayerOf<InputLayer>);
  registry->Add("InnerProduct", &CreateLayerOf<InnerProductLayer>);
  registry->Add("LRN", &CreateLayerOf<LRNLayer>);
  registry->Add("MemoryData", &CreateLayerOf<MemoryDataLayer>);
  registry->Add("Pooling", &CreateLayerOf<PoolingLayer>);
  registry->Add("ReLU", &CreateLayerOf<ReLULayer>);
  registry->Add("Sigmoid", &CreateLayerOf<SigmoidLayer>);
  registry->Add("Silence", &CreateLayerOf<SilenceLayer>);
  registry->Add("Softmax", &CreateLayerOf<SoftmaxLayer>);
  registry->Add("SoftmaxWithLoss", &CreateLayerOf<SoftmaxWithLossLayer>);
  registry->Add("Split", &CreateLayerOf<SplitLayer>);
  registry->Add("TanH", &CreateLayerOf<TanHLayer>);
}

}  // namespace crema

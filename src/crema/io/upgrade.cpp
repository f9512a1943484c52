#include "crema/io/upgrade.h"

#include <glog/logging.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "crema/core/error.h"

namespace crema {

namespace {

using caffe::NetParameter;
using caffe::V0LayerParameter;
using caffe::V1LayerParameter;

// ---------------------------------------------------------------------------------------
// V0 → V1
// ---------------------------------------------------------------------------------------

// The V0 type strings and the V1 enum value each one became. "padding" is absent: padding
// layers disappear into the pad of their consumer.
V1LayerParameter::LayerType V0TypeToV1(const std::string& source, const V0LayerParameter& v0) {
  static const std::map<std::string, V1LayerParameter::LayerType> kTypes = {
      {"accuracy", V1LayerParameter::ACCURACY},
      {"bnll", V1LayerParameter::BNLL},
      {"concat", V1LayerParameter::CONCAT},
      {"conv", V1LayerParameter::CONVOLUTION},
      {"data", V1LayerParameter::DATA},
      {"dropout", V1LayerParameter::DROPOUT},
      {"euclidean_loss", V1LayerParameter::EUCLIDEAN_LOSS},
      {"flatten", V1LayerParameter::FLATTEN},
      {"hdf5_data", V1LayerParameter::HDF5_DATA},
      {"hdf5_output", V1LayerParameter::HDF5_OUTPUT},
      {"im2col", V1LayerParameter::IM2COL},
      {"images", V1LayerParameter::IMAGE_DATA},
      {"infogain_loss", V1LayerParameter::INFOGAIN_LOSS},
      {"innerproduct", V1LayerParameter::INNER_PRODUCT},
      {"lrn", V1LayerParameter::LRN},
      {"multinomial_logistic_loss", V1LayerParameter::MULTINOMIAL_LOGISTIC_LOSS},
      {"pool", V1LayerParameter::POOLING},
      {"relu", V1LayerParameter::RELU},
      {"sigmoid", V1LayerParameter::SIGMOID},
      {"softmax", V1LayerParameter::SOFTMAX},
      {"softmax_loss", V1LayerParameter::SOFTMAX_LOSS},
      {"split", V1LayerParameter::SPLIT},
      {"tanh", V1LayerParameter::TANH},
      {"window_data", V1LayerParameter::WINDOW_DATA},
  };
  auto it = kTypes.find(v0.type());
  if (it == kTypes.end()) {
    std::string known;
    for (const auto& [name, value] : kTypes) known += (known.empty() ? "" : ", ") + name;
    throw InvalidArgument(StrCat(source, ": V0 layer '", v0.name(), "' has unknown type \"",
                                 v0.type(), "\" (known V0 types: ", known, ", padding)"));
  }
  return it->second;
}

// Removes every V0 "padding" layer and gives its pad to the convolution or pooling layer
// that reads its output (the only consumers early Caffe allowed). Layers are moved, not
// copied: a legacy caffemodel's blobs can be hundreds of megabytes.
void FoldV0PaddingLayers(const std::string& source, NetParameter* param) {
  google::protobuf::RepeatedPtrField<V1LayerParameter> entries;
  entries.Swap(param->mutable_layers());
  struct Padding {
    std::string name;
    std::string input;
    uint32_t pad;
  };
  // Blob name → the padding layer that last wrote it (absent when another layer did).
  std::map<std::string, Padding> padded;
  for (V1LayerParameter& entry : entries) {
    const V0LayerParameter& v0 = entry.layer();
    if (v0.type() == "padding") {
      CREMA_REQUIRE(entry.bottom_size() == 1 && entry.top_size() == 1, source,
                    ": V0 padding layer '", v0.name(),
                    "' must have exactly one bottom and one top");
      padded[entry.top(0)] = Padding{v0.name(), entry.bottom(0), v0.pad()};
      continue;
    }
    for (int j = 0; j < entry.bottom_size(); ++j) {
      auto it = padded.find(entry.bottom(j));
      if (it == padded.end()) continue;
      const Padding& padding = it->second;
      CREMA_REQUIRE(v0.type() == "conv" || v0.type() == "pool", source, ": V0 padding layer '",
                    padding.name, "' feeds layer '", v0.name(), "' of type \"", v0.type(),
                    "\"; a padding layer can only feed a conv or pool layer");
      CREMA_REQUIRE(entry.bottom_size() == 1, source, ": V0 layer '", v0.name(),
                    "' reads padding layer '", padding.name,
                    "' and must then have exactly one bottom");
      entry.mutable_layer()->set_pad(padding.pad);
      entry.set_bottom(j, padding.input);
    }
    for (const std::string& top : entry.top()) padded.erase(top);
    param->add_layers()->Swap(&entry);
  }
}

// Moves the fields of entry->layer() (V0) into their V1 places in `entry`.
void UpgradeV0Layer(const std::string& source, V1LayerParameter* out) {
  const std::unique_ptr<V0LayerParameter> owned(out->release_layer());
  const V0LayerParameter& v0 = *owned;
  if (v0.has_name()) out->set_name(v0.name());
  if (v0.has_type()) out->set_type(V0TypeToV1(source, v0));
  for (caffe::BlobProto& blob : *owned->mutable_blobs()) out->add_blobs()->Swap(&blob);
  for (float lr : v0.blobs_lr()) out->add_blobs_lr(lr);
  for (float decay : v0.weight_decay()) out->add_weight_decay(decay);

  const std::string& type = v0.type();
  const bool conv = type == "conv";
  const bool inner_product = type == "innerproduct";
  const bool pool = type == "pool";
  const bool data = type == "data";
  const bool images = type == "images";
  const bool window = type == "window_data";
  const bool hdf5 = type == "hdf5_data";
  const auto refuse = [&](const char* field) {
    throw InvalidArgument(StrCat(source, ": V0 layer '", v0.name(), "' of type \"", type,
                                 "\" sets '", field, "', which that type does not take"));
  };

  if (v0.has_num_output()) {
    if (conv) {
      out->mutable_convolution_param()->set_num_output(v0.num_output());
    } else if (inner_product) {
      out->mutable_inner_product_param()->set_num_output(v0.num_output());
    } else {
      refuse("num_output");
    }
  }
  if (v0.has_biasterm()) {
    if (conv) {
      out->mutable_convolution_param()->set_bias_term(v0.biasterm());
    } else if (inner_product) {
      out->mutable_inner_product_param()->set_bias_term(v0.biasterm());
    } else {
      refuse("biasterm");
    }
  }
  if (v0.has_weight_filler()) {
    if (conv) {
      *out->mutable_convolution_param()->mutable_weight_filler() = v0.weight_filler();
    } else if (inner_product) {
      *out->mutable_inner_product_param()->mutable_weight_filler() = v0.weight_filler();
    } else {
      refuse("weight_filler");
    }
  }
  if (v0.has_bias_filler()) {
    if (conv) {
      *out->mutable_convolution_param()->mutable_bias_filler() = v0.bias_filler();
    } else if (inner_product) {
      *out->mutable_inner_product_param()->mutable_bias_filler() = v0.bias_filler();
    } else {
      refuse("bias_filler");
    }
  }
  if (v0.has_pad()) {
    if (conv) {
      out->mutable_convolution_param()->add_pad(v0.pad());
    } else if (pool) {
      out->mutable_pooling_param()->set_pad(v0.pad());
    } else {
      refuse("pad");
    }
  }
  if (v0.has_kernelsize()) {
    if (conv) {
      out->mutable_convolution_param()->add_kernel_size(v0.kernelsize());
    } else if (pool) {
      out->mutable_pooling_param()->set_kernel_size(v0.kernelsize());
    } else {
      refuse("kernelsize");
    }
  }
  if (v0.has_group()) {
    if (conv) {
      out->mutable_convolution_param()->set_group(v0.group());
    } else {
      refuse("group");
    }
  }
  if (v0.has_stride()) {
    if (conv) {
      out->mutable_convolution_param()->add_stride(v0.stride());
    } else if (pool) {
      out->mutable_pooling_param()->set_stride(v0.stride());
    } else {
      refuse("stride");
    }
  }
  if (v0.has_pool()) {
    if (!pool) refuse("pool");
    switch (v0.pool()) {
      case V0LayerParameter::MAX:
        out->mutable_pooling_param()->set_pool(caffe::PoolingParameter::MAX);
        break;
      case V0LayerParameter::AVE:
        out->mutable_pooling_param()->set_pool(caffe::PoolingParameter::AVE);
        break;
      case V0LayerParameter::STOCHASTIC:
        out->mutable_pooling_param()->set_pool(caffe::PoolingParameter::STOCHASTIC);
        break;
    }
  }
  if (v0.has_dropout_ratio()) {
    if (type != "dropout") refuse("dropout_ratio");
    out->mutable_dropout_param()->set_dropout_ratio(v0.dropout_ratio());
  }
  const bool lrn = type == "lrn";
  if (v0.has_local_size()) {
    if (!lrn) refuse("local_size");
    out->mutable_lrn_param()->set_local_size(v0.local_size());
  }
  if (v0.has_alpha()) {
    if (!lrn) refuse("alpha");
    out->mutable_lrn_param()->set_alpha(v0.alpha());
  }
  if (v0.has_beta()) {
    if (!lrn) refuse("beta");
    out->mutable_lrn_param()->set_beta(v0.beta());
  }
  if (v0.has_k()) {
    if (!lrn) refuse("k");
    out->mutable_lrn_param()->set_k(v0.k());
  }
  if (v0.has_source()) {
    if (data) {
      out->mutable_data_param()->set_source(v0.source());
    } else if (hdf5) {
      out->mutable_hdf5_data_param()->set_source(v0.source());
    } else if (images) {
      out->mutable_image_data_param()->set_source(v0.source());
    } else if (window) {
      out->mutable_window_data_param()->set_source(v0.source());
    } else if (type == "infogain_loss") {
      out->mutable_infogain_loss_param()->set_source(v0.source());
    } else {
      refuse("source");
    }
  }
  if (v0.has_batchsize()) {
    if (data) {
      out->mutable_data_param()->set_batch_size(v0.batchsize());
    } else if (hdf5) {
      out->mutable_hdf5_data_param()->set_batch_size(v0.batchsize());
    } else if (images) {
      out->mutable_image_data_param()->set_batch_size(v0.batchsize());
    } else if (window) {
      out->mutable_window_data_param()->set_batch_size(v0.batchsize());
    } else {
      refuse("batchsize");
    }
  }
  if (v0.has_rand_skip()) {
    if (data) {
      out->mutable_data_param()->set_rand_skip(v0.rand_skip());
    } else if (images) {
      out->mutable_image_data_param()->set_rand_skip(v0.rand_skip());
    } else {
      refuse("rand_skip");
    }
  }
  // The image transformation fields go straight to transform_param, where the
  // data-transformation upgrade would move them anyway.
  const bool transforms = data || images || window;
  if (v0.has_scale()) {
    if (!transforms) refuse("scale");
    out->mutable_transform_param()->set_scale(v0.scale());
  }
  if (v0.has_meanfile()) {
    if (!transforms) refuse("meanfile");
    out->mutable_transform_param()->set_mean_file(v0.meanfile());
  }
  if (v0.has_cropsize()) {
    if (!transforms) refuse("cropsize");
    out->mutable_transform_param()->set_crop_size(v0.cropsize());
  }
  if (v0.has_mirror()) {
    if (!transforms) refuse("mirror");
    out->mutable_transform_param()->set_mirror(v0.mirror());
  }
  if (v0.has_shuffle_images()) {
    if (!images) refuse("shuffle_images");
    out->mutable_image_data_param()->set_shuffle(v0.shuffle_images());
  }
  if (v0.has_new_height()) {
    if (!images) refuse("new_height");
    out->mutable_image_data_param()->set_new_height(static_cast<uint32_t>(v0.new_height()));
  }
  if (v0.has_new_width()) {
    if (!images) refuse("new_width");
    out->mutable_image_data_param()->set_new_width(static_cast<uint32_t>(v0.new_width()));
  }
  // No layer type of any format reads these two.
  if (v0.has_new_num()) refuse("new_num");
  if (v0.has_new_channels()) refuse("new_channels");
  if (v0.has_concat_dim()) {
    if (type != "concat") refuse("concat_dim");
    out->mutable_concat_param()->set_concat_dim(v0.concat_dim());
  }
  if (v0.has_det_fg_threshold()) {
    if (!window) refuse("det_fg_threshold");
    out->mutable_window_data_param()->set_fg_threshold(v0.det_fg_threshold());
  }
  if (v0.has_det_bg_threshold()) {
    if (!window) refuse("det_bg_threshold");
    out->mutable_window_data_param()->set_bg_threshold(v0.det_bg_threshold());
  }
  if (v0.has_det_fg_fraction()) {
    if (!window) refuse("det_fg_fraction");
    out->mutable_window_data_param()->set_fg_fraction(v0.det_fg_fraction());
  }
  if (v0.has_det_context_pad()) {
    if (!window) refuse("det_context_pad");
    out->mutable_window_data_param()->set_context_pad(v0.det_context_pad());
  }
  if (v0.has_det_crop_mode()) {
    if (!window) refuse("det_crop_mode");
    out->mutable_window_data_param()->set_crop_mode(v0.det_crop_mode());
  }
  if (v0.has_hdf5_output_param()) {
    if (type != "hdf5_output") refuse("hdf5_output_param");
    *out->mutable_hdf5_output_param() = v0.hdf5_output_param();
  }
}

void UpgradeV0ToV1(const std::string& source, NetParameter* param) {
  FoldV0PaddingLayers(source, param);
  for (V1LayerParameter& entry : *param->mutable_layers()) {
    if (entry.has_layer()) UpgradeV0Layer(source, &entry);  // others are V1 already
  }
}

// ---------------------------------------------------------------------------------------
// Data-transformation fields → transform_param
// ---------------------------------------------------------------------------------------

// Moves the deprecated fields of one data-layer parameter (DataParameter, ImageDataParameter
// and WindowDataParameter all name them alike) into `transform`. Returns true when any moved.
template <typename DataParam>
bool MoveTransformFields(DataParam* data, caffe::TransformationParameter* transform) {
  bool moved = false;
  if (data->has_scale()) {
    transform->set_scale(data->scale());
    data->clear_scale();
    moved = true;
  }
  if (data->has_mean_file()) {
    transform->set_mean_file(data->mean_file());
    data->clear_mean_file();
    moved = true;
  }
  if (data->has_crop_size()) {
    transform->set_crop_size(data->crop_size());
    data->clear_crop_size();
    moved = true;
  }
  if (data->has_mirror()) {
    transform->set_mirror(data->mirror());
    data->clear_mirror();
    moved = true;
  }
  return moved;
}

template <typename DataParam>
bool HasTransformFields(const DataParam& data) {
  return data.has_scale() || data.has_mean_file() || data.has_crop_size() || data.has_mirror();
}

bool V1LayerNeedsDataUpgrade(const V1LayerParameter& layer) {
  switch (layer.type()) {
    case V1LayerParameter::DATA:
      return HasTransformFields(layer.data_param());
    case V1LayerParameter::IMAGE_DATA:
      return HasTransformFields(layer.image_data_param());
    case V1LayerParameter::WINDOW_DATA:
      return HasTransformFields(layer.window_data_param());
    default:
      return false;
  }
}

void UpgradeDataTransformation(NetParameter* param) {
  for (V1LayerParameter& layer : *param->mutable_layers()) {
    if (!V1LayerNeedsDataUpgrade(layer)) continue;
    caffe::TransformationParameter* transform = layer.mutable_transform_param();
    switch (layer.type()) {
      case V1LayerParameter::DATA:
        MoveTransformFields(layer.mutable_data_param(), transform);
        break;
      case V1LayerParameter::IMAGE_DATA:
        MoveTransformFields(layer.mutable_image_data_param(), transform);
        break;
      case V1LayerParameter::WINDOW_DATA:
        MoveTransformFields(layer.mutable_window_data_param(), transform);
        break;
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// V1 → current
// ---------------------------------------------------------------------------------------

// The registry type string of a V1 enum value; empty for NONE.
std::string V1TypeToString(V1LayerParameter::LayerType type) {
  switch (type) {
    case V1LayerParameter::NONE: return "";
    case V1LayerParameter::ABSVAL: return "AbsVal";
    case V1LayerParameter::ACCURACY: return "Accuracy";
    case V1LayerParameter::ARGMAX: return "ArgMax";
    case V1LayerParameter::BNLL: return "BNLL";
    case V1LayerParameter::CONCAT: return "Concat";
    case V1LayerParameter::CONTRASTIVE_LOSS: return "ContrastiveLoss";
    case V1LayerParameter::CONVOLUTION: return "Convolution";
    case V1LayerParameter::DATA: return "Data";
    case V1LayerParameter::DECONVOLUTION: return "Deconvolution";
    case V1LayerParameter::DROPOUT: return "Dropout";
    case V1LayerParameter::DUMMY_DATA: return "DummyData";
    case V1LayerParameter::EUCLIDEAN_LOSS: return "EuclideanLoss";
    case V1LayerParameter::ELTWISE: return "Eltwise";
    case V1LayerParameter::EXP: return "Exp";
    case V1LayerParameter::FLATTEN: return "Flatten";
    case V1LayerParameter::HDF5_DATA: return "HDF5Data";
    case V1LayerParameter::HDF5_OUTPUT: return "HDF5Output";
    case V1LayerParameter::HINGE_LOSS: return "HingeLoss";
    case V1LayerParameter::IM2COL: return "Im2col";
    case V1LayerParameter::IMAGE_DATA: return "ImageData";
    case V1LayerParameter::INFOGAIN_LOSS: return "InfogainLoss";
    case V1LayerParameter::INNER_PRODUCT: return "InnerProduct";
    case V1LayerParameter::LRN: return "LRN";
    case V1LayerParameter::MEMORY_DATA: return "MemoryData";
    case V1LayerParameter::MULTINOMIAL_LOGISTIC_LOSS: return "MultinomialLogisticLoss";
    case V1LayerParameter::MVN: return "MVN";
    case V1LayerParameter::POOLING: return "Pooling";
    case V1LayerParameter::POWER: return "Power";
    case V1LayerParameter::RELU: return "ReLU";
    case V1LayerParameter::SIGMOID: return "Sigmoid";
    case V1LayerParameter::SIGMOID_CROSS_ENTROPY_LOSS: return "SigmoidCrossEntropyLoss";
    case V1LayerParameter::SILENCE: return "Silence";
    case V1LayerParameter::SOFTMAX: return "Softmax";
    case V1LayerParameter::SOFTMAX_LOSS: return "SoftmaxWithLoss";
    case V1LayerParameter::SPLIT: return "Split";
    case V1LayerParameter::SLICE: return "Slice";
    case V1LayerParameter::TANH: return "TanH";
    case V1LayerParameter::WINDOW_DATA: return "WindowData";
    case V1LayerParameter::THRESHOLD: return "Threshold";
  }
  return "";  // unreachable: a proto2 enum field only holds declared values
}

// Returns out->param(index), adding default ParamSpecs up to it.
caffe::ParamSpec* ParamAt(caffe::LayerParameter* out, int index) {
  while (out->param_size() <= index) out->add_param();
  return out->mutable_param(index);
}

// Fills `out` from `*v1`, moving the blobs out of `*v1`.
void UpgradeV1Layer(const std::string& source, V1LayerParameter* v1_in,
                    caffe::LayerParameter* out) {
  const V1LayerParameter& v1 = *v1_in;
  CREMA_REQUIRE(!v1.has_layer(), source, ": layer '", v1.name(),
                "' still holds a V0 definition after the V0 upgrade");
  out->Clear();
  if (v1.has_name()) out->set_name(v1.name());
  if (v1.has_type() && v1.type() != V1LayerParameter::NONE) {
    out->set_type(V1TypeToString(v1.type()));
  }
  for (const std::string& bottom : v1.bottom()) out->add_bottom(bottom);
  for (const std::string& top : v1.top()) out->add_top(top);
  for (const caffe::NetStateRule& rule : v1.include()) *out->add_include() = rule;
  for (const caffe::NetStateRule& rule : v1.exclude()) *out->add_exclude() = rule;
  out->mutable_blobs()->Swap(v1_in->mutable_blobs());
  for (int i = 0; i < v1.param_size(); ++i) ParamAt(out, i)->set_name(v1.param(i));
  for (int i = 0; i < v1.blob_share_mode_size(); ++i) {
    ParamAt(out, i)->set_share_mode(v1.blob_share_mode(i) == V1LayerParameter::PERMISSIVE
                                        ? caffe::ParamSpec::PERMISSIVE
                                        : caffe::ParamSpec::STRICT);
  }
  for (int i = 0; i < v1.blobs_lr_size(); ++i) ParamAt(out, i)->set_lr_mult(v1.blobs_lr(i));
  for (int i = 0; i < v1.weight_decay_size(); ++i) {
    ParamAt(out, i)->set_decay_mult(v1.weight_decay(i));
  }
  for (float weight : v1.loss_weight()) out->add_loss_weight(weight);

  if (v1.has_transform_param()) *out->mutable_transform_param() = v1.transform_param();
  if (v1.has_loss_param()) *out->mutable_loss_param() = v1.loss_param();
  if (v1.has_accuracy_param()) *out->mutable_accuracy_param() = v1.accuracy_param();
  if (v1.has_argmax_param()) *out->mutable_argmax_param() = v1.argmax_param();
  if (v1.has_concat_param()) *out->mutable_concat_param() = v1.concat_param();
  if (v1.has_contrastive_loss_param()) {
    *out->mutable_contrastive_loss_param() = v1.contrastive_loss_param();
  }
  if (v1.has_convolution_param()) *out->mutable_convolution_param() = v1.convolution_param();
  if (v1.has_data_param()) *out->mutable_data_param() = v1.data_param();
  if (v1.has_dropout_param()) *out->mutable_dropout_param() = v1.dropout_param();
  if (v1.has_dummy_data_param()) *out->mutable_dummy_data_param() = v1.dummy_data_param();
  if (v1.has_eltwise_param()) *out->mutable_eltwise_param() = v1.eltwise_param();
  if (v1.has_exp_param()) *out->mutable_exp_param() = v1.exp_param();
  if (v1.has_hdf5_data_param()) *out->mutable_hdf5_data_param() = v1.hdf5_data_param();
  if (v1.has_hdf5_output_param()) *out->mutable_hdf5_output_param() = v1.hdf5_output_param();
  if (v1.has_hinge_loss_param()) *out->mutable_hinge_loss_param() = v1.hinge_loss_param();
  if (v1.has_image_data_param()) *out->mutable_image_data_param() = v1.image_data_param();
  if (v1.has_infogain_loss_param()) {
    *out->mutable_infogain_loss_param() = v1.infogain_loss_param();
  }
  if (v1.has_inner_product_param()) {
    *out->mutable_inner_product_param() = v1.inner_product_param();
  }
  if (v1.has_lrn_param()) *out->mutable_lrn_param() = v1.lrn_param();
  if (v1.has_memory_data_param()) *out->mutable_memory_data_param() = v1.memory_data_param();
  if (v1.has_mvn_param()) *out->mutable_mvn_param() = v1.mvn_param();
  if (v1.has_pooling_param()) *out->mutable_pooling_param() = v1.pooling_param();
  if (v1.has_power_param()) *out->mutable_power_param() = v1.power_param();
  if (v1.has_relu_param()) *out->mutable_relu_param() = v1.relu_param();
  if (v1.has_sigmoid_param()) *out->mutable_sigmoid_param() = v1.sigmoid_param();
  if (v1.has_softmax_param()) *out->mutable_softmax_param() = v1.softmax_param();
  if (v1.has_slice_param()) *out->mutable_slice_param() = v1.slice_param();
  if (v1.has_tanh_param()) *out->mutable_tanh_param() = v1.tanh_param();
  if (v1.has_threshold_param()) *out->mutable_threshold_param() = v1.threshold_param();
  if (v1.has_window_data_param()) *out->mutable_window_data_param() = v1.window_data_param();
}

void UpgradeV1ToV2(const std::string& source, NetParameter* param) {
  if (param->layer_size() > 0) {
    throw InvalidArgument(StrCat(
        source, ": the net mixes 'layer' and 'layers' entries; write every layer in the "
                "current form 'layer { type: \"Convolution\" ... }' instead of the deprecated "
                "'layers { type: CONVOLUTION ... }'"));
  }
  for (V1LayerParameter& v1 : *param->mutable_layers()) {
    UpgradeV1Layer(source, &v1, param->add_layer());
  }
  param->clear_layers();
}

// ---------------------------------------------------------------------------------------
// Net inputs → Input layer
// ---------------------------------------------------------------------------------------

void UpgradeInputs(const std::string& source, NetParameter* param) {
  const int num_inputs = param->input_size();
  const bool has_shape = param->input_shape_size() > 0;
  const bool has_dim = param->input_dim_size() > 0;
  CREMA_REQUIRE(!(has_shape && has_dim), source,
                ": the net gives both input_shape and input_dim; give one of them");
  CREMA_REQUIRE(num_inputs > 0 || !(has_shape || has_dim), source, ": the net gives ",
                has_shape ? "input_shape" : "input_dim", " but no input names");
  CREMA_REQUIRE(!has_shape || param->input_shape_size() == num_inputs, source, ": the net has ",
                num_inputs, " inputs but ", param->input_shape_size(),
                " input_shape entries; give one per input");
  CREMA_REQUIRE(!has_dim || param->input_dim_size() == 4 * num_inputs, source, ": the net has ",
                num_inputs, " inputs but ", param->input_dim_size(),
                " input_dim values; give four (num, channels, height, width) per input");
  if (has_shape || has_dim) {
    caffe::LayerParameter input;
    input.set_name("input");
    input.set_type("Input");
    for (int i = 0; i < num_inputs; ++i) {
      input.add_top(param->input(i));
      caffe::BlobShape* shape = input.mutable_input_param()->add_shape();
      if (has_shape) {
        *shape = param->input_shape(i);
      } else {
        for (int j = 0; j < 4; ++j) shape->add_dim(param->input_dim(4 * i + j));
      }
    }
    // Put it first: every other layer may read its tops.
    auto* layers = param->mutable_layer();
    *layers->Add() = std::move(input);
    for (int i = layers->size() - 1; i > 0; --i) layers->SwapElements(i, i - 1);
  }
  // Bare names without dims (as old Net::ToProto wrote into caffemodels) carry nothing.
  param->clear_input();
  param->clear_input_shape();
  param->clear_input_dim();
}

// ---------------------------------------------------------------------------------------
// BatchNorm parameter specs
// ---------------------------------------------------------------------------------------

// The statistics blobs of BatchNorm are not learned; the old definition asked users to
// declare three param specs with lr_mult 0, and files that did not are fixed up here.
bool BatchNormLayerNeedsUpgrade(const caffe::LayerParameter& layer) {
  if (layer.type() != "BatchNorm" || layer.param_size() != 3) return false;
  for (const caffe::ParamSpec& spec : layer.param()) {
    if (spec.lr_mult() != 0.f || spec.decay_mult() != 0.f) return true;
  }
  return false;
}

}  // namespace

bool NetNeedsV0ToV1Upgrade(const NetParameter& param) {
  for (const V1LayerParameter& layer : param.layers()) {
    if (layer.has_layer()) return true;
  }
  return false;
}

bool NetNeedsV1ToV2Upgrade(const NetParameter& param) { return param.layers_size() > 0; }

bool NetNeedsDataUpgrade(const NetParameter& param) {
  for (const V1LayerParameter& layer : param.layers()) {
    if (V1LayerNeedsDataUpgrade(layer)) return true;
  }
  return false;
}

bool NetNeedsInputUpgrade(const NetParameter& param) {
  return param.input_size() > 0 || param.input_shape_size() > 0 || param.input_dim_size() > 0;
}

bool NetNeedsBatchNormUpgrade(const NetParameter& param) {
  for (const caffe::LayerParameter& layer : param.layer()) {
    if (BatchNormLayerNeedsUpgrade(layer)) return true;
  }
  return false;
}

bool SolverNeedsTypeUpgrade(const caffe::SolverParameter& param) {
  return param.has_solver_type();
}

bool UpgradeNetAsNeeded(const std::string& source, NetParameter* param) {
  bool changed = false;
  if (NetNeedsV0ToV1Upgrade(*param)) {
    UpgradeV0ToV1(source, param);
    LOG(INFO) << source << ": upgraded V0 layers to the V1 format (legacy file)";
    changed = true;
  }
  if (NetNeedsDataUpgrade(*param)) {
    UpgradeDataTransformation(param);
    LOG(INFO) << source
              << ": moved deprecated scale/mean_file/crop_size/mirror fields of data layers "
                 "into transform_param (legacy file)";
    changed = true;
  }
  if (NetNeedsV1ToV2Upgrade(*param)) {
    UpgradeV1ToV2(source, param);
    LOG(INFO) << source << ": upgraded V1 layers to the current format (legacy file)";
    changed = true;
  }
  if (NetNeedsInputUpgrade(*param)) {
    const bool had_dims = param->input_shape_size() > 0 || param->input_dim_size() > 0;
    UpgradeInputs(source, param);
    if (had_dims) {
      LOG(INFO) << source
                << ": turned the deprecated input/input_shape/input_dim fields into an Input "
                   "layer named \"input\" (legacy file)";
    } else {
      LOG(INFO) << source << ": dropped deprecated input names that carry no shape";
    }
    changed = true;
  }
  if (NetNeedsBatchNormUpgrade(*param)) {
    for (caffe::LayerParameter& layer : *param->mutable_layer()) {
      if (!BatchNormLayerNeedsUpgrade(layer)) continue;
      for (caffe::ParamSpec& spec : *layer.mutable_param()) {
        spec.set_lr_mult(0.f);
        spec.set_decay_mult(0.f);
      }
      LOG(INFO) << source << ": set lr_mult and decay_mult to 0 for the three statistics "
                << "blobs of BatchNorm layer '" << layer.name() << "' (legacy definition)";
    }
    changed = true;
  }
  return changed;
}

bool UpgradeSolverAsNeeded(const std::string& source, caffe::SolverParameter* param) {
  bool changed = false;
  if (SolverNeedsTypeUpgrade(*param)) {
    static const char* const kTypes[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta",
                                         "Adam"};
    const int index = static_cast<int>(param->solver_type());
    CREMA_REQUIRE(index >= 0 && index < 6, source, ": unknown solver_type ", index);
    const std::string type = kTypes[index];
    CREMA_REQUIRE(!param->has_type() || param->type() == type, source,
                  ": the solver sets both solver_type (", type, ") and type (\"", param->type(),
                  "\"); remove the deprecated solver_type");
    param->clear_solver_type();
    param->set_type(type);
    LOG(INFO) << source << ": upgraded deprecated solver_type to type: \"" << type << "\"";
    changed = true;
  }
  // Nets written inline in the solver get the same treatment as net files.
  if (param->has_net_param()) {
    changed |= UpgradeNetAsNeeded(source + " (net_param)", param->mutable_net_param());
  }
  if (param->has_train_net_param()) {
    changed |= UpgradeNetAsNeeded(source + " (train_net_param)", param->mutable_train_net_param());
  }
  for (int i = 0; i < param->test_net_param_size(); ++i) {
    changed |= UpgradeNetAsNeeded(StrCat(source, " (test_net_param ", i, ")"),
                                  param->mutable_test_net_param(i));
  }
  return changed;
}

}  // namespace crema

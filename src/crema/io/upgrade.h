// Bringing legacy Caffe files up to the current format, on every read.
//
// Nets, in this order:
//   1. V0 → V1: `layers` entries holding a nested V0 `layer` get their fields moved to the V1
//      per-type parameters (num_output → convolution_param / inner_product_param, pool →
//      pooling_param, source/batchsize → data_param / image_data_param / window_data_param /
//      hdf5_data_param, scale/meanfile/cropsize/mirror → transform_param, ...). A V0
//      "padding" layer is removed and its pad given to the conv or pool layer that reads it.
//   2. Data transformation: scale/mean_file/crop_size/mirror inside data_param,
//      image_data_param or window_data_param of V1 data layers move to transform_param.
//   3. V1 → current: `layers` (enum types) become `layer` (type strings, SOFTMAX_LOSS →
//      "SoftmaxWithLoss"); blobs_lr / weight_decay / param / blob_share_mode become
//      param[i].lr_mult / decay_mult / name / share_mode.
//   4. Inputs: top-level `input` with `input_shape` (one per input) or `input_dim` (four per
//      input) becomes an Input layer named "input" placed first; bare `input` names without
//      any dims (old caffemodels) are dropped.
//   5. BatchNorm: a BatchNorm layer with exactly 3 param specs gets lr_mult = decay_mult = 0
//      on each.
// Solvers: the `solver_type` enum becomes the `type` string; nets given inline (net_param,
// train_net_param, test_net_param) are upgraded as above.
// Every upgrade that happens is logged (LOG(INFO)) with `source`, the file's name.
//
// Errors (all InvalidArgument, the message starting with `source`): a net that mixes `layer`
// and `layers`; a V0 layer of unknown type, or setting a field its type does not take
// (naming the layer and the field); a V0 padding layer that does not feed exactly one-bottom
// conv/pool layers; inconsistent input fields (both input_shape and input_dim, counts that do
// not match the inputs, dims without names); a solver whose solver_type and type disagree.
// On error `param` is left partly upgraded and must be discarded.
//
// Thread-safety: the functions are pure apart from logging; call them on distinct messages
// from any thread.
#ifndef CREMA_IO_UPGRADE_H_
#define CREMA_IO_UPGRADE_H_

#include <string>

#include "crema/proto/caffe.pb.h"

namespace crema {

// Upgrades `param` in place. Returns true when anything was changed (a log line says what),
// false for a file already in the current format.
bool UpgradeNetAsNeeded(const std::string& source, caffe::NetParameter* param);
bool UpgradeSolverAsNeeded(const std::string& source, caffe::SolverParameter* param);

// Whether each step of the chain has work to do (the BatchNorm check is true only when some
// of the three specs is not already lr_mult = decay_mult = 0).
bool NetNeedsV0ToV1Upgrade(const caffe::NetParameter& param);
bool NetNeedsV1ToV2Upgrade(const caffe::NetParameter& param);
bool NetNeedsDataUpgrade(const caffe::NetParameter& param);
bool NetNeedsInputUpgrade(const caffe::NetParameter& param);
bool NetNeedsBatchNormUpgrade(const caffe::NetParameter& param);
bool SolverNeedsTypeUpgrade(const caffe::SolverParameter& param);

}  // namespace crema

#endif  // CREMA_IO_UPGRADE_H_

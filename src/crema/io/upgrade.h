// Bringing legacy Caffe files up to the current format, on every read.
//
// Nets: V0 layers (NetParameter.layers[].layer) → V1; data-transformation fields inside data
// parameters (scale, mean_file, crop_size, mirror) → transform_param; V1 `layers` → `layer`
// with type strings, blobs_lr/weight_decay → ParamSpec lr_mult/decay_mult; top-level
// `input`/`input_shape`/`input_dim` → an Input layer named "input" placed first; BatchNorm
// layers' param specs → lr_mult = decay_mult = 0. Solvers: the `solver_type` enum → `type`.
//
// Errors: InvalidArgument naming `source` (the file) for a net that mixes `layer` and
// `layers`, inconsistent input fields, a solver that sets both solver_type and type, or a V0/V1
// layer that cannot be expressed in the current format.
#ifndef CREMA_IO_UPGRADE_H_
#define CREMA_IO_UPGRADE_H_

#include <string>

#include "crema/proto/caffe.pb.h"

namespace crema {

// Upgrades `param` in place. Returns true when anything was changed (a log line says what).
bool UpgradeNetAsNeeded(const std::string& source, caffe::NetParameter* param);
bool UpgradeSolverAsNeeded(const std::string& source, caffe::SolverParameter* param);

// The individual steps, for tests and for tools that upgrade files.
bool NetNeedsV0ToV1Upgrade(const caffe::NetParameter& param);
bool NetNeedsV1ToV2Upgrade(const caffe::NetParameter& param);
bool NetNeedsDataUpgrade(const caffe::NetParameter& param);
bool NetNeedsInputUpgrade(const caffe::NetParameter& param);
bool NetNeedsBatchNormUpgrade(const caffe::NetParameter& param);
bool SolverNeedsTypeUpgrade(const caffe::SolverParameter& param);

}  // namespace crema

#endif  // CREMA_IO_UPGRADE_H_

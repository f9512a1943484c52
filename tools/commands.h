// The subcommands of the `crema` tool and what they share.
//
// Every command takes the positional arguments left after flag parsing (the command name
// removed) and returns the process exit status. Commands throw crema::Error for user
// mistakes; main() turns it into one line on stderr and exit status 1.
#ifndef CREMA_TOOLS_COMMANDS_H_
#define CREMA_TOOLS_COMMANDS_H_

#include <gflags/gflags.h>

#include <string>
#include <vector>

#include "crema/proto/caffe.pb.h"

DECLARE_string(solver);
DECLARE_string(model);
DECLARE_string(weights);
DECLARE_string(snapshot);
DECLARE_string(gpu);
DECLARE_int32(iterations);
DECLARE_string(phase);
DECLARE_int32(level);
DECLARE_string(stage);
DECLARE_string(sigint_effect);
DECLARE_string(sighup_effect);
DECLARE_string(metrics);
DECLARE_int32(threads);
// The distributed runtime.
DECLARE_string(sync);
DECLARE_double(bucket_mb);
DECLARE_bool(global_batch);
DECLARE_double(sync_timeout);
DECLARE_double(startup_timeout);
DECLARE_string(connection);
// Outputs of test and features.
DECLARE_string(output);
// features.
DECLARE_string(features);
DECLARE_string(label);
DECLARE_string(outputFormat);
// Dataset tools (convert, mean).
DECLARE_string(backend);
DECLARE_bool(gray);
DECLARE_bool(shuffle);
DECLARE_int32(resize_width);
DECLARE_int32(resize_height);
DECLARE_bool(check_size);
DECLARE_bool(encoded);
DECLARE_string(encode_type);
DECLARE_string(cifar_label);

namespace crema::tools {

using Args = std::vector<std::string>;

int Train(const Args& args);
// Trains with -solver; when `model_out` is not empty, snapshots go to its directory and the
// final model is also written to `model_out` (CaffeOnSpark's -model).
int TrainTo(const std::string& model_out);
// CaffeOnSpark's spelling (`crema -train -conf S -model M -features …`), see cos_command.cpp.
bool CaffeOnSparkRequested();
int CaffeOnSpark();
int Test(const Args& args);
int Time(const Args& args);
int Info(const Args& args);
int Convert(const Args& args);
int Mean(const Args& args);
int Features(const Args& args);
// Legacy net/solver files to the current format (Caffe's upgrade_*_proto_* tools).
int Upgrade(const Args& args);

// Where `crema mean` writes when no OUTPUT is given.
inline constexpr char kDefaultMeanFile[] = "mean.binaryproto";
// Throws Unsupported for -backend leveldb and InvalidArgument for anything but lmdb.
void CheckBackendFlag();

// -stage "a,b" as a list.
std::vector<std::string> StagesFromFlag();
// Throws InvalidArgument when -gpu asks for a device (this build computes on CPU only).
void RequireCpuOnly();
// Reads a net prototxt and sets its state (phase, -level, -stage).
caffe::NetParameter ReadNetForPhase(const std::string& path, caffe::Phase phase);
// For info and time on a net whose datasets are not on this machine (a model-zoo
// train_val.prototxt): every Data, ImageData or HDF5Data layer whose source does not exist
// becomes an Input layer of the shape it would emit — batch_size × channels × crop (or
// new_height × new_width, or the mean file's shape) — plus a label of batch_size zeros.
// Throws NotFound naming the layer when its parameters do not give that shape.
void ReplaceMissingDataWithInputs(caffe::NetParameter* param);
// Comma-separated list as items (empty items dropped).
std::vector<std::string> SplitList(const std::string& list);

}  // namespace crema::tools

#endif  // CREMA_TOOLS_COMMANDS_H_

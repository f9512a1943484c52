#include <sstream>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"

namespace crema::tools {

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::vector<std::string> StagesFromFlag() { return SplitList(FLAGS_stage); }

void RequireCpuOnly() {
  if (!FLAGS_gpu.empty()) {
    throw Unsupported(StrCat("-gpu ", FLAGS_gpu,
                             ": this build of crema computes on CPU only; omit -gpu"));
  }
}

caffe::NetParameter ReadNetForPhase(const std::string& path, caffe::Phase phase) {
  caffe::NetParameter param = ReadNetParamsFromTextFile(path);
  param.mutable_state()->set_phase(phase);
  param.mutable_state()->set_level(FLAGS_level);
  for (const std::string& stage : StagesFromFlag()) param.mutable_state()->add_stage(stage);
  return param;
}

}  // namespace crema::tools

// crema test: score a trained model, Caffe's `caffe test`.
#include <glog/logging.h>

#include <sstream>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/net/net.h"

namespace crema::tools {

int Test(const Args& args) {
  CREMA_REQUIRE(args.empty(), "unexpected argument '", args.empty() ? "" : args[0],
                "'; test takes flags only");
  CREMA_REQUIRE(!FLAGS_model.empty(), "test needs -model NET.prototxt");
  CREMA_REQUIRE(!FLAGS_weights.empty(), "test needs -weights MODEL.caffemodel");
  CREMA_REQUIRE(FLAGS_iterations > 0, "-iterations must be positive, got ", FLAGS_iterations);
  RequireCpuOnly();

  Net net(ReadNetForPhase(FLAGS_model, caffe::TEST));
  for (const std::string& file : SplitList(FLAGS_weights)) net.CopyTrainedLayersFromFile(file);
  LOG(INFO) << "Running for " << FLAGS_iterations << " iterations.";

  std::vector<double> scores;
  std::vector<int> score_blob;
  double loss = 0;
  for (int i = 0; i < FLAGS_iterations; ++i) {
    float iter_loss;
    const auto& result = net.Forward(&iter_loss);
    loss += iter_loss;
    size_t idx = 0;
    for (size_t j = 0; j < result.size(); ++j) {
      const float* values = result[j]->cpu_data();
      const std::string& name = net.blob_names()[net.output_blob_indices()[j]];
      for (int k = 0; k < result[j]->count(); ++k, ++idx) {
        if (i == 0) {
          scores.push_back(values[k]);
          score_blob.push_back(net.output_blob_indices()[j]);
        } else {
          scores[idx] += values[k];
        }
        LOG(INFO) << "Batch " << i << ", " << name << " = " << values[k];
      }
    }
  }
  LOG(INFO) << "Loss: " << loss / FLAGS_iterations;
  for (size_t i = 0; i < scores.size(); ++i) {
    const std::string& name = net.blob_names()[score_blob[i]];
    const float weight = net.blob_loss_weights()[score_blob[i]];
    const double mean = scores[i] / FLAGS_iterations;
    std::ostringstream loss_note;
    if (weight != 0.f) loss_note << " (* " << weight << " = " << weight * mean << " loss)";
    LOG(INFO) << name << " = " << mean << loss_note.str();
  }
  return 0;
}

}  // namespace crema::tools

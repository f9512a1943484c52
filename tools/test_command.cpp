// crema test: score a trained model, Caffe's `caffe test`.
#include <glog/logging.h>

#include <memory>
#include <sstream>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/data/shard.h"
#include "crema/io/proto_io.h"
#include "crema/net/net.h"
#include "crema/net/net_file.h"
#include "job.h"

namespace crema::tools {

int Test(const Args& args) {
  CREMA_REQUIRE(args.empty(), "unexpected argument '", args.empty() ? "" : args[0],
                "'; test takes flags only");
  CREMA_REQUIRE(!FLAGS_model.empty(), "test needs -model NET.prototxt");
  CREMA_REQUIRE(!FLAGS_weights.empty(), "test needs -weights MODEL.caffemodel");
  CREMA_REQUIRE(FLAGS_iterations > 0, "-iterations must be positive, got ", FLAGS_iterations);
  RequireCpuOnly();
  Communicator& job = Job();

  const std::unique_ptr<Net> built =
      BuildNetFromFile(FLAGS_model, ReadNetForPhase(FLAGS_model, caffe::TEST));
  Net& net = *built;
  net.PlanMemory({.training = false, .keep = {}});  // only the outputs are read
  net.FuseForInference();
  for (const std::string& file : SplitList(FLAGS_weights)) net.CopyTrainedLayersFromFile(file);
  // In a job each rank runs its share of the batches (its data layers read the matching
  // share of the test set) and the sums are added over ranks.
  const int64_t my_batches = ShareOfBatches(FLAGS_iterations, job.rank(), job.world_size());
  LOG(INFO) << "Running for " << FLAGS_iterations << " iterations"
            << (job.distributed() ? StrCat(" on ", job.world_size(), " ranks") : "") << ".";

  std::vector<double> sums;
  std::vector<int> score_blob;
  for (size_t j = 0; j < net.output_blobs().size(); ++j) {
    for (int k = 0; k < net.output_blobs()[j]->count(); ++k) {
      sums.push_back(0);
      score_blob.push_back(net.output_blob_indices()[j]);
    }
  }
  double loss = 0;
  for (int64_t i = 0; i < my_batches; ++i) {
    float iter_loss;
    const auto& result = net.Forward(&iter_loss);
    loss += iter_loss;
    size_t idx = 0;
    for (size_t j = 0; j < result.size(); ++j) {
      const float* values = result[j]->cpu_data();
      const std::string& name = net.blob_names()[net.output_blob_indices()[j]];
      for (int k = 0; k < result[j]->count(); ++k, ++idx) {
        sums[idx] += values[k];
        if (!job.distributed()) LOG(INFO) << "Batch " << i << ", " << name << " = " << values[k];
      }
    }
  }
  sums.push_back(loss);
  job.AllreduceSum(sums.data(), static_cast<int64_t>(sums.size()), "the sum of test outputs");
  loss = sums.back();
  sums.pop_back();
  LOG(INFO) << "Loss: " << loss / FLAGS_iterations;
  // name -> mean values, in output order (a blob may hold several values).
  std::vector<std::pair<std::string, std::vector<double>>> means;
  for (size_t i = 0; i < sums.size(); ++i) {
    const std::string& name = net.blob_names()[score_blob[i]];
    const float weight = net.blob_loss_weights()[score_blob[i]];
    const double mean = sums[i] / FLAGS_iterations;
    std::ostringstream loss_note;
    if (weight != 0.f) loss_note << " (* " << weight << " = " << weight * mean << " loss)";
    LOG(INFO) << name << " = " << mean << loss_note.str();
    if (means.empty() || means.back().first != name) means.push_back({name, {}});
    means.back().second.push_back(mean);
  }
  if (!gflags::GetCommandLineFlagInfoOrDie("output").is_default && job.rank() == 0) {
    // CaffeOnSpark's test result file: one "name: v1,v2,…" line per output blob.
    std::ostringstream text;
    text.precision(9);
    for (const auto& [name, values] : means) {
      text << name << ": ";
      for (size_t v = 0; v < values.size(); ++v) text << (v ? "," : "") << values[v];
      text << "\n";
    }
    WriteStringToFile(FLAGS_output, text.str());
    LOG(INFO) << "Test results written to " << FLAGS_output;
  }
  return 0;
}

}  // namespace crema::tools

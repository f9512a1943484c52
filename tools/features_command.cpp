// crema features: one record per sample of a dataset — its id and the values of chosen blobs —
// written as part files (docs/formats.md). In a job each rank writes the records of its shard
// to its own part; rank 0 marks the directory complete.
#include <glog/logging.h>

#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/data/feature_writer.h"
#include "crema/net/feature_extractor.h"
#include "crema/net/net.h"
#include "crema/net/net_file.h"
#include "job.h"

namespace crema::tools {

namespace {

// Removes the output directory when this run made it and fails: a failed run leaves nothing
// behind (part files are written under temporary names, removed by their writers first).
class RemoveMadeDirectoryOnFailure {
 public:
  explicit RemoveMadeDirectoryOnFailure(std::string dir)
      : dir_(std::move(dir)), existed_(std::filesystem::exists(dir_)) {}
  ~RemoveMadeDirectoryOnFailure() {
    if (existed_ || std::uncaught_exceptions() == 0) return;
    std::error_code ignored;
    std::filesystem::remove(dir_, ignored);  // only when empty
  }
  RemoveMadeDirectoryOnFailure(const RemoveMadeDirectoryOnFailure&) = delete;
  RemoveMadeDirectoryOnFailure& operator=(const RemoveMadeDirectoryOnFailure&) = delete;

 private:
  std::string dir_;
  bool existed_;
};

}  // namespace

int Features(const Args& args) {
  CREMA_REQUIRE(args.empty(), "unexpected argument '", args.empty() ? "" : args[0],
                "'; features takes flags only");
  CREMA_REQUIRE(!FLAGS_model.empty(), "features needs -model NET.prototxt");
  CREMA_REQUIRE(!FLAGS_weights.empty(), "features needs -weights MODEL.caffemodel");
  CREMA_REQUIRE(!SplitList(FLAGS_features).empty(),
                "features needs -features with the blobs to extract (e.g. -features ip1)");
  CREMA_REQUIRE(!FLAGS_output.empty(), "features needs -output DIR");
  RequireCpuOnly();
  const FeatureFormat format = ParseFeatureFormat(FLAGS_outputFormat);
  Communicator& job = Job();

  // Everything that can be refused is checked before the output directory is touched.
  caffe::NetParameter param = ReadNetForPhase(FLAGS_model, caffe::TEST);
  for (const std::string& layer : FeatureExtractor::DisableRandomSkips(&param)) {
    LOG(INFO) << "Layer '" << layer << "': rand_skip ignored, features read every sample once";
  }
  const std::unique_ptr<Net> built = BuildNetFromFile(FLAGS_model, param);
  Net& net = *built;
  FeatureExtractor extractor(&net, SplitList(FLAGS_features), FLAGS_label);
  std::vector<std::string> read_blobs = SplitList(FLAGS_features);
  if (!FLAGS_label.empty()) read_blobs.push_back(FLAGS_label);
  net.PlanMemory({.training = false, .keep = read_blobs});
  net.FuseForInference();
  for (const std::string& file : SplitList(FLAGS_weights)) net.CopyTrainedLayersFromFile(file);

  const std::string& dir = FLAGS_output;
  const RemoveMadeDirectoryOnFailure cleanup(dir);
  if (job.rank() == 0) {
    const int removed = PrepareFeatureDirectory(dir);
    if (removed > 0) LOG(INFO) << "Removed " << removed << " files of an earlier run from " << dir;
  }
  job.Barrier("preparing the output directory");
  if (job.rank() != 0) {
    // Already there on a shared file system; made here on a host-local one.
    std::error_code ignored;
    std::filesystem::create_directories(dir, ignored);
  }
  LOG(INFO) << extractor.data_layer().Describe() << ": " << extractor.samples()
            << " samples in " << extractor.batches() << " batches of " << extractor.batch_size()
            << (job.distributed() ? StrCat(" on rank ", job.rank()) : "");

  const std::string part =
      (std::filesystem::path(dir) / FeaturePartFileName(job.rank(), format)).string();
  const auto writer = FeatureWriter::Create(format, part, extractor.columns());
  const int64_t records = extractor.Run(writer.get());
  writer->Commit();
  if (extractor.skipped() > 0) {
    LOG(WARNING) << "Skipped " << extractor.skipped() << " samples the data layer could not read";
  }

  job.Barrier("writing the feature part files");
  std::vector<double> per_rank;
  job.GatherToRoot(static_cast<double>(records), &per_rank, "the count of feature records");
  if (job.rank() == 0) {
    MarkFeatureDirectoryComplete(dir);
    double total = 0;
    for (double n : per_rank) total += n;
    LOG(INFO) << "Wrote " << static_cast<int64_t>(total) << " feature records to " << dir << " ("
              << job.world_size() << " part file" << (job.world_size() == 1 ? "" : "s") << ", "
              << FLAGS_outputFormat << ")";
  }
  return 0;
}

}  // namespace crema::tools

// crema mean: the mean image of a dataset, Caffe's compute_image_mean.
//
//   crema mean [-backend lmdb] DB [OUTPUT]     OUTPUT defaults to mean.binaryproto
#include <glog/logging.h>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/data/image_mean.h"
#include "crema/data/lmdb_dataset.h"
#include "crema/io/proto_io.h"

namespace crema::tools {

int Mean(const Args& args) {
  CREMA_REQUIRE(args.size() == 1 || args.size() == 2,
                "usage: crema mean [-backend lmdb] DB [OUTPUT] (OUTPUT defaults to ",
                kDefaultMeanFile, "; got ", args.size(), " arguments)");
  CheckBackendFlag();
  const std::string output = args.size() == 2 ? args[1] : kDefaultMeanFile;
  LmdbReader reader(args[0]);
  const ImageMean mean = ComputeImageMean(&reader);
  LOG(INFO) << "Processed " << mean.count << " files.";
  WriteBinaryProto(output, mean.blob);
  LOG(INFO) << "Write to " << output;
  LOG(INFO) << "Number of channels: " << mean.channel_means.size();
  for (size_t c = 0; c < mean.channel_means.size(); ++c) {
    LOG(INFO) << "mean_value channel [" << c << "]: " << mean.channel_means[c];
  }
  return 0;
}

}  // namespace crema::tools

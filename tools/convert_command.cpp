// crema convert: dataset converters that write Caffe-format LMDBs.
#include <glog/logging.h>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/data/mnist.h"

namespace crema::tools {

int Convert(const Args& args) {
  CREMA_REQUIRE(!args.empty(), "convert needs a format: crema convert mnist IMAGES LABELS DB");
  const std::string& format = args[0];
  if (format == "mnist") {
    CREMA_REQUIRE(args.size() == 4, "usage: crema convert mnist IMAGES LABELS DB (got ",
                  args.size() - 1, " arguments)");
    const int64_t count = ConvertMnist(args[1], args[2], args[3]);
    LOG(INFO) << "Wrote " << count << " items to " << args[3];
    return 0;
  }
  throw InvalidArgument(StrCat("unknown format '", format, "' (known: mnist)"));
}

}  // namespace crema::tools

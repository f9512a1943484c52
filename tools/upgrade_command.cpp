// crema upgrade: Caffe's upgrade_net_proto_text, upgrade_net_proto_binary and
// upgrade_solver_proto_text in one command.
//
//   crema upgrade net-text IN.prototxt OUT.prototxt       a V0/V1 net definition
//   crema upgrade net-binary IN.caffemodel OUT.caffemodel a V0/V1 trained model
//   crema upgrade solver-text IN.prototxt OUT.prototxt    solver_type enum → type string
//
// The input is read as it is (no defaults added), brought to the current format by
// io/upgrade.h and written in the same encoding. A file already current is written unchanged
// (with a note), as Caffe's tools do. OUT may equal IN: the output goes to a temporary file
// renamed into place, so the input is replaced only by a complete result.
#include <glog/logging.h>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/io/upgrade.h"

namespace crema::tools {

namespace {

constexpr char kUsage[] =
    "usage: crema upgrade net-text|net-binary|solver-text IN OUT (OUT may be IN)";

void Report(bool upgraded, const std::string& in, const std::string& out,
            const std::string& what) {
  if (!upgraded) LOG(INFO) << in << " is already in the current format; copying it";
  LOG(INFO) << "Wrote upgraded " << what << " to " << out;
}

}  // namespace

int Upgrade(const Args& args) {
  CREMA_REQUIRE(args.size() == 3, kUsage, " (got ", args.size(), " arguments)");
  const std::string& kind = args[0];
  const std::string& in = args[1];
  const std::string& out = args[2];
  if (kind == "net-text") {
    caffe::NetParameter net;
    ReadTextProto(in, &net);
    const bool upgraded = UpgradeNetAsNeeded(in, &net);
    WriteTextProto(out, net);
    Report(upgraded, in, out, "NetParameter text proto");
  } else if (kind == "net-binary") {
    caffe::NetParameter net;
    ReadBinaryProto(in, &net);
    const bool upgraded = UpgradeNetAsNeeded(in, &net);
    WriteBinaryProto(out, net);
    Report(upgraded, in, out, "NetParameter binary proto");
  } else if (kind == "solver-text") {
    caffe::SolverParameter solver;
    ReadTextProto(in, &solver);
    const bool upgraded = UpgradeSolverAsNeeded(in, &solver);
    WriteTextProto(out, solver);
    Report(upgraded, in, out, "SolverParameter text proto");
  } else {
    throw InvalidArgument(StrCat("unknown upgrade '", kind, "'; ", kUsage));
  }
  return 0;
}

}  // namespace crema::tools

// Reading a net definition from a prototxt file, for every command and the solver.
//
// ReadNetFile parses the file, upgrades a legacy net (V0, V1, old data-transform fields,
// top-level inputs) to the current format, and checks that Crema has every layer type it
// names before any layer is built, so an unknown type is reported where it is written:
//
//   net.prototxt:42: layer 'foo' has unknown type 'Fancy' (known types: AbsVal, Accuracy, …)
//
// Errors: IOError for an unreadable file or a directory, InvalidArgument (file:line:column)
// for a syntax error or "file: the net has no layers", NotFound (file:line) for an unknown
// layer type.
//
// BuildNetFromFile builds the Net and says where in the file a layer that cannot be built is
// written:
//
//   net.prototxt:7: Layer 'conv' (Convolution): group 2 does not divide the 3 input channels
#ifndef CREMA_NET_NET_FILE_H_
#define CREMA_NET_NET_FILE_H_

#include <memory>
#include <string>

#include "crema/net/net.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

caffe::NetParameter ReadNetFile(const std::string& path);

// The Net of `param`, which ReadNetFile read from `path` (its state and data layers may have
// been changed since, not its layers' names). Throws what the Net constructor throws, with
// "path:line: " before the message when it names a layer of the file (the line that layer
// begins on; of two layers of one name, the one the net's state includes), "path: " otherwise.
std::unique_ptr<Net> BuildNetFromFile(const std::string& path, const caffe::NetParameter& param);

}  // namespace crema

#endif  // CREMA_NET_NET_FILE_H_

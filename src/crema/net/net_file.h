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
#ifndef CREMA_NET_NET_FILE_H_
#define CREMA_NET_NET_FILE_H_

#include <string>

#include "crema/proto/caffe.pb.h"

namespace crema {

caffe::NetParameter ReadNetFile(const std::string& path);

}  // namespace crema

#endif  // CREMA_NET_NET_FILE_H_

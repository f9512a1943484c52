// Reading and writing Caffe's protobuf files.
//
// Text files (.prototxt nets and solvers) are protobuf text format; binary files
// (.caffemodel, .solverstate, .binaryproto) are the wire format, read with Caffe's 2 GB limit.
// The Read*Params functions also bring legacy files up to the current format
// (io/upgrade.h), so callers only ever see current NetParameter/SolverParameter messages.
//
// Errors: a missing or unreadable file throws IOError; a syntax error throws InvalidArgument
// "path:line:col: message"; undecodable binary contents throw Corruption naming the file.
// Writes go to a temporary file in the same directory that is flushed to disk and renamed
// into place, so a crash never leaves a half-written file under the final name, and a failed
// write (a full disk) removes its temporary file and leaves what was there before.
#ifndef CREMA_IO_PROTO_IO_H_
#define CREMA_IO_PROTO_IO_H_

#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "crema/proto/caffe.pb.h"

namespace crema {

void ReadTextProto(const std::string& path, google::protobuf::Message* message);
void ReadBinaryProto(const std::string& path, google::protobuf::Message* message);
// Parses protobuf text held in memory; `source` names it in error messages.
void ParseTextProto(const std::string& text, const std::string& source,
                    google::protobuf::Message* message);

void WriteTextProto(const std::string& path, const google::protobuf::Message& message);
void WriteBinaryProto(const std::string& path, const google::protobuf::Message& message);

// Whole-file read; throws IOError naming the file.
std::string ReadFileToString(const std::string& path);
// Atomic whole-file write (temporary file + fsync + rename); throws IOError naming the file.
void WriteStringToFile(const std::string& path, const std::string& contents);
// Flushes the directory entry of a file just renamed into place, so the rename itself
// survives a power loss. Best effort: some file systems refuse fsync on a directory.
void SyncParentDirectory(const std::string& path);

// A net prototxt, upgraded to the current format. With `layer_lines`, also the 1-based line
// on which each layer of the result begins (0 where an upgrade merged or dropped layers).
caffe::NetParameter ReadNetParamsFromTextFile(const std::string& path,
                                              std::vector<int>* layer_lines = nullptr);
// A .caffemodel, upgraded to the current format.
caffe::NetParameter ReadNetParamsFromBinaryFile(const std::string& path);
// A solver prototxt, upgraded (solver_type enum → type string), with Caffe's snapshot_prefix
// defaults applied (the solver path without extension; a directory gets the solver's stem
// appended). Net files it names that do not exist relative to the working directory are
// looked for beside the solver file.
caffe::SolverParameter ReadSolverParamsFromTextFile(const std::string& path);

}  // namespace crema

#endif  // CREMA_IO_PROTO_IO_H_

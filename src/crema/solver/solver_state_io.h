// Reading and writing a solver's state (.solverstate) in both of Caffe's formats.
//
// BINARYPROTO (`<prefix>_iter_N.solverstate`): a binary caffe::SolverState.
// HDF5 (`<prefix>_iter_N.solverstate.h5`), as Caffe writes it:
//   /iter           int32, shape (1)
//   /learned_net    scalar fixed-length string: the path of the model written beside it
//   /current_step   int32, shape (1): the multistep policy's position
//   /history/<k>    float32 in the shape of history blob k, k = 0 … K−1 (K = N or 2N, in the
//                   order of Solver::history())
// Both are written atomically (a temporary name renamed into place).
//
// Thread-safety: the functions hold no state; HDF5 calls take the process-wide HDF5 lock.
#ifndef CREMA_SOLVER_SOLVER_STATE_IO_H_
#define CREMA_SOLVER_SOLVER_STATE_IO_H_

#include <string>

#include "crema/proto/caffe.pb.h"

namespace crema {

// Writes `state` to `path` in `format`. For HDF5 only iter, learned_net, current_step and the
// history blobs' shapes and data are stored (what Caffe stores). Throws IOError naming the
// file when it cannot be written.
void WriteSolverState(const std::string& path, const caffe::SolverState& state,
                      caffe::SolverParameter::SnapshotFormat format);

// Reads the state at `path`: HDF5 when the name ends in ".h5" (Caffe's rule), a binary
// SolverState otherwise. History blobs come back with `shape` and `data` set.
// Throws IOError naming the file when it cannot be read; Corruption naming it when it is not
// a solver state of that format (a truncated file, a missing iter/current_step/history, a
// history group whose members are not "0" … "K−1").
caffe::SolverState ReadSolverState(const std::string& path);

}  // namespace crema

#endif  // CREMA_SOLVER_SOLVER_STATE_IO_H_

// Solver: trains a Net by gradient descent, tests it at intervals, and snapshots it.
//
// One training iteration (Step) is Caffe's, in Caffe's order:
//   1. zero parameter diffs; run the test nets when iter % test_interval == 0
//      (and iter > 0 or test_initialization);
//   2. forward+backward iter_size times, accumulating gradients;
//   3. rate = lr_policy(iter); clip the summed gradient to clip_gradients (global L2 norm);
//      then per parameter: divide by iter_size, add weight decay (L2 or L1, coupled),
//      ComputeUpdateValue (the solver type's rule); data -= diff;
//   4. iter += 1; snapshot every `snapshot` iterations or on request.
// Solve runs Step until max_iter, snapshots at the end (snapshot_after_train), and reports a
// final test. Log lines follow Caffe's format so its log parsers keep working.
//
// The Solver base implements everything but the update rule — learning-rate policy,
// clipping, iter_size normalisation, weight decay and lr_mult/decay_mult live here once —
// and subclasses (SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam) implement only
// ComputeUpdateValue and say how many history blobs each parameter keeps. History is what a
// .solverstate stores: history()[k·N + i] is the k-th history blob of learnable parameter i,
// N = number of learnable parameters (Caffe's order: N blobs, or 2N for AdaDelta and Adam).
//
// Snapshots follow snapshot_format: BINARYPROTO writes <prefix>_iter_N.caffemodel and
// .solverstate (binary protobuf), HDF5 writes <prefix>_iter_N.caffemodel.h5 and
// .solverstate.h5 in Caffe's HDF5 layout (net/net_hdf5.h, solver/solver_state_io.h). Restore
// reads either, choosing HDF5 when the file name ends in ".h5", as Caffe does.
//
// A Solver is used by one thread. Errors in the configuration (nets, policies, snapshot
// location) throw crema::Error from the constructor, before any training starts.
#ifndef CREMA_SOLVER_SOLVER_H_
#define CREMA_SOLVER_SOLVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crema/net/net.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

// What a signal handler (or any other controller) asks the solver to do between iterations.
enum class SolverAction { kNone, kStop, kSnapshot };

// Figures of one displayed iteration.
struct IterationStats {
  int iter = 0;
  float loss = 0;             // smoothed over average_loss iterations
  float learning_rate = 0;
  double images_per_second = 0;  // over the iterations since the last display
  double data_wait_ms = 0;        // mean wait for input data per iteration, same window
  // Job-wide figures, filled in a distributed job (SolverCallback::FillIterationStats).
  int ranks = 1;
  double job_images_per_second = 0;
  double compute_ms = 0;          // forward + backward per iteration, this rank
  double exposed_comm_ms = 0;     // waiting for gradient synchronisation per iteration
  int slowest_rank = 0;
  double slowest_rank_ms = 0;     // that rank's time per iteration
  std::vector<std::pair<std::string, float>> outputs;  // train net outputs
};

// Figures of one test pass (means over test_iter batches).
struct TestStats {
  int iter = 0;
  int test_net_id = 0;
  std::vector<std::pair<std::string, float>> outputs;
};

// Receives progress reports (a metrics file, the distributed runtime's rank-0 reporter).
class SolverObserver {
 public:
  virtual ~SolverObserver() = default;
  virtual void OnIteration(const IterationStats& /*stats*/) {}
  virtual void OnTest(const TestStats& /*stats*/) {}
  virtual void OnSnapshot(int /*iter*/, const std::string& /*model_file*/,
                          const std::string& /*state_file*/) {}
};

// Hooks around every update, for synchronisation between ranks (dist/gradient_sync.h).
class SolverCallback {
 public:
  virtual ~SolverCallback() = default;
  // Before the forward-backward passes of an iteration.
  virtual void OnStart() {}
  // After the gradients of an iteration are complete, before they are applied.
  virtual void OnGradientsReady() {}
  // After the update was applied (data -= diff) and the iteration counted.
  virtual void OnUpdateApplied() {}
  // Before a test pass or a snapshot: make the weights what every rank agrees on.
  virtual void OnSynchronizeModel() {}
  // Turns this rank's request into the job's decision (all ranks must act alike).
  virtual SolverAction AgreeOnAction(SolverAction local) { return local; }
  // Adds the job-wide figures (communication, slowest rank) to a displayed iteration.
  // Called on every rank at the same iterations; may run collectives.
  virtual void FillIterationStats(IterationStats* /*stats*/) {}
  // At the end of Solve, on every rank: finish whatever is in flight.
  virtual void OnSolveEnd() {}
};

// The ranks of a data-parallel job as the solver sees them: who speaks, and how test outputs
// are summed. Without one the solver is rank 0 of 1.
class SolverCollective {
 public:
  virtual ~SolverCollective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In-place sum over ranks; every rank calls it at the same point.
  virtual void SumAcrossRanks(double* values, int count) = 0;
};

// Throws InvalidArgument for a value out of its range (max_iter, base_lr, momentum, ...) or
// an lr_policy without what it needs. The Solver constructor calls it; a tool that read the
// parameters from a file calls it first, to name the file.
void ValidateSolverParameter(const caffe::SolverParameter& param);

class Solver {
 public:
  // Builds the train net and the test nets named by `param` (net/net_param/train_net/
  // train_net_param; test_net/test_net_param/generic copies) and loads `param.weights`.
  // Throws crema::Error for an ill-formed configuration.
  explicit Solver(const caffe::SolverParameter& param);
  virtual ~Solver();
  Solver(const Solver&) = delete;
  Solver& operator=(const Solver&) = delete;

  // Optionally restores `resume_file` (a .solverstate), then trains to max_iter.
  void Solve(const std::string& resume_file = "");
  // Runs `iters` iterations (fewer if a stop is requested).
  void Step(int iters);
  // Runs every test net once; returns their stats.
  std::vector<TestStats> TestAll();
  // Writes <prefix>_iter_<iter>.caffemodel and .solverstate (.caffemodel.h5 and
  // .solverstate.h5 with snapshot_format: HDF5), each to a temporary name renamed into place;
  // returns the model's path. In a job every rank calls it (the model is synchronised first)
  // and only rank 0 writes; other ranks return "".
  // Throws IOError naming the file when a write fails (a full disk); the files of earlier
  // snapshots are never touched, and a model whose state could not be written is removed.
  // Snapshots taken during Step (every `snapshot` iterations, or on request) do not throw:
  // a failure is logged and training goes on (last_snapshot_failed() tells).
  std::string Snapshot();
  // Loads iter, current_step, history and the weights named by the state's learned_net (a
  // relative learned_net that does not exist is also looked for beside the state file). A
  // name ending in ".h5" is read as an HDF5 state, anything else as a binary SolverState.
  // Throws Corruption/IOError naming the file, InvalidArgument when the history does not fit.
  void Restore(const std::string& state_file);

  // Called between iterations; kStop ends Solve early (after a snapshot if asked for).
  void SetActionFunction(std::function<SolverAction()> func) { action_ = std::move(func); }
  // Not owned; must outlive the solver.
  void AddObserver(SolverObserver* observer) { observers_.push_back(observer); }
  void AddCallback(SolverCallback* callback) { callbacks_.push_back(callback); }
  // Not owned; must outlive the solver. Only rank 0 writes snapshots; test passes split
  // their batches between ranks and sum the outputs.
  void SetCollective(SolverCollective* collective) { collective_ = collective; }
  int rank() const { return collective_ ? collective_->rank() : 0; }
  int world_size() const { return collective_ ? collective_->world_size() : 1; }

  // Applies a restored state (what Restore reads from a file) directly; used to hand rank 0's
  // state to the other ranks. REQUIRES: history sizes as Restore checks them.
  void SetState(int iter, int current_step);

  virtual const char* type() const = 0;
  const caffe::SolverParameter& param() const { return param_; }
  int iter() const { return iter_; }
  int current_step() const { return current_step_; }
  Net* net() { return net_.get(); }
  const std::vector<std::unique_ptr<Net>>& test_nets() const { return test_nets_; }
  const std::vector<std::shared_ptr<Blob>>& history() const { return history_; }
  bool requested_early_exit() const { return requested_early_exit_; }
  // Whether the latest snapshot taken during Step failed (and was logged).
  bool last_snapshot_failed() const { return last_snapshot_failed_; }
  float smoothed_loss() const { return smoothed_loss_; }

 protected:
  // Turns learnable parameter `param_id`'s diff (already clipped, normalized and
  // regularized) into the step that Net::Update subtracts, at learning rate `rate`.
  virtual void ComputeUpdateValue(int param_id, float rate) = 0;
  // How many history blobs each learnable parameter keeps (1 for SGD, 2 for Adam/AdaDelta).
  virtual int HistoryBlobsPerParam() const { return 1; }

  // Creates history blobs; subclasses call it from their constructors (virtual dispatch
  // does not reach them from the base constructor).
  void InitHistory();

  // What every update rule starts from.
  Blob* learnable_param(int param_id) const { return net_->learnable_params()[param_id]; }
  // rate · lr_mult of learnable parameter `param_id`.
  float LocalRate(int param_id, float rate) const { return rate * net_->params_lr()[param_id]; }
  // History blob `k` (0 ≤ k < HistoryBlobsPerParam()) of learnable parameter `param_id`.
  Blob* history_blob(int k, int param_id) const {
    return history_[static_cast<size_t>(k) * net_->learnable_params().size() +
                    static_cast<size_t>(param_id)]
        .get();
  }
  // Element-wise update loops run on OpenMP threads from this many elements on.
  static constexpr int kParallelMin = 1 << 15;

  caffe::SolverParameter param_;
  int iter_ = 0;
  int current_step_ = 0;
  std::unique_ptr<Net> net_;
  std::vector<std::unique_ptr<Net>> test_nets_;
  std::vector<std::shared_ptr<Blob>> history_;

 private:
  void InitTrainNet();
  void InitTestNets();
  void CheckSnapshotWritable() const;
  void RemoveStaleSnapshotTemporaries() const;
  void ApplyUpdate(float rate);
  void ClipGradients();
  void Normalize(int param_id);
  void Regularize(int param_id);
  TestStats Test(int test_net_id);
  void UpdateSmoothedLoss(float loss, int start_iter);
  void DisplayIteration(float rate);
  SolverAction RequestedAction();
  std::string SnapshotFilename(const std::string& extension) const;
  void SkipTrainDataTo(int iter);
  void SnapshotDuringTraining();
  void SynchronizeModel();

  std::vector<float> losses_;
  float smoothed_loss_ = 0;
  std::function<SolverAction()> action_;
  bool requested_early_exit_ = false;
  bool last_snapshot_failed_ = false;
  std::vector<SolverObserver*> observers_;
  std::vector<SolverCallback*> callbacks_;
  SolverCollective* collective_ = nullptr;
  // Sum of every layer's last_data_wait_seconds() over the iterations since the last display.
  double data_wait_seconds_ = 0;
  int data_wait_iterations_ = 0;
  std::chrono::steady_clock::time_point display_start_;
  int display_start_iter_ = 0;
};

// Creates the solver named by param.type: "SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta"
// or "Adam" (case-sensitive, as Caffe's registry); a legacy solver_type enum left in `param`
// is upgraded to its type string first. Throws InvalidArgument listing the known
// types when it is unknown, and InvalidArgument for settings the type refuses (momentum for
// AdaGrad or RMSProp, rms_decay outside [0, 1)).
std::unique_ptr<Solver> CreateSolver(const caffe::SolverParameter& param);

}  // namespace crema

#endif  // CREMA_SOLVER_SOLVER_H_

// crema train: Caffe's `caffe train`, with a metrics file and resumable data.
#include <glog/logging.h>
#include <omp.h>

#include <csignal>
#include <memory>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/solver/metrics_file.h"
#include "crema/solver/solver.h"

namespace crema::tools {

namespace {

volatile std::sig_atomic_t g_sigint = 0;
volatile std::sig_atomic_t g_sighup = 0;

extern "C" void HandleSignal(int signal) {
  if (signal == SIGINT) g_sigint = 1;
  if (signal == SIGHUP) g_sighup = 1;
}

SolverAction EffectFromFlag(const std::string& flag_name, const std::string& value) {
  if (value == "stop") return SolverAction::kStop;
  if (value == "snapshot") return SolverAction::kSnapshot;
  if (value == "none") return SolverAction::kNone;
  throw InvalidArgument(StrCat("-", flag_name, " must be stop, snapshot or none, got '", value, "'"));
}

// Turns SIGINT/SIGHUP into solver actions between iterations; restores the previous
// handlers when it goes out of scope.
class SignalActions {
 public:
  SignalActions(SolverAction on_sigint, SolverAction on_sighup)
      : on_sigint_(on_sigint), on_sighup_(on_sighup) {
    struct sigaction action {};
    action.sa_handler = HandleSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_sigint_);
    sigaction(SIGHUP, &action, &old_sighup_);
  }
  ~SignalActions() {
    sigaction(SIGINT, &old_sigint_, nullptr);
    sigaction(SIGHUP, &old_sighup_, nullptr);
  }
  SignalActions(const SignalActions&) = delete;
  SignalActions& operator=(const SignalActions&) = delete;

  SolverAction Next() {
    if (g_sigint) {
      g_sigint = 0;
      LOG(INFO) << "SIGINT received: " << Name(on_sigint_);
      return on_sigint_;
    }
    if (g_sighup) {
      g_sighup = 0;
      LOG(INFO) << "SIGHUP received: " << Name(on_sighup_);
      return on_sighup_;
    }
    return SolverAction::kNone;
  }

 private:
  static const char* Name(SolverAction action) {
    switch (action) {
      case SolverAction::kStop: return "stopping";
      case SolverAction::kSnapshot: return "snapshotting";
      case SolverAction::kNone: return "ignored";
    }
    return "";
  }

  SolverAction on_sigint_;
  SolverAction on_sighup_;
  struct sigaction old_sigint_ {};
  struct sigaction old_sighup_ {};
};

// Remembers the last snapshot so the command can say where the model went.
class LastSnapshot : public SolverObserver {
 public:
  void OnSnapshot(int /*iter*/, const std::string& model, const std::string& state) override {
    model_ = model;
    state_ = state;
  }
  const std::string& model() const { return model_; }
  const std::string& state() const { return state_; }

 private:
  std::string model_;
  std::string state_;
};

}  // namespace

int Train(const Args& args) {
  CREMA_REQUIRE(args.empty(), "unexpected argument '", args.empty() ? "" : args[0],
                "'; train takes flags only");
  CREMA_REQUIRE(!FLAGS_solver.empty(), "train needs -solver SOLVER.prototxt");
  CREMA_REQUIRE(FLAGS_snapshot.empty() || FLAGS_weights.empty(),
                "give -weights (to fine-tune) or -snapshot (to resume), not both");
  RequireCpuOnly();
  const SolverAction on_sigint = EffectFromFlag("sigint_effect", FLAGS_sigint_effect);
  const SolverAction on_sighup = EffectFromFlag("sighup_effect", FLAGS_sighup_effect);

  caffe::SolverParameter param = ReadSolverParamsFromTextFile(FLAGS_solver);
  param.mutable_train_state()->set_level(FLAGS_level);
  for (const std::string& stage : StagesFromFlag()) param.mutable_train_state()->add_stage(stage);
  if (!FLAGS_snapshot.empty()) {
    param.clear_weights();  // the snapshot's own weights win
  } else if (!FLAGS_weights.empty()) {
    param.clear_weights();
    param.add_weights(FLAGS_weights);
  }
  if (param.solver_mode() == caffe::SolverParameter::GPU) {
    LOG(INFO) << "solver_mode GPU: this build computes on CPU";
  }
  LOG(INFO) << "Using " << omp_get_max_threads() << " compute thread(s)";

  SignalActions signals(on_sigint, on_sighup);
  std::unique_ptr<Solver> solver = CreateSolver(param);
  solver->SetActionFunction([&signals] { return signals.Next(); });
  LastSnapshot last_snapshot;
  solver->AddObserver(&last_snapshot);
  std::unique_ptr<MetricsFile> metrics;
  const std::string metrics_path =
      FLAGS_metrics.empty() ? param.snapshot_prefix() + "_metrics.jsonl" : FLAGS_metrics;
  if (metrics_path != "none") {
    metrics = std::make_unique<MetricsFile>(metrics_path);
    solver->AddObserver(metrics.get());
  }

  LOG(INFO) << "Starting Optimization";
  solver->Solve(FLAGS_snapshot);
  if (!last_snapshot.model().empty()) {
    LOG(INFO) << "Model written to " << last_snapshot.model() << " (solver state "
              << last_snapshot.state() << ")";
  }
  if (metrics) LOG(INFO) << "Metrics written to " << metrics->path();
  return 0;
}

}  // namespace crema::tools

// A JSON-lines metrics file: one object per displayed iteration, test pass and snapshot.
//
// In a job of several ranks, train lines add "ranks", "job_images_per_second", "compute_ms",
// "exposed_comm_ms", "slowest_rank" and "slowest_rank_ms" (see IterationStats).
// Every line also has "elapsed_s", seconds since the file was opened (the start of training).
//   {"event":"train","iter":100,"loss":0.31,"lr":0.00992565,"images_per_second":5120.4,
//    "data_wait_ms":0.01,"outputs":{"loss":0.29}}
//   {"event":"test","iter":500,"net":0,"outputs":{"accuracy":0.9785,"loss":0.07}}
//   {"event":"snapshot","iter":1000,"model":"…caffemodel","state":"…solverstate"}
//
// Every line is flushed when written, so the file can be followed while training runs.
#ifndef CREMA_SOLVER_METRICS_FILE_H_
#define CREMA_SOLVER_METRICS_FILE_H_

#include <chrono>
#include <cstdio>
#include <string>

#include "crema/solver/solver.h"

namespace crema {

class MetricsFile : public SolverObserver {
 public:
  // Opens `path` for appending (a resumed run continues its file). Throws IOError naming the
  // path when it cannot be opened.
  explicit MetricsFile(const std::string& path);
  ~MetricsFile() override;
  MetricsFile(const MetricsFile&) = delete;
  MetricsFile& operator=(const MetricsFile&) = delete;

  void OnIteration(const IterationStats& stats) override;
  void OnTest(const TestStats& stats) override;
  void OnSnapshot(int iter, const std::string& model_file, const std::string& state_file) override;

  const std::string& path() const { return path_; }

 private:
  void WriteLine(const std::string& line);

  double Elapsed() const;

  std::string path_;
  FILE* file_ = nullptr;  // opened by the first line
  bool write_failed_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace crema

#endif  // CREMA_SOLVER_METRICS_FILE_H_

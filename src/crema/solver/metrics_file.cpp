#include "crema/solver/metrics_file.h"

#include <glog/logging.h>

#include <nlohmann/json.hpp>

#include "crema/core/error.h"

namespace crema {

namespace {
nlohmann::json OutputsToJson(const std::vector<std::pair<std::string, float>>& outputs) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : outputs) {
    // A blob with several values (per-class accuracy) becomes an array.
    if (!object.contains(name)) {
      object[name] = value;
    } else if (object[name].is_array()) {
      object[name].push_back(value);
    } else {
      object[name] = nlohmann::json::array({object[name], value});
    }
  }
  return object;
}
}  // namespace

MetricsFile::MetricsFile(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "a");
  if (file_ == nullptr) throw IOErrorFromErrno("open the metrics file", path);
}

MetricsFile::~MetricsFile() { std::fclose(file_); }

double MetricsFile::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void MetricsFile::WriteLine(const std::string& line) {
  // Metrics are best-effort: a full disk must not stop training.
  if (std::fprintf(file_, "%s\n", line.c_str()) < 0 || std::fflush(file_) != 0) {
    LOG(WARNING) << "cannot write to the metrics file " << path_;
  }
}

void MetricsFile::OnIteration(const IterationStats& stats) {
  nlohmann::json line = {{"event", "train"},
                         {"iter", stats.iter},
                         {"loss", stats.loss},
                         {"lr", stats.learning_rate},
                         {"images_per_second", stats.images_per_second},
                         {"data_wait_ms", stats.data_wait_ms},
                         {"elapsed_s", Elapsed()},
                         {"outputs", OutputsToJson(stats.outputs)}};
  if (stats.ranks > 1) {
    line["ranks"] = stats.ranks;
    line["job_images_per_second"] = stats.job_images_per_second;
    line["compute_ms"] = stats.compute_ms;
    line["exposed_comm_ms"] = stats.exposed_comm_ms;
    line["slowest_rank"] = stats.slowest_rank;
    line["slowest_rank_ms"] = stats.slowest_rank_ms;
  }
  WriteLine(line.dump());
}

void MetricsFile::OnTest(const TestStats& stats) {
  nlohmann::json line = {{"event", "test"},
                         {"iter", stats.iter},
                         {"net", stats.test_net_id},
                         {"elapsed_s", Elapsed()},
                         {"outputs", OutputsToJson(stats.outputs)}};
  WriteLine(line.dump());
}

void MetricsFile::OnSnapshot(int iter, const std::string& model_file,
                             const std::string& state_file) {
  nlohmann::json line = {
      {"event", "snapshot"}, {"iter", iter},       {"model", model_file},
      {"state", state_file},  {"elapsed_s", Elapsed()}};
  WriteLine(line.dump());
}

}  // namespace crema

// A tiny training job for tests that run the `crema` command: LMDBs made from the tiny MNIST
// set (tiny_mnist.h), a LeNet-like net that learns it in a few dozen iterations, and solvers
// for it. One iteration takes about a millisecond.
#ifndef CREMA_TESTS_UTIL_TINY_TRAINING_H_
#define CREMA_TESTS_UTIL_TINY_TRAINING_H_

#include <string>

#include "test_helpers.h"

namespace crema::testing {

class TinyTrainingJob {
 public:
  // Writes dir/train_lmdb (200 images), dir/test_lmdb (100) and dir/net.prototxt (batches of
  // 10 for training, 25 for testing); failures are reported as test failures.
  explicit TinyTrainingJob(const TempDir& dir);

  // Writes dir/name: a solver for the net (SGD, momentum 0.9, random_seed 7, display 10,
  // test_iter 4, test_interval 20, snapshot_prefix dir/prefix) followed by `extra` (fields such
  // as "max_iter: 30\n"). Returns its path.
  std::string WriteSolver(const std::string& name, const std::string& extra,
                          const std::string& prefix = "tiny") const;

  const std::string& net() const { return net_; }

 private:
  const TempDir& dir_;
  std::string net_;
};

// Expects the .caffemodel files `a` and `b` to hold the same layers with bit-identical blobs;
// returns how many blobs were compared.
int ExpectSameWeights(const std::string& a, const std::string& b);

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_TINY_TRAINING_H_

// A tiny MNIST-format dataset the tests write themselves: 28x28 images whose class decides
// which horizontal band is bright, so a small net learns it in a few dozen iterations.
#ifndef CREMA_TESTS_UTIL_TINY_MNIST_H_
#define CREMA_TESTS_UTIL_TINY_MNIST_H_

#include <string>

namespace crema::testing {

// Writes IDX files `images` and `labels` with `count` items (labels cycle 0..9).
void WriteTinyMnist(const std::string& images, const std::string& labels, int count,
                    unsigned seed);

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_TINY_MNIST_H_

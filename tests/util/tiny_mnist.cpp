#include "tiny_mnist.h"

#include <cstdint>
#include <fstream>
#include <random>
#include <vector>

namespace crema::testing {

namespace {
void PutBigEndian(std::ofstream& out, uint32_t value) {
  const char bytes[4] = {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                         static_cast<char>(value >> 8), static_cast<char>(value)};
  out.write(bytes, 4);
}
}  // namespace

void WriteTinyMnist(const std::string& images, const std::string& labels, int count,
                    unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> noise(0, 60);
  std::ofstream image_out(images, std::ios::binary);
  std::ofstream label_out(labels, std::ios::binary);
  PutBigEndian(image_out, 2051);
  PutBigEndian(image_out, static_cast<uint32_t>(count));
  PutBigEndian(image_out, 28);
  PutBigEndian(image_out, 28);
  PutBigEndian(label_out, 2049);
  PutBigEndian(label_out, static_cast<uint32_t>(count));
  std::vector<char> pixels(28 * 28);
  for (int i = 0; i < count; ++i) {
    const int label = i % 10;
    for (int r = 0; r < 28; ++r) {
      for (int c = 0; c < 28; ++c) {
        const bool band = r >= 2 + 2 * label && r < 4 + 2 * label;
        pixels[r * 28 + c] = static_cast<char>(band ? 200 + noise(gen) / 2 : noise(gen));
      }
    }
    image_out.write(pixels.data(), static_cast<std::streamsize>(pixels.size()));
    const char byte = static_cast<char>(label);
    label_out.write(&byte, 1);
  }
}

}  // namespace crema::testing

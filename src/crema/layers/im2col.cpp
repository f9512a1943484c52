#include "crema/layers/im2col.h"

#include <algorithm>
#include <cstddef>

#include "crema/core/error.h"

namespace crema {

namespace {

// Output positions o in [0, count) whose input coordinate o·stride + offset lies in
// [0, limit), as the half-open range [*lo, *hi). Computing the range once per kernel tap
// keeps the inner loops free of bounds tests.
void ValidRange(int offset, int stride, int limit, int count, int* lo, int* hi) {
  *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  *hi = limit - offset > 0 ? std::min(count, (limit - offset + stride - 1) / stride) : 0;
  *lo = std::min(*lo, *hi);
}

}  // namespace

ConvKernel ParseConvKernel(const caffe::ConvolutionParameter& p, const std::string& who) {
  auto fail = [&who](const auto&... args) {
    throw InvalidArgument(StrCat(who, ": ", args...));
  };
  // A repeated field holding one value for both axes or one per axis.
  auto per_axis = [&fail](const google::protobuf::RepeatedField<uint32_t>& values,
                          const char* name, int fallback, int* h, int* w) {
    switch (values.size()) {
      case 0:
        *h = *w = fallback;
        break;
      case 1:
        *h = *w = static_cast<int>(values.Get(0));
        break;
      case 2:
        *h = static_cast<int>(values.Get(0));
        *w = static_cast<int>(values.Get(1));
        break;
      default:
        fail(name, " takes one value or one per spatial axis (2), got ", values.size());
    }
  };

  ConvKernel k;
  if (p.has_kernel_h() || p.has_kernel_w()) {
    if (p.kernel_size_size() > 0) fail("give kernel_size or kernel_h/kernel_w, not both");
    if (!p.has_kernel_h() || !p.has_kernel_w()) {
      fail("kernel_h and kernel_w must be given together");
    }
    k.kernel_h = static_cast<int>(p.kernel_h());
    k.kernel_w = static_cast<int>(p.kernel_w());
  } else {
    if (p.kernel_size_size() == 0) fail("needs kernel_size or kernel_h and kernel_w");
    per_axis(p.kernel_size(), "kernel_size", 0, &k.kernel_h, &k.kernel_w);
  }

  if (p.has_pad_h() || p.has_pad_w()) {
    if (p.pad_size() > 0) fail("give pad or pad_h/pad_w, not both");
    k.pad_h = static_cast<int>(p.pad_h());
    k.pad_w = static_cast<int>(p.pad_w());
  } else {
    per_axis(p.pad(), "pad", 0, &k.pad_h, &k.pad_w);
  }

  if (p.has_stride_h() || p.has_stride_w()) {
    if (p.stride_size() > 0) fail("give stride or stride_h/stride_w, not both");
    if (!p.has_stride_h() || !p.has_stride_w()) {
      fail("stride_h and stride_w must be given together");
    }
    k.stride_h = static_cast<int>(p.stride_h());
    k.stride_w = static_cast<int>(p.stride_w());
  } else {
    per_axis(p.stride(), "stride", 1, &k.stride_h, &k.stride_w);
  }

  per_axis(p.dilation(), "dilation", 1, &k.dilation_h, &k.dilation_w);

  // uint32 values above INT_MAX read as negative here, so these checks catch them too.
  if (k.kernel_h <= 0 || k.kernel_w <= 0) {
    fail("kernel size must be positive, got ", k.kernel_h, "x", k.kernel_w);
  }
  if (k.stride_h <= 0 || k.stride_w <= 0) {
    fail("stride must be positive, got ", k.stride_h, "x", k.stride_w);
  }
  if (k.dilation_h <= 0 || k.dilation_w <= 0) {
    fail("dilation must be positive, got ", k.dilation_h, "x", k.dilation_w);
  }
  if (k.pad_h < 0 || k.pad_w < 0) fail("pad is too large: ", p.ShortDebugString());
  return k;
}

void Im2Col(const Im2ColGeometry& g, const float* image, float* col) {
  const int out_size = g.out_height * g.out_width;
  const size_t plane_size = static_cast<size_t>(g.height) * g.width;
  for (int c = 0; c < g.channels; ++c) {
    const float* plane = image + static_cast<size_t>(c) * plane_size;
    for (int i = 0; i < g.kernel_h; ++i) {
      int y_lo, y_hi;
      ValidRange(i * g.dilation_h - g.pad_h, g.stride_h, g.height, g.out_height, &y_lo, &y_hi);
      for (int j = 0; j < g.kernel_w; ++j) {
        const int x_off = j * g.dilation_w - g.pad_w;
        int x_lo, x_hi;
        ValidRange(x_off, g.stride_w, g.width, g.out_width, &x_lo, &x_hi);
        float* out =
            col + (static_cast<size_t>(c * g.kernel_h + i) * g.kernel_w + j) * out_size;
        std::fill(out, out + y_lo * g.out_width, 0.f);
        for (int oy = y_lo; oy < y_hi; ++oy) {
          const float* in_row =
              plane + static_cast<size_t>(oy * g.stride_h + i * g.dilation_h - g.pad_h) * g.width;
          float* out_row = out + oy * g.out_width;
          std::fill(out_row, out_row + x_lo, 0.f);
          if (g.stride_w == 1) {
            std::copy(in_row + x_lo + x_off, in_row + x_hi + x_off, out_row + x_lo);
          } else {
            for (int ox = x_lo; ox < x_hi; ++ox) out_row[ox] = in_row[ox * g.stride_w + x_off];
          }
          std::fill(out_row + x_hi, out_row + g.out_width, 0.f);
        }
        std::fill(out + y_hi * g.out_width, out + out_size, 0.f);
      }
    }
  }
}

void Col2Im(const Im2ColGeometry& g, const float* col, float* image) {
  const int out_size = g.out_height * g.out_width;
  const size_t plane_size = static_cast<size_t>(g.height) * g.width;
  for (int c = 0; c < g.channels; ++c) {
    float* plane = image + static_cast<size_t>(c) * plane_size;
    for (int i = 0; i < g.kernel_h; ++i) {
      int y_lo, y_hi;
      ValidRange(i * g.dilation_h - g.pad_h, g.stride_h, g.height, g.out_height, &y_lo, &y_hi);
      for (int j = 0; j < g.kernel_w; ++j) {
        const int x_off = j * g.dilation_w - g.pad_w;
        int x_lo, x_hi;
        ValidRange(x_off, g.stride_w, g.width, g.out_width, &x_lo, &x_hi);
        const float* in =
            col + (static_cast<size_t>(c * g.kernel_h + i) * g.kernel_w + j) * out_size;
        for (int oy = y_lo; oy < y_hi; ++oy) {
          float* image_row =
              plane + static_cast<size_t>(oy * g.stride_h + i * g.dilation_h - g.pad_h) * g.width;
          const float* col_row = in + oy * g.out_width;
          for (int ox = x_lo; ox < x_hi; ++ox) image_row[ox * g.stride_w + x_off] += col_row[ox];
        }
      }
    }
  }
}

}  // namespace crema

#include "crema/layers/pooling_layer.h"

#include <algorithm>
#include <cfloat>

#include "crema/backend/cpu/dnnl_context.h"

namespace crema {

namespace {

using caffe::PoolingParameter;

// Division rounding toward −∞ / +∞. REQUIRES: b > 0.
int FloorDiv(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int CeilDiv(int a, int b) { return -FloorDiv(-a, b); }

// Plane geometry shared by the loops below.
struct Plane {
  int height, width, out_height, out_width;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

// Max over input rows [h0, h1) × columns [w0, w1) of `in`, first maximum in scan order.
// Starts from −FLT_MAX with index −1, so an empty window (or one of NaNs) yields those.
inline void MaxCell(const float* in, int width, int h0, int h1, int w0, int w1, float* best,
                    int* index) {
  float b = -FLT_MAX;
  int idx = -1;
  for (int h = h0; h < h1; ++h) {
    for (int w = w0; w < w1; ++w) {
      const float v = in[h * width + w];
      if (v > b) {
        b = v;
        idx = h * width + w;
      }
    }
  }
  *best = b;
  *index = idx;
}

// One output cell by the general rule: the window clipped to the image.
template <typename MaskT>
inline void MaxGeneralCell(const float* in, const Plane& g, int oy, int ox, float* out,
                           MaskT* mask) {
  const int h0 = oy * g.stride_h - g.pad_h;
  const int w0 = ox * g.stride_w - g.pad_w;
  float best;
  int idx;
  MaxCell(in, g.width, std::max(h0, 0), std::min(h0 + g.kernel_h, g.height), std::max(w0, 0),
          std::min(w0 + g.kernel_w, g.width), &best, &idx);
  const int o = oy * g.out_width + ox;
  out[o] = best;
  mask[o] = static_cast<MaskT>(idx);
}

// The reference loop: any kernel, stride and padding.
template <typename MaskT>
void MaxPlaneGeneral(const float* in, const Plane& g, float* out, MaskT* mask) {
  for (int oy = 0; oy < g.out_height; ++oy) {
    for (int ox = 0; ox < g.out_width; ++ox) MaxGeneralCell(in, g, oy, ox, out, mask);
  }
}

// The outputs of a K×K, stride-S pooling whose windows lie wholly inside the image: rows
// [y_lo, y_hi) × columns [x_lo, x_hi). The rest form a frame (padding, ceil overhang).
struct Interior {
  int y_lo, y_hi, x_lo, x_hi;
};

template <int K, int S>
Interior InteriorOf(const Plane& g) {
  Interior r;
  r.x_lo = std::min(g.out_width, CeilDiv(g.pad_w, S));
  r.x_hi = std::max(r.x_lo, std::min(g.out_width, FloorDiv(g.width + g.pad_w - K, S) + 1));
  r.y_lo = std::min(g.out_height, CeilDiv(g.pad_h, S));
  r.y_hi = std::max(r.y_lo, std::min(g.out_height, FloorDiv(g.height + g.pad_h - K, S) + 1));
  return r;
}

// Every output outside `r`, by the general rule.
template <typename MaskT>
void MaxFrame(const float* in, const Plane& g, const Interior& r, float* out, MaskT* mask) {
  for (int oy = 0; oy < g.out_height; ++oy) {
    if (oy < r.y_lo || oy >= r.y_hi) {
      for (int ox = 0; ox < g.out_width; ++ox) MaxGeneralCell(in, g, oy, ox, out, mask);
      continue;
    }
    for (int ox = 0; ox < r.x_lo; ++ox) MaxGeneralCell(in, g, oy, ox, out, mask);
    for (int ox = r.x_hi; ox < g.out_width; ++ox) MaxGeneralCell(in, g, oy, ox, out, mask);
  }
}

// K×K windows, stride S, vectorised along each output row: suits planes with long rows, whose
// frame (done by the general rule) is a small part of them. The window's first maximum is
// written out here and again in MaxPlaneTable on purpose: as one inline helper writing through
// pointers, GCC 12 vectorised neither loop (measured 5-9x slower on random data).
template <int K, int S, typename MaskT>
void MaxPlaneRows(const float* __restrict in, const Plane& g, float* __restrict out,
                  MaskT* __restrict mask) {
  const Interior r = InteriorOf<K, S>(g);
  for (int oy = r.y_lo; oy < r.y_hi; ++oy) {
    const int row_start = (oy * S - g.pad_h) * g.width - g.pad_w;
    float* out_row = out + oy * g.out_width;
    MaskT* mask_row = mask + oy * g.out_width;
    for (int ox = r.x_lo; ox < r.x_hi; ++ox) {
      const int base = row_start + ox * S;
      const float* window = in + base;
      float best = -FLT_MAX;
      int idx = -1;
#pragma GCC unroll 3
      for (int i = 0; i < K; ++i) {
#pragma GCC unroll 3
        for (int j = 0; j < K; ++j) {
          const float v = window[i * g.width + j];
          const bool larger = v > best;
          best = larger ? v : best;
          idx = larger ? base + i * g.width + j : idx;
        }
      }
      out_row[ox] = best;
      mask_row[ox] = static_cast<MaskT>(idx);
    }
  }
  MaxFrame(in, g, r, out, mask);
}

// Short rows go by table: one flat loop over every output of the plane, output o's window read
// at source + read_corners[o] (rows `read_width` apart) and its cells numbered from
// image_corners[o]. It vectorises across rows, which suits small planes such as GoogLeNet's
// 14×14 and 7×7 and LeNet's 12-wide ones. Where windows reach outside the image (padding, a
// ceil overhang) the source is a padded copy of the plane (CopyIntoPadded), whose border
// cells hold −FLT_MAX (never larger, so never chosen: the general rule's clipping), so that
// no output needs the scalar general rule; otherwise it is the plane itself.
struct PaddedPlane {
  int height, width;          // the padded plane: every window's cells
  int image_top, image_left;  // where the image's cell (0, 0) lies in it
};

// Copies the image `in` into the padded plane's image area (the border is left as it is).
void CopyIntoPadded(const float* __restrict in, const Plane& g, const PaddedPlane& pp,
                    float* __restrict padded) {
  const int rows = std::min(g.height, pp.height - pp.image_top);
  const int cols = std::min(g.width, pp.width - pp.image_left);
  for (int h = 0; h < rows; ++h) {
    const float* row = in + static_cast<size_t>(h) * g.width;
    std::copy(row, row + cols,
              padded + static_cast<size_t>(h + pp.image_top) * pp.width + pp.image_left);
  }
}

template <int K, int S, typename MaskT>
void MaxPlaneTable(const float* __restrict source, int read_width, const Plane& g,
                   const int* __restrict read_corners, const int* __restrict image_corners,
                   float* __restrict out, MaskT* __restrict mask) {
  const int count = g.out_height * g.out_width;
  for (int o = 0; o < count; ++o) {
    const float* window = source + read_corners[o];
    const int base = image_corners[o];
    float best = -FLT_MAX;
    int idx = -1;
#pragma GCC unroll 3
    for (int i = 0; i < K; ++i) {
#pragma GCC unroll 3
      for (int j = 0; j < K; ++j) {
        const float v = window[i * read_width + j];
        const bool larger = v > best;
        best = larger ? v : best;
        idx = larger ? base + i * g.width + j : idx;
      }
    }
    out[o] = best;
    mask[o] = static_cast<MaskT>(idx);
  }
}

// Rows narrower than one 16-float vector leave the row-wise loop mostly scalar.
constexpr int kTableBelowWidth = 16;

}  // namespace

void PoolingLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const PoolingParameter& p = layer_param_.pooling_param();
  method_ = p.pool();
  if (method_ == PoolingParameter::STOCHASTIC) {
    throw Unsupported(StrCat(Describe(), ": STOCHASTIC pooling is not supported on the CPU; ",
                             "use MAX or AVE"));
  }
  global_ = p.global_pooling();
  const bool any_kernel = p.has_kernel_size() || p.has_kernel_h() || p.has_kernel_w();
  if (global_) {
    if (any_kernel) {
      Fail("global_pooling takes its kernel from the input; do not give kernel_size or ",
           "kernel_h/kernel_w");
    }
  } else {
    if (p.has_kernel_size() && (p.has_kernel_h() || p.has_kernel_w())) {
      Fail("give kernel_size or kernel_h/kernel_w, not both");
    }
    if (!p.has_kernel_size() && !(p.has_kernel_h() && p.has_kernel_w())) {
      Fail("needs kernel_size, or kernel_h and kernel_w together");
    }
    kernel_h_ = static_cast<int>(p.has_kernel_size() ? p.kernel_size() : p.kernel_h());
    kernel_w_ = static_cast<int>(p.has_kernel_size() ? p.kernel_size() : p.kernel_w());
    if (kernel_h_ <= 0 || kernel_w_ <= 0) {
      Fail("kernel size must be positive, got ", kernel_h_, "x", kernel_w_);
    }
  }

  if (p.has_pad() && (p.has_pad_h() || p.has_pad_w())) {
    Fail("give pad or pad_h/pad_w, not both");
  }
  if (p.has_pad_h() != p.has_pad_w()) Fail("pad_h and pad_w must be given together");
  pad_h_ = static_cast<int>(p.has_pad() ? p.pad() : p.pad_h());
  pad_w_ = static_cast<int>(p.has_pad() ? p.pad() : p.pad_w());

  if (p.has_stride() && (p.has_stride_h() || p.has_stride_w())) {
    Fail("give stride or stride_h/stride_w, not both");
  }
  if (p.has_stride_h() != p.has_stride_w()) Fail("stride_h and stride_w must be given together");
  stride_h_ = static_cast<int>(p.has_stride_h() ? p.stride_h() : p.stride());
  stride_w_ = static_cast<int>(p.has_stride_w() ? p.stride_w() : p.stride());
  if (stride_h_ <= 0 || stride_w_ <= 0) {
    Fail("stride must be positive, got ", stride_h_, "x", stride_w_);
  }
  if (pad_h_ < 0 || pad_w_ < 0) Fail("pad is too large: ", p.ShortDebugString());

  if (global_) {
    if (pad_h_ != 0 || pad_w_ != 0 || stride_h_ != 1 || stride_w_ != 1) {
      Fail("global_pooling needs pad 0 and stride 1, got pad ", pad_h_, "x", pad_w_,
           " and stride ", stride_h_, "x", stride_w_);
    }
  } else if (pad_h_ >= kernel_h_ || pad_w_ >= kernel_w_) {
    Fail("pad ", pad_h_, "x", pad_w_, " must be smaller than the kernel ", kernel_h_, "x",
         kernel_w_);
  }
  ceil_mode_ = p.round_mode() == PoolingParameter::CEIL;
}

void PoolingLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  if (input.num_axes() != 4) {
    Fail("needs a 4-D input (num, channels, height, width), got ", input.shape_string());
  }
  planes_ = input.shape(0) * input.shape(1);
  height_ = input.shape(2);
  width_ = input.shape(3);
  if (global_) {
    kernel_h_ = height_;
    kernel_w_ = width_;
  }
  auto out_size = [this](int size, int pad, int kernel, int stride) {
    const int span = size + 2 * pad - kernel;
    int out = (ceil_mode_ ? CeilDiv(span, stride) : FloorDiv(span, stride)) + 1;
    // See Note [Ceil pooling] in the header: Caffe trims only when some padding is set.
    if ((pad_h_ != 0 || pad_w_ != 0) && (out - 1) * stride >= size + pad) --out;
    return out;
  };
  out_height_ = out_size(height_, pad_h_, kernel_h_, stride_h_);
  out_width_ = out_size(width_, pad_w_, kernel_w_, stride_w_);
  if (out_height_ <= 0 || out_width_ <= 0) {
    Fail("the ", kernel_h_, "x", kernel_w_, " kernel with pad ", pad_h_, "x", pad_w_,
         " does not fit input ", input.shape_string());
  }
  const std::vector<int> top_shape{input.shape(0), input.shape(1), out_height_, out_width_};
  for (Blob* t : top) t->Reshape(top_shape);

  if (method_ == PoolingParameter::AVE) {
    auto spans = [](int out, int size, int kernel, int stride, int pad, std::vector<Span>* v) {
      v->resize(static_cast<size_t>(out));
      for (int o = 0; o < out; ++o) {
        const int start = o * stride - pad;
        const int end = std::min(start + kernel, size + pad);
        (*v)[o] = {std::max(start, 0), std::min(end, size), end - start};
      }
    };
    spans(out_height_, height_, kernel_h_, stride_h_, pad_h_, &ave_rows_);
    spans(out_width_, width_, kernel_w_, stride_w_, pad_w_, &ave_cols_);
  }

  max_kernel_ = MaxKernel::kGeneral;
  if (method_ == PoolingParameter::MAX) {
    if (top.size() == 1) {
      const size_t needed = static_cast<size_t>(top[0]->count());
      if (mask_.size() < needed) mask_.resize(needed);
    }
    if (kernel_h_ == 2 && kernel_w_ == 2 && stride_h_ == 2 && stride_w_ == 2) {
      max_kernel_ = MaxKernel::k2x2Stride2;
    } else if (kernel_h_ == 3 && kernel_w_ == 3 && stride_h_ == 2 && stride_w_ == 2) {
      max_kernel_ = MaxKernel::k3x3Stride2;
    } else if (kernel_h_ == 3 && kernel_w_ == 3 && stride_h_ == 1 && stride_w_ == 1) {
      max_kernel_ = MaxKernel::k3x3Stride1;
    }
  }
  // Short rows: one flat loop per plane over a table of window corners (MaxPlaneTable), read
  // from the plane itself when every window lies inside it, else from a padded copy.
  table_ = max_kernel_ != MaxKernel::kGeneral && out_width_ < kTableBelowWidth;
  if (table_ && (corners_height_ != height_ || corners_width_ != width_)) {
    corners_height_ = height_;
    corners_width_ = width_;
    padded_height_ = (out_height_ - 1) * stride_h_ + kernel_h_;
    padded_width_ = (out_width_ - 1) * stride_w_ + kernel_w_;
    table_reads_padded_ = pad_h_ != 0 || pad_w_ != 0 || padded_height_ > height_ ||
                          padded_width_ > width_;
    const int pitch = table_reads_padded_ ? padded_width_ : width_;
    const size_t count = static_cast<size_t>(out_height_) * out_width_;
    read_corners_.resize(count);
    image_corners_.resize(count);
    for (int oy = 0; oy < out_height_; ++oy) {
      for (int ox = 0; ox < out_width_; ++ox) {
        read_corners_[oy * out_width_ + ox] = oy * stride_h_ * pitch + ox * stride_w_;
        image_corners_[oy * out_width_ + ox] =
            (oy * stride_h_ - pad_h_) * width_ + ox * stride_w_ - pad_w_;
      }
    }
  }
}

namespace {

// MAX pooling of `planes` planes of geometry `g` from x into y, the argmax into `mask` (or,
// as floats, into `float_mask` when mask is null): `plane_fn(in, out, argmax, padded)` pools
// one plane, `padded` the thread's padded copy (null unless `padded_plane`).
template <typename PlaneFn>
void MaxPlanes(const Plane& g, int planes, const PaddedPlane* padded_plane, const float* x,
               float* y, int* mask, float* float_mask, PlaneFn plane_fn) {
  const size_t in_size = static_cast<size_t>(g.height) * g.width;
  const size_t out_size = static_cast<size_t>(g.out_height) * g.out_width;
#pragma omp parallel
  {
    float* padded = nullptr;
    if (padded_plane != nullptr) {
      const size_t cells = static_cast<size_t>(padded_plane->height) * padded_plane->width;
      // The thread's scratch (a pooling call runs inside no other layer's call): its border
      // is filled once, each plane then overwrites only the image area.
      padded = static_cast<float*>(cpu::ThreadScratch(0, sizeof(float) * cells));
      std::fill(padded, padded + cells, -FLT_MAX);
    }
#pragma omp for schedule(static)
    for (int p = 0; p < planes; ++p) {
      const float* in = x + static_cast<size_t>(p) * in_size;
      if (padded != nullptr) CopyIntoPadded(in, g, *padded_plane, padded);
      const size_t out_off = static_cast<size_t>(p) * out_size;
      if (mask != nullptr) {
        plane_fn(in, y + out_off, mask + out_off, padded);
      } else {
        plane_fn(in, y + out_off, float_mask + out_off, padded);
      }
    }
  }
}

}  // namespace

template <int K, int S>
void PoolingLayer::MaxForwardKxK(const float* x, float* y, int* mask, float* float_mask) const {
  const Plane g{height_, width_, out_height_, out_width_, kernel_h_, kernel_w_,
                stride_h_, stride_w_, pad_h_, pad_w_};
  if (!table_) {
    MaxPlanes(g, planes_, nullptr, x, y, mask, float_mask,
              [&](const float* in, float* out, auto* argmax, const float*) {
                MaxPlaneRows<K, S>(in, g, out, argmax);
              });
    return;
  }
  const PaddedPlane pp{padded_height_, padded_width_, pad_h_, pad_w_};
  const int pitch = table_reads_padded_ ? padded_width_ : width_;
  const int* read = read_corners_.data();
  const int* image = image_corners_.data();
  MaxPlanes(g, planes_, table_reads_padded_ ? &pp : nullptr, x, y, mask, float_mask,
            [&](const float* in, float* out, auto* argmax, const float* padded) {
              MaxPlaneTable<K, S>(padded != nullptr ? padded : in, pitch, g, read, image, out,
                                  argmax);
            });
}

void PoolingLayer::MaxForward(const float* x, float* y, int* mask, float* float_mask) const {
  switch (max_kernel_) {
    case MaxKernel::k2x2Stride2:
      MaxForwardKxK<2, 2>(x, y, mask, float_mask);
      return;
    case MaxKernel::k3x3Stride2:
      MaxForwardKxK<3, 2>(x, y, mask, float_mask);
      return;
    case MaxKernel::k3x3Stride1:
      MaxForwardKxK<3, 1>(x, y, mask, float_mask);
      return;
    case MaxKernel::kGeneral:
      break;
  }
  const Plane g{height_, width_, out_height_, out_width_, kernel_h_, kernel_w_,
                stride_h_, stride_w_, pad_h_, pad_w_};
  MaxPlanes(g, planes_, nullptr, x, y, mask, float_mask,
            [&](const float* in, float* out, auto* argmax, const float*) {
              MaxPlaneGeneral(in, g, out, argmax);
            });
}

namespace {

// The calling thread's buffer of one value per (input row, output column) of a plane, for the
// separable AVE passes: the thread's scratch buffer (a pooling call runs inside no other
// layer's call), so no allocation once the net's largest plane has been pooled.
float* AveRowBuffer(int height, int out_width) {
  const size_t bytes = sizeof(float) * static_cast<size_t>(height) * out_width;
  return static_cast<float*>(cpu::ThreadScratch(0, bytes));
}

}  // namespace

void PoolingLayer::AveForward(const float* x, float* y) const {
  const int in_size = height_ * width_;
  const int out_size = out_height_ * out_width_;
  const int height = height_, width = width_, out_h = out_height_, out_w = out_width_;
  const Span* rows = ave_rows_.data();
  const Span* cols = ave_cols_.data();
#pragma omp parallel
  {
    // Window sums along each input row: sums[h·out_w + ox].
    float* sums = AveRowBuffer(height, out_w);
#pragma omp for schedule(static)
    for (int p = 0; p < planes_; ++p) {
      const float* in = x + static_cast<size_t>(p) * in_size;
      float* out = y + static_cast<size_t>(p) * out_size;
      for (int h = 0; h < height; ++h) {
        const float* row = in + static_cast<size_t>(h) * width;
        float* row_sum = sums + static_cast<size_t>(h) * out_w;
        for (int ox = 0; ox < out_w; ++ox) {
          float sum = 0.f;
          for (int w = cols[ox].first; w < cols[ox].last; ++w) sum += row[w];
          row_sum[ox] = sum;
        }
      }
      for (int oy = 0; oy < out_h; ++oy) {
        float* o = out + static_cast<size_t>(oy) * out_w;
        std::fill(o, o + out_w, 0.f);
        for (int h = rows[oy].first; h < rows[oy].last; ++h) {
          const float* row_sum = sums + static_cast<size_t>(h) * out_w;
          for (int ox = 0; ox < out_w; ++ox) o[ox] += row_sum[ox];
        }
        const int extent_h = rows[oy].extent;
        for (int ox = 0; ox < out_w; ++ox) {
          const int window = extent_h * cols[ox].extent;
          o[ox] = window > 0 ? o[ox] / static_cast<float>(window) : 0.f;
        }
      }
    }
  }
}

void PoolingLayer::MaxBackward(const float* dy, const int* mask, const float* float_mask,
                               float* dx) const {
  const int in_size = height_ * width_;
  const int out_size = out_height_ * out_width_;
#pragma omp parallel for schedule(static)
  for (int p = 0; p < planes_; ++p) {
    float* grad = dx + static_cast<size_t>(p) * in_size;
    const float* top_grad = dy + static_cast<size_t>(p) * out_size;
    std::fill(grad, grad + in_size, 0.f);
    if (mask != nullptr) {
      const int* m = mask + static_cast<size_t>(p) * out_size;
      for (int o = 0; o < out_size; ++o) {
        if (m[o] >= 0) grad[m[o]] += top_grad[o];
      }
    } else {
      const float* m = float_mask + static_cast<size_t>(p) * out_size;
      for (int o = 0; o < out_size; ++o) {
        const int idx = static_cast<int>(m[o]);
        if (idx >= 0 && idx < in_size) grad[idx] += top_grad[o];
      }
    }
  }
}

void PoolingLayer::AveBackward(const float* dy, float* dx) const {
  const int in_size = height_ * width_;
  const int out_size = out_height_ * out_width_;
  const int height = height_, width = width_, out_h = out_height_, out_w = out_width_;
  const Span* rows = ave_rows_.data();
  const Span* cols = ave_cols_.data();
#pragma omp parallel
  {
    // Each input row's share of every output column: grads[h·out_w + ox].
    float* grads = AveRowBuffer(height, out_w);
#pragma omp for schedule(static)
    for (int p = 0; p < planes_; ++p) {
      float* grad = dx + static_cast<size_t>(p) * in_size;
      const float* top_grad = dy + static_cast<size_t>(p) * out_size;
      std::fill(grads, grads + static_cast<size_t>(height) * out_w, 0.f);
      for (int oy = 0; oy < out_h; ++oy) {
        const float* g = top_grad + static_cast<size_t>(oy) * out_w;
        const int extent_h = rows[oy].extent;
        for (int h = rows[oy].first; h < rows[oy].last; ++h) {
          float* row_grad = grads + static_cast<size_t>(h) * out_w;
          for (int ox = 0; ox < out_w; ++ox) {
            const int window = extent_h * cols[ox].extent;
            if (window > 0) row_grad[ox] += g[ox] / static_cast<float>(window);
          }
        }
      }
      std::fill(grad, grad + in_size, 0.f);
      for (int h = 0; h < height; ++h) {
        const float* row_grad = grads + static_cast<size_t>(h) * out_w;
        float* row = grad + static_cast<size_t>(h) * width;
        for (int ox = 0; ox < out_w; ++ox) {
          const float share = row_grad[ox];
          for (int w = cols[ox].first; w < cols[ox].last; ++w) row[w] += share;
        }
      }
    }
  }
}

void PoolingLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  if (method_ == PoolingParameter::MAX) {
    if (top.size() > 1) {
      MaxForward(x, y, nullptr, top[1]->mutable_cpu_data());
    } else {
      MaxForward(x, y, mask_.data(), nullptr);
    }
  } else {
    AveForward(x, y);
  }
}

void PoolingLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                               const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  if (method_ == PoolingParameter::MAX) {
    if (top.size() > 1) {
      MaxBackward(dy, nullptr, top[1]->cpu_data(), dx);
    } else {
      MaxBackward(dy, mask_.data(), nullptr, dx);
    }
  } else {
    AveBackward(dy, dx);
  }
}

}  // namespace crema

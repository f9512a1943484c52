#include "crema/backend/cpu/blas.h"

#include <dnnl.h>

#include <cmath>
#include <cstring>

#include "crema/core/error.h"

namespace crema::cpu {

void Gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  const dnnl_dim_t lda = trans_a ? m : k;
  const dnnl_dim_t ldb = trans_b ? k : n;
  const dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k,
                                          alpha, a, lda, b, ldb, beta, c, n);
  if (status != dnnl_success) {
    throw Unsupported(StrCat("oneDNN sgemm failed (status ", static_cast<int>(status),
                             ") for m=", m, " n=", n, " k=", k));
  }
}

void Gemv(bool trans_a, int m, int n, float alpha, const float* a, const float* x, float beta,
          float* y) {
  // op(A)·x as an (rows × 1) GEMM: x is a column vector.
  if (trans_a) {
    Gemm(true, false, n, 1, m, alpha, a, x, beta, y);
  } else {
    Gemm(false, false, m, 1, n, alpha, a, x, beta, y);
  }
}

void Axpy(int n, float alpha, const float* x, float* y) {
  for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void Axpby(int n, float alpha, const float* x, float beta, float* y) {
  for (int i = 0; i < n; ++i) y[i] = alpha * x[i] + beta * y[i];
}

float Dot(int n, const float* x, const float* y) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<double>(x[i]) * y[i];
  return static_cast<float>(s);
}

void Scal(int n, float alpha, float* x) {
  for (int i = 0; i < n; ++i) x[i] *= alpha;
}

void Set(int n, float value, float* x) {
  if (value == 0.f) {
    // An empty blob has no memory (x is null), and memset must not be given null.
    if (n > 0) std::memset(x, 0, sizeof(float) * static_cast<size_t>(n));
    return;
  }
  for (int i = 0; i < n; ++i) x[i] = value;
}

float Asum(int n, const float* x) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += std::fabs(x[i]);
  return static_cast<float>(s);
}

}  // namespace crema::cpu

// Dense linear algebra on the host, row-major, through oneDNN's sgemm (about twice Debian
// OpenBLAS's speed on the AVX-512 machines Crema is measured on; see BENCHMARKING.md).
//
// Functions are thread-safe; they use the OpenMP thread count the process set.
#ifndef CREMA_BACKEND_CPU_BLAS_H_
#define CREMA_BACKEND_CPU_BLAS_H_

namespace crema::cpu {

// C[m×n] = alpha · op(A) · op(B) + beta · C, with op(A) m×k and op(B) k×n. A is stored k×m
// when trans_a, B is stored n×k when trans_b. beta = 0 overwrites C (NaNs in C are ignored).
void Gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
          const float* b, float beta, float* c);

// y = alpha · op(A) · x + beta · y, A stored m×n; op(A) is n×m when trans_a.
void Gemv(bool trans_a, int m, int n, float alpha, const float* a, const float* x, float beta,
          float* y);

// y += alpha · x.
void Axpy(int n, float alpha, const float* x, float* y);
// y = alpha · x + beta · y.
void Axpby(int n, float alpha, const float* x, float beta, float* y);
// Sum of x[i] · y[i] (accumulated in double).
float Dot(int n, const float* x, const float* y);
// x *= alpha.
void Scal(int n, float alpha, float* x);
// x[i] = value.
void Set(int n, float value, float* x);
// Sum of |x[i]|.
float Asum(int n, const float* x);

}  // namespace crema::cpu

#endif  // CREMA_BACKEND_CPU_BLAS_H_

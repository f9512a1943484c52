// The oneDNN CPU engine and stream that every oneDNN-backed layer executes on.
//
// oneDNN primitives are created for an engine and executed on a stream. Crema keeps one CPU
// engine for the whole process and one stream per thread: a net belongs to one thread at a
// time, and a per-thread stream keeps two threads driving two nets (data-parallel workers)
// from sharing a stream object, whose thread-safety oneDNN does not promise. A process that
// runs nets from one thread therefore uses exactly one engine and one stream.
//
// Thread-safety: both functions may be called from any thread.
#ifndef CREMA_BACKEND_CPU_DNNL_CONTEXT_H_
#define CREMA_BACKEND_CPU_DNNL_CONTEXT_H_

#include <oneapi/dnnl/dnnl.hpp>

namespace crema::cpu {

// The process-wide CPU engine, created on first use.
const dnnl::engine& DnnlEngine();

// The calling thread's stream on DnnlEngine(), created on first use. Primitives executed on
// it run synchronously on the CPU runtime; callers still call wait() before reading results
// so that the code stays correct for an asynchronous runtime.
dnnl::stream& DnnlStream();

}  // namespace crema::cpu

#endif  // CREMA_BACKEND_CPU_DNNL_CONTEXT_H_

// The oneDNN CPU engine and stream that every oneDNN-backed layer executes on.
//
// oneDNN primitives are created for an engine and executed on a stream. Crema keeps one CPU
// engine for the whole process and one stream per thread: a net belongs to one thread at a
// time, and a per-thread stream keeps two threads driving two nets (data-parallel workers)
// from sharing a stream object, whose thread-safety oneDNN does not promise. A process that
// runs nets from one thread therefore uses exactly one engine and one stream.
//
// Thread-safety: every function may be called from any thread; each thread has its own
// stream and scratch buffers.
#ifndef CREMA_BACKEND_CPU_DNNL_CONTEXT_H_
#define CREMA_BACKEND_CPU_DNNL_CONTEXT_H_

#include <oneapi/dnnl/dnnl.hpp>

#include <cstddef>

namespace crema::cpu {

// The process-wide CPU engine, created on first use.
const dnnl::engine& DnnlEngine();

// The calling thread's stream on DnnlEngine(), created on first use. Primitives executed on
// it run synchronously on the CPU runtime; callers still call wait() before reading results
// so that the code stays correct for an asynchronous runtime.
dnnl::stream& DnnlStream();

// The calling thread's scratch buffer number `slot` (0 <= slot < kScratchSlots), at least
// `bytes` long and 64-byte aligned. Layers keep in it what lives only during one of their
// calls — activations reordered into a primitive's layout, oneDNN scratchpads — so a net
// holds one set of such buffers, not one per layer. A call that asks for more than the
// slot holds frees it and allocates anew, so a pointer is valid until the next call for
// the same slot on this thread; a layer asks again on every Forward/Backward (no
// allocation once every layer of the net has run once).
inline constexpr int kScratchSlots = 3;
void* ThreadScratch(int slot, size_t bytes);

}  // namespace crema::cpu

#endif  // CREMA_BACKEND_CPU_DNNL_CONTEXT_H_

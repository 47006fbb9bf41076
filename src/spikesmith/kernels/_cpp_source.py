"""The C++ source of one charge kind's fused CPU kernels, generated from its table entry
(``ChargeKind.cpp``) and the surrogates' ``KernelCode.cpp`` (compiled by ``_build``; no torch headers).

Layout: ``x`` is ``T x N`` float32 (N = neurons of one step), states and parameters are ``N``
arrays (a parameter of stride 0 is a scalar). Each OpenMP thread takes a contiguous block of
tiles of ``TILE`` neurons and loops over T inside, with the tile's state in cache.

Forward per step and neuron (``contract``): the kind's charge gives H, then
    th = <threshold>;  S = H - th >= 0;  <update>;  hard: V = S ? rest : H;  soft: V = H - th S
The kinds write the expressions of ``spikesmith.dynamics`` in its order and the source is compiled
without FMA contraction, so spikes and states equal the scan's bit for bit.

Backward per tile: the state is kept every K steps in the forward (``ck``); for each chunk, last
first, H (and the states the kind reads before each step, ``ChargeKind.prev``) is recomputed from
the kept state and the saved input into a scratch of K x TILE floats, then one pass goes back over
the chunk, one loop per step with everything in registers: z, the surrogate's g (each surrogate's
``KernelCode.cpp`` inlined into its own copy of the loop, chosen per row by a switch), the shared
fire/reset derivative and the kind's.
"""

from __future__ import annotations

from . import _abi
from .contract import ChargeKind

_PRELUDE = r"""
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <algorithm>
#include <new>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE__) || defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

typedef long long i64;
// Neurons per tile (2 KiB rows); 2048 and 8192, and software prefetching of the next step's rows,
// measured no faster on a 2-core Xeon.
static const i64 TILE = 512;

// Outputs of at least this many bytes are written with non-temporal (streaming) stores: they
// skip the read-for-ownership of every output line and do not hold the store buffer, which
// measured 2.3x faster for the forward at 64 MiB here. Smaller outputs stay in cache for the
// next layer.
static const i64 STREAM_BYTES = 8ll << 20;

// dst[0:n] = src[0:n]; with nt, non-temporal stores wherever dst is aligned for them.
static inline void store_row(float* __restrict dst, const float* __restrict src, i64 n, bool nt) {
    i64 i = 0;
#if defined(__AVX512F__)
    if (nt) {
        for (; i < n && ((uintptr_t)(dst + i) & 63); ++i) dst[i] = src[i];
        for (; i + 16 <= n; i += 16) _mm512_stream_ps(dst + i, _mm512_loadu_ps(src + i));
    }
#elif defined(__AVX__)
    if (nt) {
        for (; i < n && ((uintptr_t)(dst + i) & 31); ++i) dst[i] = src[i];
        for (; i + 8 <= n; i += 8) _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
    }
#elif defined(__SSE__)
    if (nt) {
        for (; i < n && ((uintptr_t)(dst + i) & 15); ++i) dst[i] = src[i];
        for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    }
#else
    (void)nt;
#endif
    for (; i < n; ++i) dst[i] = src[i];
}

// Asks for the row p[0:n] ahead of its use: a tile's rows are short runs (TILE floats) one step of
// N apart, which the hardware prefetcher does not foresee; the next row's loads then overlap this
// row's arithmetic (measured 10-20% faster forward and backward on a loaded 2-core EPYC).
static inline void prefetch_row(const float* p, i64 n) {
    for (i64 i = 0; i < n; i += 16) __builtin_prefetch(p + i, 0, 3);
}

// Orders this thread's streaming stores before whatever reads the output next.
static inline void stream_fence() {
#if defined(__SSE__) || defined(__AVX__) || defined(__AVX512F__)
    _mm_sfence();
#endif
}

// a * b + c, fused where the CPU has FMA (used only in the backward, whose tolerance allows it;
// the forward keeps -ffp-contract=off so that its spikes equal the scan's bit for bit).
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define SF_MADD(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define SF_MADD(a, b, c) ((a) * (b) + (c))
#endif

// What a failed allocation asked for: rows x row_bytes (kept as two numbers: their product may
// overflow). The first failure of a thread is kept.
struct AllocFailure {
    i64 rows = 0, row_bytes = 0;
};

// malloc(rows x row_bytes), or null with the request recorded in ``f`` where the size overflows or
// malloc fails; the caller checks every pointer (see ``SF_NOMEM``).
static void* checked_alloc(AllocFailure& f, i64 rows, i64 row_bytes) {
    void* p = nullptr;
    if (rows > 0 && row_bytes > 0 && rows <= INT64_MAX / row_bytes) p = std::malloc((size_t)(rows * row_bytes));
    if (!p && f.rows == 0) { f.rows = rows; f.row_bytes = row_bytes; }
    return p;
}

// The return code of an entry point whose scratch could not be allocated (a->fail_rows x
// a->fail_row_bytes bytes, in one thread); nothing was computed.
static const int SF_NOMEM = 2;

// exp(x) for float, branch-free so that it vectorises (Cephes polynomial, about 1 ulp).
static inline float sf_exp(float x) {
    x = std::min(std::max(x, -87.0f), 88.0f);
    const float magic = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
    float n = (x * 1.44269504088896341f + magic) - magic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = SF_MADD(p, r, 1.3981999507e-3f);
    p = SF_MADD(p, r, 8.3334519073e-3f);
    p = SF_MADD(p, r, 4.1665795894e-2f);
    p = SF_MADD(p, r, 1.6666665459e-1f);
    p = SF_MADD(p, r, 5.0000001201e-1f);
    float y = SF_MADD(p * r, r, r + 1.0f);
    int32_t bits = ((int32_t)n + 127) << 23;
    return y * __builtin_bit_cast(float, bits);
}

"""


def _recorded(kind: ChargeKind, state: str) -> str:
    """A compile-time condition: whether the backward keeps ``state`` before each step."""
    return {"always": "true", "grad": "GD"}.get(kind.prev.get(state, ""), "false")


def source(kind: ChargeKind, codes) -> str:
    """The C++ source of ``kind`` with the surrogates ``codes`` (``surrogate.KernelCode``), numbered in
    order."""
    c = kind.cpp
    states, names = kind.state, ["vth", "rest", *kind.params]
    others = states[1:]
    grads = kind.grad_params
    opts = "".join(f"    constexpr bool {o} = (OPT >> {k}) & 1; (void){o};\n" for k, o in enumerate(kind.options))
    tile_params = "".join(f"    const float* __restrict P_{p} = tp.p[{k}];\n" for k, p in enumerate(names))
    load_params = "".join(f"        const float {p} = P_{p}[i];\n" for p in names)

    def each(fmt, items=states):
        return "".join(fmt.format(s=s, k=k) for k, s in enumerate(items))

    step_tile = f"""
// One step over a tile: H from the state and X, spike, update, reset; writes h and s (either may be null).
template <bool SOFT, int OPT>
static inline void step_tile(const float* __restrict xt, {", ".join(f"float* __restrict S_{s}" for s in states)},
                             const TileParams& tp, float* __restrict h_out, float* __restrict s_out, i64 n) {{
{opts}{tile_params}#pragma omp simd
    for (i64 i = 0; i < n; ++i) {{
        const float x = xt[i];
{load_params}        const float v = S_v[i];
{each("        float {s} = S_{s}[i];" + chr(10), others)}        float h;
        {{ {c.charge} }}
        const float th = {c.threshold};
        const float s = (h - th) >= 0.0f ? 1.0f : 0.0f;
        if (h_out) h_out[i] = h;
        if (s_out) s_out[i] = s;
        {{ {c.update} }}
        S_v[i] = SOFT ? h - th * s : (s != 0.0f ? rest : h);
{each("        S_{s}[i] = {s};" + chr(10), others)}    }}
}}
"""
    forward = f"""
template <bool SOFT, int OPT>
static void forward_impl(const sf_args& A) {{
    const i64 T = A.T, N = A.N, K = A.K;
    const float* x = A.x;
    float* s_out = A.s;
{each("    float* st_{s} = A.state[{k}]; float* ck_{s} = A.ck[{k}]; const float init_{s} = A.init_value[{k}];" + chr(10))}    const bool init = A.init != 0;
    const i64 ntiles = (N + TILE - 1) / TILE;
    const bool nt = T * N * (i64)sizeof(float) >= STREAM_BYTES;
#pragma omp parallel num_threads(A.nthreads)
    {{
    float sbuf[TILE];
#pragma omp for schedule(static)
    for (i64 tile = 0; tile < ntiles; ++tile) {{
        i64 i0 = tile * TILE, n = std::min(TILE, N - i0);
        TileParams tp;
        tp.load(A, i0, n);
{each("        float* S_{s} = st_{s} + i0;" + chr(10))}        if (init) {{  // a fresh state: every neuron starts from the numbers (no N arrays to read)
{each("            for (i64 i = 0; i < n; ++i) S_{s}[i] = init_{s};" + chr(10))}        }}
        for (i64 t = 0; t < T; ++t) {{
            if (ck_v && t % K == 0) {{
{each("                std::memcpy(ck_{s} + (t / K) * N + i0, S_{s}, n * sizeof(float));" + chr(10))}            }}
            float* st = s_out + t * N + i0;
            if (t + 1 < T) prefetch_row(x + (t + 1) * N + i0, n);
            step_tile<SOFT, OPT>(x + t * N + i0, {", ".join(f"S_{s}" for s in states)}, tp, nullptr, nt ? sbuf : st, n);
            if (nt) store_row(st, sbuf, n, true);
        }}
    }}
    stream_fence();
    }}
}}
"""
    spike_grad = f" + {c.spike_grad}" if c.spike_grad else ""
    h_grad = f" + {c.h_grad}" if c.h_grad else ""
    recorded = "".join(f"    constexpr bool REC_{s} = {_recorded(kind, s)};\n" for s in states)
    prev_load = each("            const float {s} = REC_{s} ? PV_{s}[i] : 0.0f;" + chr(10))
    grad_loop = f"""#pragma omp simd
                        for (i64 i = 0; i < n; ++i) {{
                            const float x = xt[i];
{load_params.replace("        const", "                            const")}{prev_load.replace("            const", "                            const")}                            const float h = Hj[i];
                            const float th = {c.threshold};
                            const float z = h - th;
                            const float s = z >= 0.0f ? 1.0f : 0.0f;
                            float g;
                            {{ @SURROGATE@ }}
{each("                            float g_{s} = G_{s}[i];" + chr(10))}{"".join(f"                            double d_{p} = GD ? D_{p}[i] : 0.0;" + chr(10) for p in grads)}                            float go = gst[i]{spike_grad};
                            if (!DETACH) go = go + g_v * (SOFT ? -th : (rest - h));
                            const float gz = go * g;
                            const float gh = (SOFT ? g_v : g_v * (1.0f - s)) + gz{h_grad};
                            const float gth = SOFT ? -gz - g_v * s : -gz;
                            (void)gth; (void)x; (void)z;
                            float g_x;
                            {{ {c.backward} }}
                            gxt[i] = g_x;
{each("                            G_{s}[i] = g_{s};" + chr(10))}{"".join(f"                            if (GD) D_{p}[i] = d_{p};" + chr(10) for p in grads)}                        }}
"""
    grad_loops = "".join(f"                    case {k}: {{  // {code.name}\n"
                         + grad_loop.replace("@SURROGATE@", code.cpp)
                         + "                        break;\n                    }\n" for k, code in enumerate(codes))
    backward = f"""
template <bool SOFT, bool DETACH, bool GD, int OPT>
static int backward_impl(sf_args& A) {{
{opts}{recorded}    const i64 T = A.T, N = A.N, K = A.K;
    const float* x = A.x; const float* gs = A.gs; float* gx = A.gx;
    const float p0 = A.p0, p1 = A.p1, p2 = A.p2;  // the surrogate's numbers
    (void)p0; (void)p1; (void)p2;
{each("    float* gst_{s} = A.gstate[{k}]; const float* ck_{s} = A.ck[{k}];" + chr(10))}{"".join(f"    double* gp_{p} = A.gparam[{names.index(p)}];" + chr(10) for p in grads)}    const i64 ntiles = (N + TILE - 1) / TILE;
    const i64 nchunks = (T + K - 1) / K;
    const bool nt = T * N * (i64)sizeof(float) >= STREAM_BYTES;
    if (A.surrogate < 0 || A.surrogate >= {len(codes)}) return -1;
    AllocFailure failed;
#pragma omp parallel num_threads(A.nthreads)
    {{
        AllocFailure f;
        const i64 row = (i64)sizeof(float) * TILE;
        float* GX = (float*)checked_alloc(f, 1, row);
        float* H = (float*)checked_alloc(f, K, row);
        bool ok = GX && H;
{each("        float* CUR_{s} = (float*)checked_alloc(f, 1, row); ok = ok && CUR_{s};" + chr(10))}{each("        float* PVA_{s} = REC_{s} ? (float*)checked_alloc(f, K, row) : nullptr; ok = ok && (!REC_{s} || PVA_{s});" + chr(10))}{"".join(f"        double* D_{p} = GD ? (double*)checked_alloc(f, 1, (i64)sizeof(double) * TILE) : nullptr; ok = ok && (!GD || D_{p});" + chr(10) for p in grads)}        TileParams* tpp = new (std::nothrow) TileParams;
        if (!tpp && f.rows == 0) {{ f.rows = 1; f.row_bytes = (i64)sizeof(TileParams); }}
        ok = ok && tpp;
        if (!ok) {{
#pragma omp critical(sf_alloc_failure)
            if (!failed.rows) failed = f;
        }}
        // every thread sees every thread's failure before it decides: all run the loop or none does
#pragma omp barrier
        if (!failed.rows) {{
        TileParams& tp = *tpp;
#pragma omp for schedule(static)
        for (i64 tile = 0; tile < ntiles; ++tile) {{
            i64 i0 = tile * TILE, n = std::min(TILE, N - i0);
            tp.load(A, i0, n);
{tile_params.replace("    const", "            const")}{each("            float* __restrict G_{s} = gst_{s} + i0;" + chr(10))}            if (A.zero_gstate) {{  // the final state had no gradient: start from zero in cache
{each("                for (i64 i = 0; i < n; ++i) G_{s}[i] = 0.0f;" + chr(10))}            }}
{"".join(f"            if (GD) for (i64 i = 0; i < n; ++i) D_{p}[i] = 0.0;" + chr(10) for p in grads)}            for (i64 c = nchunks - 1; c >= 0; --c) {{
                i64 t0 = c * K, L = std::min(K, T - t0);
                // recompute the chunk: H, and the states the backward reads before each step
{each("                std::memcpy(CUR_{s}, ck_{s} + c * N + i0, n * sizeof(float));" + chr(10))}                for (i64 j = 0; j < L; ++j) {{
{each("                    if (REC_{s}) std::memcpy(PVA_{s} + j * n, CUR_{s}, n * sizeof(float));" + chr(10))}                    // the next step's input, and after the last the spike gradient the pass back starts with
                    prefetch_row(j + 1 < L ? x + (t0 + j + 1) * N + i0 : gs + (t0 + L - 1) * N + i0, n);
                    step_tile<SOFT, OPT>(x + (t0 + j) * N + i0, {", ".join(f"CUR_{s}" for s in states)}, tp, H + j * n, nullptr, n);
                }}
                for (i64 j = L - 1; j >= 0; --j) {{
                    i64 t = t0 + j;
                    const float* __restrict Hj = H + j * n;
{each("                    const float* __restrict PV_{s} = REC_{s} ? PVA_{s} + j * n : nullptr;" + chr(10))}                    // the step before's spike gradient; at a chunk's first step, the input the chunk before starts with
                    if (j > 0) prefetch_row(gs + (t - 1) * N + i0, n);
                    else if (c > 0) prefetch_row(x + (t0 - K) * N + i0, n);
                    const float* __restrict gst = gs + t * N + i0;
                    float* __restrict gxt = nt ? GX : gx + t * N + i0;
                    const float* __restrict xt = x + t * N + i0;
                    // one loop per surrogate: z, its g and every gradient in registers (no Z or G rows)
                    switch (A.surrogate) {{
{grad_loops}                    default: break;  // not reached: checked before the parallel region
                    }}
                    if (nt) store_row(gx + t * N + i0, GX, n, true);
                }}
            }}
{"".join(f"            if (GD) for (i64 i = 0; i < n; ++i) gp_{p}[i0 + i] = D_{p}[i];" + chr(10) for p in grads)}        }}
        stream_fence();
        }}
        delete tpp;
        std::free(GX); std::free(H);
{each("        std::free(CUR_{s}); std::free(PVA_{s});" + chr(10))}{"".join(f"        std::free(D_{p});" + chr(10) for p in grads)}    }}
    A.fail_rows = failed.rows;
    A.fail_row_bytes = failed.row_bytes;
    return failed.rows ? SF_NOMEM : 0;
}}
"""
    nopt = 1 << len(kind.options)
    fwd_cases = "".join(f"    if (soft == {sf} && opt == {o}) {{ forward_impl<{_bool(sf)}, {o}>(*a); return 0; }}\n"
                        for sf in (0, 1) for o in range(nopt))
    gds = (0, 1) if grads else (0,)
    bwd_cases = "".join(
        f"    if (soft == {sf} && detach == {d} && gd == {g} && opt == {o}) "
        f"{{ return backward_impl<{_bool(sf)}, {_bool(d)}, {_bool(g)}, {o}>(*a); }}\n"
        for sf in (0, 1) for d in (0, 1) for g in gds for o in range(nopt))
    tile = f"""
// The tile's view of the parameters ({", ".join(names)}): a pointer into the N array, or a buffer
// filled with the scalar.
struct TileParams {{
    const float* p[{len(names)}];
    float buf[{len(names)}][TILE];
    void load(const sf_args& A, i64 i0, i64 n) {{
        for (int k = 0; k < {len(names)}; ++k) {{
            if (A.pstride[k]) {{ p[k] = A.param[k] + i0; continue; }}
            const float value = A.param[k][0];
            for (i64 i = 0; i < n; ++i) buf[k][i] = value;
            p[k] = buf[k];
        }}
    }}
}};
"""
    doc = "\n".join(f"// {line}" for line in kind.doc.strip().splitlines())
    return (f"// spikesmith fused kernels, charge kind {kind.name!r}\n{doc}\n" + _PRELUDE
            + _abi.c_struct() + tile + step_tile + forward + backward + f"""
extern "C" int sf_forward(sf_args* a) {{
    const int soft = a->soft, opt = a->options;
{fwd_cases}    return -1;
}}

extern "C" int sf_backward(sf_args* a) {{
    const int soft = a->soft, detach = a->detach, gd = a->grad_params, opt = a->options;
{bwd_cases}    return -1;
}}
""")


def _bool(flag: int) -> str:
    return "true" if flag else "false"

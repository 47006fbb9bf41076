"""C++ source of the fused CPU kernels (compiled on first use by ``_build``; no torch headers).

Layout: ``x`` is ``T x N`` float32 (N = neurons of one step), state and parameters are ``N``
arrays (a parameter of stride 0 is a scalar). Each OpenMP thread takes a contiguous block of
tiles of ``TILE`` neurons and loops over T inside, with the tile's state in cache.

Forward per step (charge form CH: 0 IF, 1 LIF decay_input, 2 LIF not decay_input; r is the rest
potential, V_reset for a hard reset and 0 for a soft one):
    CH 0:  H = V + X
    CH 1:  H = V + (X - (V - r)) d
    CH 2:  H = V - (V - r) d + X
    th = V_th (+ beta a for ALIF);  S = H - th >= 0
    hard:  V = S ? V_reset : H;   soft:  V = H - th S;   ALIF:  a = a rho + S
The expressions and their order are those of ``spikesmith.dynamics`` (no FMA contraction), so
spikes and states equal the scan's bit for bit.

Backward per tile: the state is kept every K steps in the forward (``ck_v``/``ck_a``); for each
chunk, last first, H is recomputed from the checkpoint and the saved input into a scratch of
K x TILE floats, then one pass goes back over the chunk.
"""

_TEMPLATE = r"""
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <algorithm>
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

@SURROGATES@
struct Params {
    const float* p[5];   // v_threshold, rest (V_reset or 0), decay, rho, beta
    int stride[5];       // 1: an N array; 0: a scalar in p[k][0]
};

// The tile's view of the parameters: a pointer into the N array or a buffer filled with the scalar.
struct TileParams {
    const float* vth; const float* rest; const float* d; const float* rho; const float* beta;
    float buf[5][TILE];
    void load(const Params& P, i64 i0, i64 n) {
        const float** dst[5] = {&vth, &rest, &d, &rho, &beta};
        for (int k = 0; k < 5; ++k) {
            if (P.p[k] == nullptr) { *dst[k] = buf[k]; continue; }
            if (P.stride[k]) { *dst[k] = P.p[k] + i0; continue; }
            float v = P.p[k][0];
            for (i64 i = 0; i < n; ++i) buf[k][i] = v;
            *dst[k] = buf[k];
        }
    }
};

template <int CH, bool SOFT>
static inline float charge(float x, float v, float d, float r) {
    if (CH == 0) return v + x;
    if (CH == 1) return v + (x - (v - r)) * d;
    return (v - (v - r) * d) + x;
}

// One step over a tile: H from V and X, spike, reset; writes h (may be null) and s (may be null).
template <int CH, bool SOFT, bool ALIF>
static inline void step_tile(const float* __restrict xt, float* __restrict v, float* __restrict a,
                             const TileParams& tp, float* __restrict h_out, float* __restrict s_out, i64 n) {
    const float* __restrict vth = tp.vth; const float* __restrict rest = tp.rest;
    const float* __restrict d = tp.d; const float* __restrict rho = tp.rho; const float* __restrict beta = tp.beta;
#pragma omp simd
    for (i64 i = 0; i < n; ++i) {
        float vi = v[i];
        float h = charge<CH, SOFT>(xt[i], vi, d[i], rest[i]);
        float th = ALIF ? vth[i] + beta[i] * a[i] : vth[i];
        float s = (h - th) >= 0.0f ? 1.0f : 0.0f;
        if (h_out) h_out[i] = h;
        if (s_out) s_out[i] = s;
        v[i] = SOFT ? h - th * s : (s != 0.0f ? rest[i] : h);
        if (ALIF) a[i] = a[i] * rho[i] + s;
    }
}

template <int CH, bool SOFT, bool ALIF>
static void forward_impl(i64 T, i64 N, const float* x, float* s_out, float* v, float* a, const Params& P,
                         float* ck_v, float* ck_a, i64 K, int nthreads, int init, float v_init, float a_init) {
    i64 ntiles = (N + TILE - 1) / TILE;
    const bool nt = T * N * (i64)sizeof(float) >= STREAM_BYTES;
#pragma omp parallel num_threads(nthreads)
    {
    float sbuf[TILE];
#pragma omp for schedule(static)
    for (i64 tile = 0; tile < ntiles; ++tile) {
        i64 i0 = tile * TILE, n = std::min(TILE, N - i0);
        TileParams tp;
        tp.load(P, i0, n);
        float* vt = v + i0;
        float* at = ALIF ? a + i0 : nullptr;
        if (init) {  // a fresh state: every neuron starts from the scalars (no N arrays to read)
            for (i64 i = 0; i < n; ++i) vt[i] = v_init;
            if (ALIF) for (i64 i = 0; i < n; ++i) at[i] = a_init;
        }
        for (i64 t = 0; t < T; ++t) {
            if (ck_v && t % K == 0) {
                std::memcpy(ck_v + (t / K) * N + i0, vt, n * sizeof(float));
                if (ALIF) std::memcpy(ck_a + (t / K) * N + i0, at, n * sizeof(float));
            }
            float* st = s_out + t * N + i0;
            step_tile<CH, SOFT, ALIF>(x + t * N + i0, vt, at, tp, nullptr, nt ? sbuf : st, n);
            if (nt) store_row(st, sbuf, n, true);
        }
    }
    stream_fence();
    }
}

template <int CH, bool SOFT, bool ALIF, bool DETACH, bool GD>
static void backward_impl(i64 T, i64 N, const float* x, const float* gs, float* gx, float* gv, float* ga,
                          double* gd, const Params& P, const float* ck_v, const float* ck_a, i64 K,
                          int sg, float p0, float p1, float p2, int nthreads, int zero_gstate) {
    i64 ntiles = (N + TILE - 1) / TILE;
    i64 nchunks = (T + K - 1) / K;
    const bool nt = T * N * (i64)sizeof(float) >= STREAM_BYTES;
#pragma omp parallel num_threads(nthreads)
    {
        float* GX = (float*)std::malloc(sizeof(float) * TILE);
        float* H = (float*)std::malloc(sizeof(float) * K * TILE);
        float* VP = GD ? (float*)std::malloc(sizeof(float) * K * TILE) : nullptr;
        float* AP = ALIF ? (float*)std::malloc(sizeof(float) * K * TILE) : nullptr;
        float* Z = (float*)std::malloc(sizeof(float) * TILE);
        float* G = (float*)std::malloc(sizeof(float) * TILE);
        float* vcur = (float*)std::malloc(sizeof(float) * TILE);
        float* acur = (float*)std::malloc(sizeof(float) * TILE);
        double* gdacc = (double*)std::malloc(sizeof(double) * TILE);
        TileParams* tpp = new TileParams;
        TileParams& tp = *tpp;
#pragma omp for schedule(static)
        for (i64 tile = 0; tile < ntiles; ++tile) {
            i64 i0 = tile * TILE, n = std::min(TILE, N - i0);
            tp.load(P, i0, n);
            const float* __restrict vth = tp.vth; const float* __restrict rest = tp.rest;
            const float* __restrict d = tp.d; const float* __restrict rho = tp.rho;
            const float* __restrict beta = tp.beta;
            float* __restrict gvt = gv + i0;
            float* __restrict gat = ALIF ? ga + i0 : nullptr;
            if (zero_gstate) {  // the final state had no gradient: start from zero in cache
                for (i64 i = 0; i < n; ++i) gvt[i] = 0.0f;
                if (ALIF) for (i64 i = 0; i < n; ++i) gat[i] = 0.0f;
            }
            if (GD) for (i64 i = 0; i < n; ++i) gdacc[i] = 0.0;
            for (i64 c = nchunks - 1; c >= 0; --c) {
                i64 t0 = c * K, L = std::min(K, T - t0);
                // recompute the chunk: H (and V before the step, a before the step)
                std::memcpy(vcur, ck_v + c * N + i0, n * sizeof(float));
                if (ALIF) std::memcpy(acur, ck_a + c * N + i0, n * sizeof(float));
                for (i64 j = 0; j < L; ++j) {
                    if (GD) std::memcpy(VP + j * n, vcur, n * sizeof(float));
                    if (ALIF) std::memcpy(AP + j * n, acur, n * sizeof(float));
                    step_tile<CH, SOFT, ALIF>(x + (t0 + j) * N + i0, vcur, acur, tp, H + j * n, nullptr, n);
                }
                for (i64 j = L - 1; j >= 0; --j) {
                    i64 t = t0 + j;
                    const float* __restrict h = H + j * n;
                    const float* __restrict ap = ALIF ? AP + j * n : nullptr;
#pragma omp simd
                    for (i64 i = 0; i < n; ++i) {
                        float th = ALIF ? vth[i] + beta[i] * ap[i] : vth[i];
                        Z[i] = h[i] - th;
                    }
                    surrogate_grad(sg, p0, p1, p2, Z, G, n);
                    const float* __restrict gst = gs + t * N + i0;
                    float* __restrict gxt = nt ? GX : gx + t * N + i0;
                    const float* __restrict xt = x + t * N + i0;
                    const float* __restrict vp = GD ? VP + j * n : nullptr;
#pragma omp simd
                    for (i64 i = 0; i < n; ++i) {
                        float hi = h[i];
                        float z = Z[i];
                        float s = z >= 0.0f ? 1.0f : 0.0f;
                        float th = ALIF ? vth[i] + beta[i] * ap[i] : vth[i];
                        float gvi = gvt[i];
                        float go = gst[i];
                        if (ALIF) go = go + gat[i];
                        if (!DETACH) go = go + gvi * (SOFT ? -th : (rest[i] - hi));
                        float gz = go * G[i];
                        float gh = (SOFT ? gvi : gvi * (1.0f - s)) + gz;
                        if (ALIF) {
                            float gth = SOFT ? -gz - gvi * s : -gz;
                            gat[i] = gat[i] * rho[i] + gth * beta[i];
                        }
                        if (CH == 0) {
                            gxt[i] = gh;
                            gvt[i] = gh;
                        } else {
                            float ghd = gh * d[i];
                            gxt[i] = CH == 1 ? ghd : gh;
                            gvt[i] = gh - ghd;
                            if (GD) {
                                float q = CH == 1 ? xt[i] - (vp[i] - rest[i]) : -(vp[i] - rest[i]);
                                gdacc[i] += (double)(gh * q);
                            }
                        }
                    }
                    if (nt) store_row(gx + t * N + i0, GX, n, true);
                }
            }
            if (GD) for (i64 i = 0; i < n; ++i) gd[i0 + i] = gdacc[i];
        }
        stream_fence();
        delete tpp;
        std::free(GX); std::free(H); std::free(VP); std::free(AP); std::free(Z); std::free(G);
        std::free(vcur); std::free(acur); std::free(gdacc);
    }
}

#define FWD_CASE(CH, SOFT, ALIF) \
    if (ch == CH && soft == SOFT && alif == ALIF) { \
        forward_impl<CH, SOFT, ALIF>(T, N, x, s_out, v, a, P, ck_v, ck_a, K, nthreads, init, v_init, a_init); \
        return 0; }

#define BWD_CASE(CH, SOFT, ALIF, DETACH, GD) \
    if (ch == CH && soft == SOFT && alif == ALIF && detach == DETACH && need_gd == GD) { \
        backward_impl<CH, SOFT, ALIF, DETACH, GD>(T, N, x, gs, gx, gv, ga, gd, P, ck_v, ck_a, K, sg, p0, p1, \
                                                  p2, nthreads, zero_gstate); return 0; }

#define BWD_RESETS(CH, ALIF, GD) \
    BWD_CASE(CH, 0, ALIF, 0, GD) BWD_CASE(CH, 0, ALIF, 1, GD) BWD_CASE(CH, 1, ALIF, 0, GD) BWD_CASE(CH, 1, ALIF, 1, GD)

static Params make_params(const float* const* p, const int* stride) {
    Params P;
    for (int k = 0; k < 5; ++k) { P.p[k] = p[k]; P.stride[k] = stride[k]; }
    return P;
}

extern "C" {

int sf_version() { return 2; }

int sf_forward(int ch, int soft, int alif, i64 T, i64 N, const float* x, float* s_out, float* v, float* a,
               const float* const* params, const int* strides, float* ck_v, float* ck_a, i64 K, int nthreads,
               int init, float v_init, float a_init) {
    Params P = make_params(params, strides);
    if (K < 1) K = 1;
    FWD_CASE(0, 0, 0) FWD_CASE(0, 1, 0)
    FWD_CASE(1, 0, 0) FWD_CASE(1, 1, 0) FWD_CASE(2, 0, 0) FWD_CASE(2, 1, 0)
    FWD_CASE(1, 0, 1) FWD_CASE(1, 1, 1) FWD_CASE(2, 0, 1) FWD_CASE(2, 1, 1)
    return -1;
}

int sf_backward(int ch, int soft, int alif, int detach, int need_gd, i64 T, i64 N, const float* x,
                const float* gs, float* gx, float* gv, float* ga, double* gd, const float* const* params,
                const int* strides, const float* ck_v, const float* ck_a, i64 K, int sg, float p0, float p1,
                float p2, int nthreads, int zero_gstate) {
    Params P = make_params(params, strides);
    if (K < 1) K = 1;
    BWD_RESETS(0, 0, 0)
    BWD_RESETS(1, 0, 0) BWD_RESETS(2, 0, 0) BWD_RESETS(1, 0, 1) BWD_RESETS(2, 0, 1)
    BWD_RESETS(1, 1, 0) BWD_RESETS(2, 1, 0) BWD_RESETS(1, 1, 1) BWD_RESETS(2, 1, 1)
    return -1;
}

}  // extern "C"
"""


def _surrogate_grad(codes) -> str:
    """``surrogate_grad``: g = dS/dz over one tile for surrogate number ``kind`` (an index into
    ``codes``), each case the surrogate's own ``KernelCode.cpp``."""
    cases = []
    for k, code in enumerate(codes):
        cases.append(f"    case {k}:   // {code.name}\n#pragma omp simd\n"
                     f"        for (i64 i = 0; i < n; ++i) {{ const float z = zs[i]; float g; {code.cpp} gs[i] = g; }}\n"
                     f"        break;")
    return ("// g = dS/dz of the surrogate, for the z of one tile.\n"
            "static void surrogate_grad(int kind, float p0, float p1, float p2, const float* __restrict zs,\n"
            "                           float* __restrict gs, i64 n) {\n"
            "    (void)p0; (void)p1; (void)p2;\n    switch (kind) {\n" + "\n".join(cases) +
            "\n    default:\n        for (i64 i = 0; i < n; ++i) gs[i] = 0.0f;\n    }\n}\n")


def source(codes) -> str:
    """The C++ source with the surrogates ``codes`` (``surrogate.KernelCode``), numbered in order."""
    return _TEMPLATE.replace("@SURROGATES@", _surrogate_grad(codes))

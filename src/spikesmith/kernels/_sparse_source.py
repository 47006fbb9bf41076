"""The C++ of the sparse spike kernels: accumulate-only products of binary spikes and dense weights.

A spike is 0 or 1, so a layer fed by spikes needs no multiplication: each spike adds one weight
column (a Linear) or one kernel footprint (a Conv2d) to the output. The work is split in two
passes, each an OpenMP loop:

- ``ss_gather``: every row of ``x`` (``rows x length`` floats) to the list of its active positions,
  written at ``idx[start[row] ...]`` with its count in ``count[row]`` (each thread packs its rows'
  lists one after another, so the memory written is that of the spikes). It returns the number of
  values that are neither 0 nor 1 (the caller refuses those inputs) and writes the number of spikes.
- ``ss_linear``: ``out[m, :] = bias + sum over active i of wt[i, :]`` with ``wt`` the weight
  transposed (``in x out``, contiguous: a column of ``W`` is a contiguous row of ``wt``), in blocks of
  64 output channels held in registers while the spikes of a row are added.
- ``ss_spike_mask``: a Conv2d's input ``[N, C, H, W]`` to a bit set of active channels per sample and
  position (``ceil(C / 64)`` words each), with the same count of spikes and of bad values.
- ``ss_conv2d``: per output position (channels last), the bias plus ``wk[c, ky, kx, :]`` (the weight
  as ``C x kh x kw x O``) for every active channel ``c`` at every tap ``(ky, kx)`` of its window,
  summed in registers and written once. Stride and zero padding; dilation 1, groups 1.

The loops over output channels are the vector loops: AVX-512 intrinsics where the CPU has them (the
sums stay in registers), plain loops with ``omp simd`` elsewhere. The source uses no torch or
Python headers; ``kernels.sparse`` compiles it with the flags and cache of ``_build``.
"""

SOURCE = r"""
#include <cstdint>
#include <cstring>
#include <vector>
#ifdef __AVX512F__
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

extern "C" int ss_abi_version() { return 1; }

// The active positions of one row: AVX-512 compress where the CPU has it, else branch-free. Writes up to
// 16 values past the row's last position (the caller leaves room).
static inline int64_t gather_row(const float* xr, int64_t length, int32_t* out, int64_t* bad) {
    int64_t n = 0, b = 0, i = 0;
#ifdef __AVX512F__
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    const __m512i step = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    for (; i + 16 <= length; i += 16) {
        __m512 v = _mm512_loadu_ps(xr + i);
        __mmask16 nz = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);   // NaN counts as a value, a bad one
        __mmask16 ones = _mm512_cmp_ps_mask(v, one, _CMP_EQ_OQ);
        b += __builtin_popcount((unsigned)(nz & (__mmask16)~ones));
        // compress in a register and store all 16 lanes: a masked compress store to memory is
        // microcoded on some CPUs (Zen 4) and ten times slower; the lanes past n are overwritten later
        __m512i at = _mm512_maskz_compress_epi32(nz, _mm512_add_epi32(_mm512_set1_epi32((int)i), step));
        _mm512_storeu_si512((void*)(out + n), at);
        n += __builtin_popcount((unsigned)nz);
    }
#endif
    for (; i < length; ++i) {
        float v = xr[i];
        int nz = !(v == 0.0f);
        out[n] = (int32_t)i;
        n += nz;
        b += nz & !(v == 1.0f);
    }
    *bad += b;
    return n;
}

extern "C" int64_t ss_gather(const float* x, int64_t rows, int64_t length, int32_t* idx, int64_t* start, int64_t* count,
                  int64_t* spikes, int nthreads) {
    int64_t bad = 0, total = 0;
    // each thread packs the lists of its rows one after another from idx + lo * length: the memory
    // touched is that of the spikes, not of the input
    #pragma omp parallel num_threads(nthreads) reduction(+:bad, total)
    {
        int64_t nt = 1, me = 0;
#ifdef _OPENMP
        nt = omp_get_num_threads();
        me = omp_get_thread_num();
#endif
        const int64_t lo = rows * me / nt, hi = rows * (me + 1) / nt;
        int64_t at = lo * length + me * 16;     // 16 spare lanes per thread for the full-width stores
        for (int64_t r = lo; r < hi; ++r) {
            const int64_t n = gather_row(x + r * length, length, idx + at, &bad);
            start[r] = at;
            count[r] = n;
            at += n;
            total += n;
        }
    }
    *spikes = total;
    return bad;
}

static const int64_t BLOCK = 64;

// acc[0:64] = b[0:64] (or 0) + sum over j of w[active[j] * stride + 0:64], the sum held in registers.
static inline void block_sum(float* acc, const float* b, const float* w, int64_t stride, const int32_t* active,
                             int64_t n) {
#ifdef __AVX512F__
    __m512 a0 = b ? _mm512_loadu_ps(b) : _mm512_setzero_ps();
    __m512 a1 = b ? _mm512_loadu_ps(b + 16) : _mm512_setzero_ps();
    __m512 a2 = b ? _mm512_loadu_ps(b + 32) : _mm512_setzero_ps();
    __m512 a3 = b ? _mm512_loadu_ps(b + 48) : _mm512_setzero_ps();
    for (int64_t j = 0; j < n; ++j) {
        const float* r = w + (int64_t)active[j] * stride;
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(r));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(r + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(r + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(r + 48));
    }
    _mm512_storeu_ps(acc, a0);
    _mm512_storeu_ps(acc + 16, a1);
    _mm512_storeu_ps(acc + 32, a2);
    _mm512_storeu_ps(acc + 48, a3);
#else
    for (int64_t o = 0; o < BLOCK; ++o) acc[o] = b ? b[o] : 0.0f;
    for (int64_t j = 0; j < n; ++j) {
        const float* r = w + (int64_t)active[j] * stride;
        #pragma omp simd
        for (int64_t o = 0; o < BLOCK; ++o) acc[o] += r[o];
    }
#endif
}

extern "C" void ss_linear(const int32_t* idx, const int64_t* start, const int64_t* count, int64_t rows, int64_t length, const float* wt,
               int64_t out_features, const float* bias, float* out, int nthreads) {
    const int64_t O = out_features;
    // blocks of output channels outside, rows inside: one block of weight columns (length x 64 floats)
    // stays in cache while every row of the thread adds its spikes' slices of it
    #pragma omp parallel num_threads(nthreads)
    {
        int64_t nt = 1, me = 0;
#ifdef _OPENMP
        nt = omp_get_num_threads();
        me = omp_get_thread_num();
#endif
        const int64_t lo = rows * me / nt, hi = rows * (me + 1) / nt;
        for (int64_t o0 = 0; o0 < O; o0 += BLOCK) {
            const int64_t len = (O - o0 < BLOCK) ? (O - o0) : BLOCK;
            for (int64_t m = lo; m < hi; ++m) {
                const int32_t* active = idx + start[m];
                const int64_t n = count[m];
                float* y = out + m * O + o0;
                float acc[BLOCK];
                if (len == BLOCK) {
                    block_sum(acc, bias ? bias + o0 : nullptr, wt + o0, O, active, n);
                    for (int64_t o = 0; o < BLOCK; ++o) y[o] = acc[o];
                } else {
                    for (int64_t o = 0; o < len; ++o) acc[o] = bias ? bias[o0 + o] : 0.0f;
                    for (int64_t j = 0; j < n; ++j) {
                        const float* w = wt + (int64_t)active[j] * O + o0;
                        #pragma omp simd
                        for (int64_t o = 0; o < len; ++o) acc[o] += w[o];
                    }
                    for (int64_t o = 0; o < len; ++o) y[o] = acc[o];
                }
            }
        }
    }
}

// For each sample and input position, the set of active channels as bits: mask[(m * L + p) * words + c / 64]
// holds bit c % 64. x is [samples, C, L] (NCHW). Returns the number of values neither 0 nor 1.
extern "C" int64_t ss_spike_mask(const float* x, int64_t samples, int64_t C, int64_t L, uint64_t* mask, int64_t* spikes,
                      int nthreads) {
    const int64_t words = (C + 63) / 64;
    int64_t bad = 0, total = 0;
    #pragma omp parallel for schedule(static) num_threads(nthreads) reduction(+:bad, total)
    for (int64_t m = 0; m < samples; ++m) {
        uint64_t* mm = mask + m * L * words;
        std::memset(mm, 0, sizeof(uint64_t) * L * words);
        for (int64_t c = 0; c < C; ++c) {
            const float* xr = x + (m * C + c) * L;
            uint64_t* col = mm + c / 64;
            const uint64_t bit = (uint64_t)1 << (c % 64);
            int64_t i = 0;
#ifdef __AVX512F__
            const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
            for (; i + 16 <= L; i += 16) {
                __m512 v = _mm512_loadu_ps(xr + i);
                unsigned nz = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
                if (!nz) continue;
                unsigned ones = _mm512_cmp_ps_mask(v, one, _CMP_EQ_OQ);
                bad += __builtin_popcount(nz & ~ones);
                total += __builtin_popcount(nz);
                while (nz) {
                    int k = __builtin_ctz(nz);
                    nz &= nz - 1;
                    col[(i + k) * words] |= bit;
                }
            }
#endif
            for (; i < L; ++i) {
                float v = xr[i];
                if (v != 0.0f) {
                    col[i * words] |= bit;
                    ++total;
                    bad += (v != 1.0f);
                }
            }
        }
    }
    *spikes = total;
    return bad;
}

// For each input position p of one sample: the offsets c * taps * O of its active channels, at
// lists[p * cap ...] (cap = C rounded up to 16), their number in counts[p]. AVX-512 compress where the CPU
// has it (16 channels a step).
static inline void position_lists(const uint64_t* mask, int64_t words, int64_t C, int64_t L, int64_t taps,
                                  int64_t O, int64_t cap, int32_t* lists, int32_t* counts) {
#ifdef __AVX512F__
    const int64_t chunks = (C + 15) / 16;
    const __m512i lane = _mm512_mullo_epi32(
        _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32((int)(taps * O)));
    for (int64_t p = 0; p < L; ++p) {
        const uint16_t* bits = (const uint16_t*)(mask + p * words);
        int32_t* out = lists + p * cap;
        int n = 0;
        for (int64_t g = 0; g < chunks; ++g) {
            const __mmask16 k = bits[g];
            const __m512i rows = _mm512_add_epi32(lane, _mm512_set1_epi32((int)(g * 16 * taps * O)));
            _mm512_storeu_si512((void*)(out + n), _mm512_maskz_compress_epi32(k, rows));
            n += __builtin_popcount((unsigned)k);
        }
        counts[p] = n;
    }
#else
    for (int64_t p = 0; p < L; ++p) {
        const uint64_t* bits = mask + p * words;
        int32_t* out = lists + p * cap;
        int n = 0;
        for (int64_t wd = 0; wd < words; ++wd) {
            uint64_t b = bits[wd];
            while (b) {
                out[n++] = (int32_t)((wd * 64 + __builtin_ctzll(b)) * taps * O);
                b &= b - 1;
            }
        }
        counts[p] = n;
    }
#endif
}

// The rows of wk (offsets in floats) that one output position adds: for every tap t of its window
// (input position tap_p[t], kernel offset tap_k[t] = ky * kw + kx), the list of that position plus
// tap_k[t] * O. Returns the count; writes up to 16 entries past it.
static inline int64_t window_rows(const int32_t* lists, const int32_t* counts, int64_t cap, int64_t O,
                                  const int32_t* tap_k, const int64_t* tap_p, int ntaps, int32_t* list) {
    int64_t n = 0;
    for (int t = 0; t < ntaps; ++t) {
        const int32_t* src = lists + tap_p[t] * cap;
        const int32_t m = counts[tap_p[t]];
        const int32_t add = tap_k[t] * (int32_t)O;
#ifdef __AVX512F__
        // the first 16 unconditionally (entries past m are overwritten by the next tap or ignored)
        const __m512i shift = _mm512_set1_epi32(add);
        _mm512_storeu_si512((void*)(list + n), _mm512_add_epi32(_mm512_loadu_si512((const void*)src), shift));
        for (int32_t k = 16; k < m; k += 16)
            _mm512_storeu_si512((void*)(list + n + k),
                                _mm512_add_epi32(_mm512_loadu_si512((const void*)(src + k)), shift));
#else
        for (int32_t k = 0; k < m; ++k) list[n + k] = src[k] + add;
#endif
        n += m;
    }
    return n;
}

// y[0:len] = bias[o0:o0 + len] + sum over the list of wk[row + o0 : row + o0 + len] (len <= 64), in
// registers: two sets of accumulators (even and odd entries) to hide the latency of the adds.
template <int NV>
static inline void sum_rows(const float* wk, const int32_t* list, int64_t n, int64_t o0, int64_t len,
                            const float* bias, float* y) {
#ifdef __AVX512F__
    __m512 a[NV], b[NV];
    const __mmask16 tail = (len % 16) ? (__mmask16)((1u << (len % 16)) - 1) : (__mmask16)0xFFFF;
    for (int v = 0; v < NV; ++v) {
        const __mmask16 k = (v == NV - 1) ? tail : (__mmask16)0xFFFF;
        a[v] = bias ? _mm512_maskz_loadu_ps(k, bias + o0 + 16 * v) : _mm512_setzero_ps();
        b[v] = _mm512_setzero_ps();
    }
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
        const float* r0 = wk + list[j] + o0;
        const float* r1 = wk + list[j + 1] + o0;
        for (int v = 0; v < NV; ++v) {
            const __mmask16 k = (v == NV - 1) ? tail : (__mmask16)0xFFFF;
            a[v] = _mm512_add_ps(a[v], _mm512_maskz_loadu_ps(k, r0 + 16 * v));
            b[v] = _mm512_add_ps(b[v], _mm512_maskz_loadu_ps(k, r1 + 16 * v));
        }
    }
    if (j < n) {
        const float* r0 = wk + list[j] + o0;
        for (int v = 0; v < NV; ++v) {
            const __mmask16 k = (v == NV - 1) ? tail : (__mmask16)0xFFFF;
            a[v] = _mm512_add_ps(a[v], _mm512_maskz_loadu_ps(k, r0 + 16 * v));
        }
    }
    for (int v = 0; v < NV; ++v) {
        const __mmask16 k = (v == NV - 1) ? tail : (__mmask16)0xFFFF;
        _mm512_mask_storeu_ps(y + 16 * v, k, _mm512_add_ps(a[v], b[v]));
    }
#else
    float acc[64];
    for (int64_t o = 0; o < len; ++o) acc[o] = bias ? bias[o0 + o] : 0.0f;
    for (int64_t j = 0; j < n; ++j) {
        const float* r = wk + list[j] + o0;
        #pragma omp simd
        for (int64_t o = 0; o < len; ++o) acc[o] += r[o];
    }
    for (int64_t o = 0; o < len; ++o) y[o] = acc[o];
#endif
}

// out[m, oy, ox, :] (channels last) = bias + sum over the window's active (c, ky, kx) of wk[c, ky, kx, :],
// one output position at a time with its sum in registers (each output is written once).
extern "C" void ss_conv2d(const uint64_t* mask, int64_t samples, int64_t C, int64_t H, int64_t W, const float* wk,
               int64_t O, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t Ho,
               int64_t Wo, const float* bias, float* out, int nthreads) {
    const int64_t words = (C + 63) / 64, L = H * W, taps = kh * kw, P = Ho * Wo;
    // the window of every output position, the same for every sample: its taps' kernel offsets and
    // input positions
    std::vector<int32_t> ntaps(P), tap_k(P * taps);
    std::vector<int64_t> tap_p(P * taps);
    for (int64_t oy = 0; oy < Ho; ++oy) {
        for (int64_t ox = 0; ox < Wo; ++ox) {
            const int64_t q = oy * Wo + ox;
            int nt = 0;
            for (int64_t ky = 0; ky < kh; ++ky) {
                const int64_t iy = oy * sh - ph + ky;
                if (iy < 0 || iy >= H) continue;
                for (int64_t kx = 0; kx < kw; ++kx) {
                    const int64_t ix = ox * sw - pw + kx;
                    if (ix < 0 || ix >= W) continue;
                    tap_k[q * taps + nt] = (int32_t)(ky * kw + kx);
                    tap_p[q * taps + nt] = iy * W + ix;
                    ++nt;
                }
            }
            ntaps[q] = nt;
        }
    }
    #pragma omp parallel num_threads(nthreads)
    {
        const int64_t cap = ((C + 15) / 16) * 16;
        std::vector<int32_t> list(taps * cap + 16), lists(L * cap + 16), counts(L);
        #pragma omp for schedule(static)
        for (int64_t m = 0; m < samples; ++m) {
            position_lists(mask + m * L * words, words, C, L, taps, O, cap, lists.data(), counts.data());
            for (int64_t q = 0; q < P; ++q) {
                const int64_t n = window_rows(lists.data(), counts.data(), cap, O, tap_k.data() + q * taps,
                                              tap_p.data() + q * taps, ntaps[q], list.data());
                float* y = out + (m * P + q) * O;
                for (int64_t o0 = 0; o0 < O; o0 += 64) {
                    const int64_t len = (O - o0 < 64) ? (O - o0) : 64;
                    switch ((len + 15) / 16) {
                        case 1: sum_rows<1>(wk, list.data(), n, o0, len, bias, y + o0); break;
                        case 2: sum_rows<2>(wk, list.data(), n, o0, len, bias, y + o0); break;
                        case 3: sum_rows<3>(wk, list.data(), n, o0, len, bias, y + o0); break;
                        default: sum_rows<4>(wk, list.data(), n, o0, len, bias, y + o0); break;
                    }
                }
            }
        }
    }
}
"""

/* anju.ingest._native — batch kernels for ingest that have no vectorised equivalent in pyarrow/DuckDB.
 *
 * hmac_sha256: HMAC-SHA256 (RFC 2104) of every string of an Arrow string array, written as its 32 digest bytes
 *   (the lake's form) or 64 lowercase hex characters per value into one bytes object. The key's inner and outer pad blocks are compressed once per call
 *   (the standard "precomputed midstate" form of HMAC), so a short value costs two SHA-256 compressions instead of
 *   four. The compression uses the CPU's SHA extensions (SHA-NI) when present, else portable C; values are hashed
 *   four at a time (compress_ni4 interleaves four latency-bound round chains). Runs without the interpreter lock.
 * replace_each: row by row, replace every occurrence of needles[i] in texts[i] by replacements[i] (byte-wise, which
 *   for valid UTF-8 is the same as character-wise).
 * phone_norm_mask / name_norm_mask: caller phone numbers and names normalised and masked in one pass (the HMAC input
 *   and the stored masked form; anju.ingest.pii has the same rules in Arrow compute as the fallback).
 * digit_runs: which values of a string array hold a run of k ASCII digits (RE2's \d{k}), optionally allowing one
 *   separator between digits (the candidate test of the text masks); eight bytes at a time where it can (SWAR).
 * parse_decimal: decimal strings → float64 with anju.ingest.enrich.parse_numbers's grammar (the Arrow path there is the
 *   fallback and the reference).
 * double_byte_table / double_byte_decode: GBK-family → UTF-8 through a table of every two-byte code made by iconv(3)
 *   itself, up to the first code the table lacks (readers.py hands the rest to iconv).
 *
 * Built by `pip install` of anju (optional: when no C compiler is available, anju.ingest.pii falls back to DuckDB
 * SQL and RE2, anju.ingest.readers to iconv alone). Tested against Python's hmac module, the DuckDB path, RE2 and
 * iconv in tests/ingest/test_pii.py and tests/ingest/test_readers.py.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* memmem */
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <iconv.h>
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define ANJU_X86 1
#endif

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress_c(uint32_t st[8], const uint8_t *block) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = ((uint32_t)block[4 * i] << 24) | ((uint32_t)block[4 * i + 1] << 16) |
               ((uint32_t)block[4 * i + 2] << 8) | (uint32_t)block[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

#ifdef ANJU_X86
/* SHA-NI compression of one 64-byte block (the layout of Intel's reference code). */
__attribute__((target("sha,sse4.1"))) static void compress_ni(uint32_t st[8], const uint8_t *block) {
    const __m128i MASK = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i TMP = _mm_loadu_si128((const __m128i *)&st[0]);
    __m128i STATE1 = _mm_loadu_si128((const __m128i *)&st[4]);
    TMP = _mm_shuffle_epi32(TMP, 0xB1);          /* CDAB */
    STATE1 = _mm_shuffle_epi32(STATE1, 0x1B);    /* EFGH */
    __m128i STATE0 = _mm_alignr_epi8(TMP, STATE1, 8); /* ABEF */
    STATE1 = _mm_blend_epi16(STATE1, TMP, 0xF0);  /* CDGH */
    __m128i ABEF_SAVE = STATE0, CDGH_SAVE = STATE1;
    __m128i MSG, MSG0, MSG1, MSG2, MSG3;

    MSG0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 0)), MASK);
    MSG1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16)), MASK);
    MSG2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 32)), MASK);
    MSG3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 48)), MASK);

#define RNDS(M, k)                                                                   \
    MSG = _mm_add_epi32(M, _mm_loadu_si128((const __m128i *)&K256[k]));            \
    STATE1 = _mm_sha256rnds2_epu32(STATE1, STATE0, MSG);                           \
    MSG = _mm_shuffle_epi32(MSG, 0x0E);                                            \
    STATE0 = _mm_sha256rnds2_epu32(STATE0, STATE1, MSG);

    /* rounds 0-15 */
    RNDS(MSG0, 0);
    RNDS(MSG1, 4);
    MSG0 = _mm_sha256msg1_epu32(MSG0, MSG1);
    RNDS(MSG2, 8);
    MSG1 = _mm_sha256msg1_epu32(MSG1, MSG2);
    RNDS(MSG3, 12);
    /* rounds 16-63: schedule on the fly */
    for (int k = 16; k < 64; k += 16) {
        TMP = _mm_alignr_epi8(MSG3, MSG2, 4);
        MSG0 = _mm_add_epi32(MSG0, TMP);
        MSG0 = _mm_sha256msg2_epu32(MSG0, MSG3);
        RNDS(MSG0, k);
        MSG2 = _mm_sha256msg1_epu32(MSG2, MSG3);

        TMP = _mm_alignr_epi8(MSG0, MSG3, 4);
        MSG1 = _mm_add_epi32(MSG1, TMP);
        MSG1 = _mm_sha256msg2_epu32(MSG1, MSG0);
        RNDS(MSG1, k + 4);
        MSG3 = _mm_sha256msg1_epu32(MSG3, MSG0);

        TMP = _mm_alignr_epi8(MSG1, MSG0, 4);
        MSG2 = _mm_add_epi32(MSG2, TMP);
        MSG2 = _mm_sha256msg2_epu32(MSG2, MSG1);
        RNDS(MSG2, k + 8);
        MSG0 = _mm_sha256msg1_epu32(MSG0, MSG1);

        TMP = _mm_alignr_epi8(MSG2, MSG1, 4);
        MSG3 = _mm_add_epi32(MSG3, TMP);
        MSG3 = _mm_sha256msg2_epu32(MSG3, MSG2);
        RNDS(MSG3, k + 12);
        MSG1 = _mm_sha256msg1_epu32(MSG1, MSG2);
    }
#undef RNDS
    STATE0 = _mm_add_epi32(STATE0, ABEF_SAVE);
    STATE1 = _mm_add_epi32(STATE1, CDGH_SAVE);
    TMP = _mm_shuffle_epi32(STATE0, 0x1B);       /* FEBA */
    STATE1 = _mm_shuffle_epi32(STATE1, 0xB1);    /* DCHG */
    STATE0 = _mm_blend_epi16(TMP, STATE1, 0xF0); /* DCBA */
    STATE1 = _mm_alignr_epi8(STATE1, TMP, 8);    /* ABEF */
    _mm_storeu_si128((__m128i *)&st[0], STATE0);
    _mm_storeu_si128((__m128i *)&st[4], STATE1);
}

/* The SHA-NI steps of compress_ni for one lane L (a prefix of its variables: L##S0 = ABEF, L##S1 = CDGH, L##M0..3
 * the message schedule), written as macros so that several independent lanes can be interleaved. */
#define LOAD(L, st, block)                                                                       \
    L##T = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xB1);    /* CDAB */     \
    L##S1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1B);   /* EFGH */     \
    L##S0 = _mm_alignr_epi8(L##T, L##S1, 8);                                     /* ABEF */     \
    L##S1 = _mm_blend_epi16(L##S1, L##T, 0xF0);                                  /* CDGH */     \
    L##SAVE0 = L##S0;                                                                           \
    L##SAVE1 = L##S1;                                                                           \
    L##M0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 0)), MASK);            \
    L##M1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 16)), MASK);           \
    L##M2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 32)), MASK);           \
    L##M3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 48)), MASK);
#define RNDS(L, X, k)                                                                            \
    L##M = _mm_add_epi32(L##X, _mm_loadu_si128((const __m128i *)&K256[k]));                     \
    L##S1 = _mm_sha256rnds2_epu32(L##S1, L##S0, L##M);                                          \
    L##M = _mm_shuffle_epi32(L##M, 0x0E);                                                       \
    L##S0 = _mm_sha256rnds2_epu32(L##S0, L##S1, L##M);
/* four rounds on the schedule word group X, computed from the two before it (P2, P1) */
#define SCHED(L, X, P2, P1, k)                                                                   \
    L##T = _mm_alignr_epi8(L##P1, L##P2, 4);                                                    \
    L##X = _mm_sha256msg2_epu32(_mm_add_epi32(L##X, L##T), L##P1);                              \
    RNDS(L, X, k)                                                                               \
    L##P2 = _mm_sha256msg1_epu32(L##P2, L##P1);
#define STORE(L, st)                                                                             \
    L##S0 = _mm_add_epi32(L##S0, L##SAVE0);                                                     \
    L##S1 = _mm_add_epi32(L##S1, L##SAVE1);                                                     \
    L##T = _mm_shuffle_epi32(L##S0, 0x1B);                                       /* FEBA */     \
    L##S1 = _mm_shuffle_epi32(L##S1, 0xB1);                                      /* DCHG */     \
    _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(L##T, L##S1, 0xF0));     /* DCBA */     \
    _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(L##S1, L##T, 8));        /* HGFE */

/* Two independent SHA-NI compressions (st_a ← block_a, st_b ← block_b) with their round instructions interleaved.
 * One lane's sha256rnds2 chain is latency-bound (each pair of rounds waits for the previous one), so a second,
 * independent chain fills the idle issue slots: two values hashed in little more than the time of one. Same
 * arithmetic as compress_ni, lane by lane. */
__attribute__((target("sha,sse4.1"))) static void compress_ni2(uint32_t st_a[8], const uint8_t *block_a,
                                                               uint32_t st_b[8], const uint8_t *block_b) {
    const __m128i MASK = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a_S0, a_S1, a_T, a_M, a_M0, a_M1, a_M2, a_M3, a_SAVE0, a_SAVE1;
    __m128i b_S0, b_S1, b_T, b_M, b_M0, b_M1, b_M2, b_M3, b_SAVE0, b_SAVE1;
    LOAD(a_, st_a, block_a)
    LOAD(b_, st_b, block_b)
    /* rounds 0-15 */
    RNDS(a_, M0, 0)
    RNDS(b_, M0, 0)
    RNDS(a_, M1, 4)
    RNDS(b_, M1, 4)
    a_M0 = _mm_sha256msg1_epu32(a_M0, a_M1);
    b_M0 = _mm_sha256msg1_epu32(b_M0, b_M1);
    RNDS(a_, M2, 8)
    RNDS(b_, M2, 8)
    a_M1 = _mm_sha256msg1_epu32(a_M1, a_M2);
    b_M1 = _mm_sha256msg1_epu32(b_M1, b_M2);
    RNDS(a_, M3, 12)
    RNDS(b_, M3, 12)
    /* rounds 16-63: schedule on the fly */
    for (int k = 16; k < 64; k += 16) {
        SCHED(a_, M0, M2, M3, k)
        SCHED(b_, M0, M2, M3, k)
        SCHED(a_, M1, M3, M0, k + 4)
        SCHED(b_, M1, M3, M0, k + 4)
        SCHED(a_, M2, M0, M1, k + 8)
        SCHED(b_, M2, M0, M1, k + 8)
        SCHED(a_, M3, M1, M2, k + 12)
        SCHED(b_, M3, M1, M2, k + 12)
    }
    STORE(a_, st_a)
    STORE(b_, st_b)
}

/* Four lanes (as compress_ni2): on AMD Zen the round instructions still have spare throughput at two. */
__attribute__((target("sha,sse4.1"))) static void compress_ni4(uint32_t st_a[8], const uint8_t *block_a,
                                                               uint32_t st_b[8], const uint8_t *block_b,
                                                               uint32_t st_c[8], const uint8_t *block_c,
                                                               uint32_t st_d[8], const uint8_t *block_d) {
    const __m128i MASK = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a_S0, a_S1, a_T, a_M, a_M0, a_M1, a_M2, a_M3, a_SAVE0, a_SAVE1;
    __m128i b_S0, b_S1, b_T, b_M, b_M0, b_M1, b_M2, b_M3, b_SAVE0, b_SAVE1;
    __m128i c_S0, c_S1, c_T, c_M, c_M0, c_M1, c_M2, c_M3, c_SAVE0, c_SAVE1;
    __m128i d_S0, d_S1, d_T, d_M, d_M0, d_M1, d_M2, d_M3, d_SAVE0, d_SAVE1;
    LOAD(a_, st_a, block_a)
    LOAD(b_, st_b, block_b)
    LOAD(c_, st_c, block_c)
    LOAD(d_, st_d, block_d)
    /* rounds 0-15 */
    RNDS(a_, M0, 0)
    RNDS(b_, M0, 0)
    RNDS(c_, M0, 0)
    RNDS(d_, M0, 0)
    RNDS(a_, M1, 4)
    RNDS(b_, M1, 4)
    RNDS(c_, M1, 4)
    RNDS(d_, M1, 4)
    a_M0 = _mm_sha256msg1_epu32(a_M0, a_M1);
    b_M0 = _mm_sha256msg1_epu32(b_M0, b_M1);
    c_M0 = _mm_sha256msg1_epu32(c_M0, c_M1);
    d_M0 = _mm_sha256msg1_epu32(d_M0, d_M1);
    RNDS(a_, M2, 8)
    RNDS(b_, M2, 8)
    RNDS(c_, M2, 8)
    RNDS(d_, M2, 8)
    a_M1 = _mm_sha256msg1_epu32(a_M1, a_M2);
    b_M1 = _mm_sha256msg1_epu32(b_M1, b_M2);
    c_M1 = _mm_sha256msg1_epu32(c_M1, c_M2);
    d_M1 = _mm_sha256msg1_epu32(d_M1, d_M2);
    RNDS(a_, M3, 12)
    RNDS(b_, M3, 12)
    RNDS(c_, M3, 12)
    RNDS(d_, M3, 12)
    /* rounds 16-63: schedule on the fly */
    for (int k = 16; k < 64; k += 16) {
        SCHED(a_, M0, M2, M3, k)
        SCHED(b_, M0, M2, M3, k)
        SCHED(c_, M0, M2, M3, k)
        SCHED(d_, M0, M2, M3, k)
        SCHED(a_, M1, M3, M0, k + 4)
        SCHED(b_, M1, M3, M0, k + 4)
        SCHED(c_, M1, M3, M0, k + 4)
        SCHED(d_, M1, M3, M0, k + 4)
        SCHED(a_, M2, M0, M1, k + 8)
        SCHED(b_, M2, M0, M1, k + 8)
        SCHED(c_, M2, M0, M1, k + 8)
        SCHED(d_, M2, M0, M1, k + 8)
        SCHED(a_, M3, M1, M2, k + 12)
        SCHED(b_, M3, M1, M2, k + 12)
        SCHED(c_, M3, M1, M2, k + 12)
        SCHED(d_, M3, M1, M2, k + 12)
    }
    STORE(a_, st_a)
    STORE(b_, st_b)
    STORE(c_, st_c)
    STORE(d_, st_d)
}

#undef LOAD
#undef RNDS
#undef SCHED
#undef STORE

static int have_sha_ni(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!(b & (1u << 29))) return 0; /* SHA */
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & (1u << 19)) && (c & (1u << 9)); /* SSE4.1, SSSE3 */
}
#endif

typedef void (*compress_fn)(uint32_t *, const uint8_t *);
typedef void (*compress2_fn)(uint32_t *, const uint8_t *, uint32_t *, const uint8_t *);

typedef void (*compress4_fn)(uint32_t *, const uint8_t *, uint32_t *, const uint8_t *, uint32_t *, const uint8_t *,
                             uint32_t *, const uint8_t *);

/* The portable multi-lane forms: one lane after the other. */
static void compress_c2(uint32_t st_a[8], const uint8_t *block_a, uint32_t st_b[8], const uint8_t *block_b) {
    compress_c(st_a, block_a);
    compress_c(st_b, block_b);
}

static void compress_c4(uint32_t st_a[8], const uint8_t *block_a, uint32_t st_b[8], const uint8_t *block_b,
                        uint32_t st_c[8], const uint8_t *block_c, uint32_t st_d[8], const uint8_t *block_d) {
    compress_c2(st_a, block_a, st_b, block_b);
    compress_c2(st_c, block_c, st_d, block_d);
}

static compress_fn COMPRESS = compress_c;
static compress2_fn COMPRESS2 = compress_c2;
static compress4_fn COMPRESS4 = compress_c4;

static void use_compression(int sha_ni) {
#ifdef ANJU_X86
    if (sha_ni) {
        COMPRESS = compress_ni;
        COMPRESS2 = compress_ni2;
        COMPRESS4 = compress_ni4;
        return;
    }
#else
    (void)sha_ni;
#endif
    COMPRESS = compress_c;
    COMPRESS2 = compress_c2;
    COMPRESS4 = compress_c4;
}

/* Hash the final bytes `msg` (len < any) after `prefix_len` bytes already absorbed into `st`. */
static void sha256_finish(uint32_t st[8], const uint8_t *msg, size_t len, uint64_t prefix_len, uint8_t out[32]) {
    while (len >= 64) {
        COMPRESS(st, msg);
        msg += 64;
        len -= 64;
        prefix_len += 64;
    }
    uint8_t block[128];
    memset(block, 0, sizeof block);
    if (len) memcpy(block, msg, len);
    block[len] = 0x80;
    size_t nblocks = (len + 9 <= 64) ? 1 : 2;
    uint64_t bits = (prefix_len + len) * 8;
    for (int i = 0; i < 8; i++) block[nblocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    COMPRESS(st, block);
    if (nblocks == 2) COMPRESS(st, block + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(st[i] >> 24);
        out[4 * i + 1] = (uint8_t)(st[i] >> 16);
        out[4 * i + 2] = (uint8_t)(st[i] >> 8);
        out[4 * i + 3] = (uint8_t)st[i];
    }
}

static const char HEX[] = "0123456789abcdef";

/* One message after a 64-byte prefix (the HMAC pad block) cut into SHA-256 blocks: its whole 64-byte blocks are read
 * in place, the last bytes with the padding and the length go to `tail` (one or two blocks). */
typedef struct {
    const uint8_t *msg;
    size_t nfull, nblocks;
    uint8_t tail[128];
} sha_blocks;

static void blocks_init(sha_blocks *b, const uint8_t *msg, size_t len) {
    size_t rem = len % 64, ntail = rem + 9 <= 64 ? 1 : 2;
    uint64_t bits = ((uint64_t)len + 64) * 8;
    b->msg = msg;
    b->nfull = len / 64;
    b->nblocks = b->nfull + ntail;
    memset(b->tail, 0, sizeof b->tail);
    if (rem) memcpy(b->tail, msg + b->nfull * 64, rem);
    b->tail[rem] = 0x80;
    for (int i = 0; i < 8; i++) b->tail[ntail * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
}

static inline const uint8_t *block_at(const sha_blocks *b, size_t k) {
    return k < b->nfull ? b->msg + 64 * k : b->tail + 64 * (k - b->nfull);
}

/* The outer message of HMAC: the 32-byte inner digest (state words, big-endian), padded, after the opad block. */
static void outer_block(const uint32_t st[8], uint8_t block[64]) {
    memset(block, 0, 64);
    for (int i = 0; i < 8; i++) {
        block[4 * i] = (uint8_t)(st[i] >> 24);
        block[4 * i + 1] = (uint8_t)(st[i] >> 16);
        block[4 * i + 2] = (uint8_t)(st[i] >> 8);
        block[4 * i + 3] = (uint8_t)st[i];
    }
    block[32] = 0x80;
    block[62] = (uint8_t)((64 + 32) * 8 >> 8); /* 768 bits */
    block[63] = (uint8_t)((64 + 32) * 8);
}

static void digest_out(const uint32_t st[8], uint8_t out[32]) {
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(st[i] >> 24);
        out[4 * i + 1] = (uint8_t)(st[i] >> 16);
        out[4 * i + 2] = (uint8_t)(st[i] >> 8);
        out[4 * i + 3] = (uint8_t)st[i];
    }
}

/* HMAC of `count` (1..4) values at once from the precompressed pad states: at each block index, the values that
 * still have a block are compressed side by side (four lanes, else pairs and a single one), so that independent
 * round chains overlap; then the outer blocks likewise. */
static void hmac_lanes(int count, const uint32_t ist[8], const uint32_t ost[8], const uint8_t *const msg[4],
                       const size_t len[4], uint8_t *const out[4]) {
    sha_blocks m[4];
    uint32_t st[4][8];
    uint8_t ob[4][64];
    const uint8_t *blk[4];
    size_t most = 0;
    for (int j = 0; j < count; j++) {
        blocks_init(&m[j], msg[j], len[j]);
        memcpy(st[j], ist, sizeof st[j]);
        if (m[j].nblocks > most) most = m[j].nblocks;
    }
    for (size_t k = 0; k <= most; k++) { /* k == most: the outer blocks */
        int lane[4], nl = 0;
        for (int j = 0; j < count; j++) {
            if (k < m[j].nblocks) {
                blk[j] = block_at(&m[j], k);
                lane[nl++] = j;
            } else if (k == most) {
                outer_block(st[j], ob[j]);
                memcpy(st[j], ost, sizeof st[j]);
                blk[j] = ob[j];
                lane[nl++] = j;
            }
        }
        int j = 0;
        if (nl == 4) {
            COMPRESS4(st[0], blk[0], st[1], blk[1], st[2], blk[2], st[3], blk[3]);
            continue;
        }
        for (; j + 1 < nl; j += 2) COMPRESS2(st[lane[j]], blk[lane[j]], st[lane[j + 1]], blk[lane[j + 1]]);
        if (j < nl) COMPRESS(st[lane[j]], blk[lane[j]]);
    }
    for (int j = 0; j < count; j++) digest_out(st[j], out[j]);
}

static void hex_out(const uint8_t mac[32], char *p) {
    for (int j = 0; j < 32; j++) {
        p[2 * j] = HEX[mac[j] >> 4];
        p[2 * j + 1] = HEX[mac[j] & 15];
    }
}

/* Check an Arrow string array's offsets (n + 1 int32 entries, already shifted to the array's offset) against its
 * data buffer: long enough, inside the data, non-decreasing. Returns 0, or -1 with ValueError set. */
static int check_offsets(const Py_buffer *offs, const Py_buffer *data, Py_ssize_t n) {
    if (n < 0 || offs->len < (Py_ssize_t)((n + 1) * sizeof(int32_t))) {
        PyErr_SetString(PyExc_ValueError, "offsets buffer too short");
        return -1;
    }
    const int32_t *o = (const int32_t *)offs->buf;
    if (n > 0 && (o[0] < 0 || o[n] > data->len || o[n] < o[0])) {
        PyErr_SetString(PyExc_ValueError, "offsets out of range of the data buffer");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (o[i + 1] < o[i]) {
            PyErr_SetString(PyExc_ValueError, "offsets are not monotonic");
            return -1;
        }
    }
    return 0;
}

/* hmac_sha256(key: bytes, offsets: buffer[int32], data: buffer, n: int, hex: bool)
 *   -> bytes: n * 32 digest bytes, or n * 64 lower-case hex characters when hex is true.
 * offsets has n + 1 entries (already shifted to the array's offset by the caller); values of null slots are
 * hashed too (the caller masks them out). */
static PyObject *hmac_sha256(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer key, offs, data;
    Py_ssize_t n;
    int hex;
    if (!PyArg_ParseTuple(args, "y*y*y*np", &key, &offs, &data, &n, &hex)) return NULL;
    PyObject *result = NULL;
    if (check_offsets(&offs, &data, n) < 0) goto done;
    const int32_t *o = (const int32_t *)offs.buf;
    result = PyBytes_FromStringAndSize(NULL, n * (hex ? 64 : 32));
    if (!result) goto done;
    char *out = PyBytes_AS_STRING(result);
    const uint8_t *d = (const uint8_t *)data.buf;
    Py_BEGIN_ALLOW_THREADS
    uint8_t kb[64], pad[64];
    uint32_t ist[8], ost[8];
    memset(kb, 0, sizeof kb);
    if (key.len > 64) {
        uint32_t st[8];
        memcpy(st, H0, sizeof st);
        sha256_finish(st, (const uint8_t *)key.buf, (size_t)key.len, 0, kb);
    } else {
        memcpy(kb, key.buf, (size_t)key.len);
    }
    for (int i = 0; i < 64; i++) pad[i] = kb[i] ^ 0x36;
    memcpy(ist, H0, sizeof ist);
    COMPRESS(ist, pad);
    for (int i = 0; i < 64; i++) pad[i] = kb[i] ^ 0x5c;
    memcpy(ost, H0, sizeof ost);
    COMPRESS(ost, pad);
    uint8_t mac[4][32];
    for (Py_ssize_t i = 0; i < n; i += 4) { /* four values at a time: independent compression chains */
        int count = n - i < 4 ? (int)(n - i) : 4;
        const uint8_t *msg[4];
        size_t len[4];
        uint8_t *dst[4];
        for (int j = 0; j < count; j++) {
            msg[j] = d + o[i + j];
            len[j] = (size_t)(o[i + j + 1] - o[i + j]);
            dst[j] = hex ? mac[j] : (uint8_t *)out + (i + j) * 32;
        }
        hmac_lanes(count, ist, ost, msg, len, dst);
        if (hex)
            for (int j = 0; j < count; j++) hex_out(mac[j], out + (i + j) * 64);
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&key);
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    return result;
}

static const uint8_t *find(const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen) {
    if (nlen == 0 || hlen < nlen) return NULL;
    return (const uint8_t *)memmem(hay, hlen, needle, nlen);
}

/* replace_each(t_offsets, t_data, n_offsets, n_data, r_offsets, r_data, active: buffer[uint8], n)
 *   -> (offsets: bytes of int32[n + 1], data: bytes); OverflowError past 2 GiB of output
 * For rows with active[i] != 0, every non-overlapping occurrence of needle i in text i (left to right) is replaced by
 * replacement i; other rows are copied unchanged. */
static PyObject *replace_each(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer to, td, no, nd, ro, rd, act;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*n", &to, &td, &no, &nd, &ro, &rd, &act, &n)) return NULL;
    PyObject *res = NULL, *offs_obj = NULL, *data_obj = NULL;
    const Py_ssize_t need = (n + 1) * (Py_ssize_t)sizeof(int32_t);
    if (to.len < need || no.len < need || ro.len < need || act.len < n) {
        PyErr_SetString(PyExc_ValueError, "buffers too short");
        goto done;
    }
    const int32_t *tof = to.buf, *nof = no.buf, *rof = ro.buf;
    const uint8_t *tdat = td.buf, *ndat = nd.buf, *rdat = rd.buf, *a = act.buf;
    /* bounds checks */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (tof[i + 1] < tof[i] || nof[i + 1] < nof[i] || rof[i + 1] < rof[i]) {
            PyErr_SetString(PyExc_ValueError, "offsets are not monotonic");
            goto done;
        }
    }
    if (n > 0 && (tof[0] < 0 || nof[0] < 0 || rof[0] < 0 || tof[n] > td.len || nof[n] > nd.len || rof[n] > rd.len)) {
        PyErr_SetString(PyExc_ValueError, "offsets out of range of the data buffers");
        goto done;
    }
    /* pass 1: output size */
    int64_t total = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        size_t tl = (size_t)(tof[i + 1] - tof[i]);
        total += (int64_t)tl;
        if (!a[i]) continue;
        const uint8_t *t = tdat + tof[i], *nd_ = ndat + nof[i];
        size_t nl = (size_t)(nof[i + 1] - nof[i]), rl = (size_t)(rof[i + 1] - rof[i]);
        const uint8_t *p = t, *end = t + tl, *hit;
        while ((hit = find(p, (size_t)(end - p), nd_, nl)) != NULL) {
            total += (int64_t)rl - (int64_t)nl;
            p = hit + nl;
        }
    }
    Py_END_ALLOW_THREADS
    if (total > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "more than 2 GiB of output text in one call");
        goto done;
    }
    offs_obj = PyBytes_FromStringAndSize(NULL, (n + 1) * 4);
    data_obj = PyBytes_FromStringAndSize(NULL, total > 0 ? total : 0);
    if (!offs_obj || !data_obj) goto done;
    int32_t *oo = (int32_t *)PyBytes_AS_STRING(offs_obj);
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(data_obj);
    Py_BEGIN_ALLOW_THREADS
    int64_t pos = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        oo[i] = (int32_t)pos;
        const uint8_t *t = tdat + tof[i];
        size_t tl = (size_t)(tof[i + 1] - tof[i]);
        if (!a[i]) {
            memcpy(out + pos, t, tl);
            pos += (int64_t)tl;
            continue;
        }
        const uint8_t *nd_ = ndat + nof[i], *r = rdat + rof[i];
        size_t nl = (size_t)(nof[i + 1] - nof[i]), rl = (size_t)(rof[i + 1] - rof[i]);
        const uint8_t *p = t, *end = t + tl, *hit;
        while ((hit = find(p, (size_t)(end - p), nd_, nl)) != NULL) {
            memcpy(out + pos, p, (size_t)(hit - p));
            pos += hit - p;
            memcpy(out + pos, r, rl);
            pos += (int64_t)rl;
            p = hit + nl;
        }
        memcpy(out + pos, p, (size_t)(end - p));
        pos += end - p;
    }
    oo[n] = (int32_t)pos;
    Py_END_ALLOW_THREADS
    res = PyTuple_Pack(2, offs_obj, data_obj);
done:
    Py_XDECREF(offs_obj);
    Py_XDECREF(data_obj);
    PyBuffer_Release(&to);
    PyBuffer_Release(&td);
    PyBuffer_Release(&no);
    PyBuffer_Release(&nd);
    PyBuffer_Release(&ro);
    PyBuffer_Release(&rd);
    PyBuffer_Release(&act);
    return res;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define ANJU_SWAR 1
/* The high bit of each byte of w that is an ASCII digit ('0'..'9'), exactly: each byte's low seven bits are compared
 * with 0x2F and 0x3A without carries between bytes, and bytes >= 0x80 are excluded. */
static inline uint64_t digit_bytes(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ULL, low7 = w & (ones * 0x7F);
    return ((ones * (0x7F + 0x3A) - low7) & ~w & (low7 + ones * (0x7F - 0x2F))) & (ones * 0x80);
}
#endif

/* Does [p, end) hold `run` ASCII digits in a row (with `separated`: one ' ', '-' or '－' allowed between two
 * digits)? Outside a run the scan skips eight bytes at a time up to the next digit (SWAR), reading whole words
 * while they lie inside the data buffer [.., dend) — bytes past `end` are masked out; inside a run it goes byte by
 * byte. */
static int has_digit_run(const uint8_t *p, const uint8_t *end, const uint8_t *dend, Py_ssize_t run, int separated) {
    Py_ssize_t len = 0;
#ifdef ANJU_SWAR
    { /* most values hold fewer than `run` digits in all (an address's house number): count them first, branch-free */
        const uint64_t ones = 0x0101010101010101ULL;
        const uint8_t *q = p;
        Py_ssize_t count = 0;
        while (end - q >= 8) {
            uint64_t w;
            memcpy(&w, q, 8);
            count += (Py_ssize_t)(((digit_bytes(w) >> 7) * ones) >> 56);
            q += 8;
        }
        if (q < end && dend - q >= 8) { /* the last 1..7 bytes, read as a word inside the buffer */
            uint64_t w;
            memcpy(&w, q, 8);
            count += (Py_ssize_t)((((digit_bytes(w) & ((1ULL << (8 * (end - q))) - 1)) >> 7) * ones) >> 56);
        } else {
            for (; q < end; q++) count += (uint8_t)(*q - '0') < 10;
        }
        if (count < run) return 0;
    }
#endif
    while (p < end) {
        if (len == 0) { /* find the next digit */
#ifdef ANJU_SWAR
            while (dend - p >= 8) {
                uint64_t w, m;
                memcpy(&w, p, 8);
                m = digit_bytes(w);
                if (end - p < 8) m &= (1ULL << (8 * (end - p))) - 1; /* 1..7 bytes of this value left */
                if (m) {
                    p += __builtin_ctzll(m) >> 3;
                    goto digit;
                }
                p += 8;
                if (p >= end) return 0;
            }
#endif
            while (p < end && (uint8_t)(*p - '0') >= 10) p++;
            if (p == end) return 0;
        }
        if ((uint8_t)(*p - '0') < 10) {
#ifdef ANJU_SWAR
        digit:
#endif
            if (++len >= run) return 1;
            p++;
            continue;
        }
        if (separated) {
            /* a single separator between two digits keeps the run */
            Py_ssize_t w = 0;
            if (*p == ' ' || *p == '-') w = 1;
            else if (p + 2 < end && p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x8D) w = 3;
            if (w && p + w < end && (uint8_t)(p[w] - '0') < 10) {
                p += w;
                continue;
            }
        }
        len = 0;
        p++;
    }
    return 0;
}

/* digit_runs(offsets: buffer[int32], data: buffer, n: int, run: int, separated: int) -> bytes (n bytes, 1 where
 * value i contains `run` consecutive ASCII digits: what RE2's \d{run} finds; in UTF-8 the bytes '0'..'9' only ever
 * stand for themselves). With `separated`, one space, '-' or '－' (U+FF0D) between two digits does not break the run,
 * so "138 1234 5678" counts as 11 digits (the candidate test of anju.text.mask). Null slots are scanned too (the
 * caller masks them out). */
static PyObject *digit_runs(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer offs, data;
    Py_ssize_t n, run;
    int separated = 0;
    if (!PyArg_ParseTuple(args, "y*y*nn|p", &offs, &data, &n, &run, &separated)) return NULL;
    PyObject *result = NULL;
    if (run < 1) {
        PyErr_SetString(PyExc_ValueError, "run must be at least 1");
        goto done;
    }
    if (check_offsets(&offs, &data, n) < 0) goto done;
    const int32_t *o = (const int32_t *)offs.buf;
    result = PyBytes_FromStringAndSize(NULL, n);
    if (!result) goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    const uint8_t *d = (const uint8_t *)data.buf;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *dend = d + data.len;
    for (Py_ssize_t i = 0; i < n; i++) out[i] = has_digit_run(d + o[i], d + o[i + 1], dend, run, separated);
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    return result;
}

/* ---- caller names and phone numbers: normalised and masked in one pass (see anju.ingest.pii) ---------------- */

typedef struct {
    PyObject *bitmap, *norm_offs, *norm_data, *mask_offs, *mask_data;
} pii_out;

static int pii_out_alloc(pii_out *r, Py_ssize_t n, Py_ssize_t norm_cap, Py_ssize_t mask_cap) {
    memset(r, 0, sizeof *r);
    if (norm_cap > INT32_MAX || mask_cap > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "batch too large for int32 offsets");
        return -1;
    }
    r->bitmap = PyBytes_FromStringAndSize(NULL, (n + 7) / 8);
    r->norm_offs = PyBytes_FromStringAndSize(NULL, (n + 1) * 4);
    r->norm_data = PyBytes_FromStringAndSize(NULL, norm_cap);
    r->mask_offs = PyBytes_FromStringAndSize(NULL, (n + 1) * 4);
    r->mask_data = PyBytes_FromStringAndSize(NULL, mask_cap);
    if (!r->bitmap || !r->norm_offs || !r->norm_data || !r->mask_offs || !r->mask_data) return -1;
    memset(PyBytes_AS_STRING(r->bitmap), 0, (size_t)((n + 7) / 8));
    return 0;
}

static PyObject *pii_out_finish(pii_out *r, int ok, Py_ssize_t norm_len, Py_ssize_t mask_len) {
    PyObject *res = NULL;
    if (ok && _PyBytes_Resize(&r->norm_data, norm_len) == 0 && _PyBytes_Resize(&r->mask_data, mask_len) == 0)
        res = PyTuple_Pack(5, r->bitmap, r->norm_offs, r->norm_data, r->mask_offs, r->mask_data);
    Py_XDECREF(r->bitmap);
    Py_XDECREF(r->norm_offs);
    Py_XDECREF(r->norm_data);
    Py_XDECREF(r->mask_offs);
    Py_XDECREF(r->mask_data);
    return res;
}

/* One value of phone_norm_mask: writes the normalised form to `norm` and the masked form to `mask` (each at most
 * len bytes), returns the normalised length (0 = null) and sets *mask_len. */
static Py_ssize_t phone_row(const uint8_t *src, Py_ssize_t len, uint8_t *norm, uint8_t *mask, Py_ssize_t *mask_len,
                            const uint8_t *Py_UNUSED(comp), Py_ssize_t Py_UNUSED(ncomp)) {
    Py_ssize_t k = 0;
    for (Py_ssize_t j = 0; j < len; j++)
        if ((uint8_t)(src[j] - '0') < 10) norm[k++] = src[j];
    if (k == 13 && memcmp(norm, "861", 3) == 0) { /* 86 + mobile */
        memmove(norm, norm + 2, 11);
        k = 11;
    } else if (k == 15 && memcmp(norm, "00861", 5) == 0) { /* 0086 + mobile */
        memmove(norm, norm + 4, 11);
        k = 11;
    }
    if (k >= 8) {
        memcpy(mask, norm, 3);
        memset(mask + 3, '*', (size_t)(k - 7));
        memcpy(mask + k - 4, norm + k - 4, 4);
    } else if (k) {
        Py_ssize_t keep = k < 2 ? k : 2;
        memset(mask, '*', (size_t)(k - keep));
        memcpy(mask + k - keep, norm + k - keep, (size_t)keep);
    }
    *mask_len = k;
    return k;
}

/* One value of name_norm_mask (see phone_row; the masked form is at most len + 1 bytes). */
static Py_ssize_t name_row(const uint8_t *src, Py_ssize_t len, uint8_t *norm, uint8_t *mask, Py_ssize_t *mask_len,
                           const uint8_t *comp, Py_ssize_t ncomp) {
    Py_ssize_t k = 0, chars = 0, first = 0, second = 0; /* bytes; characters; end of the 1st and 2nd character */
    for (Py_ssize_t j = 0; j < len; j++) {
        uint8_t b = src[j];
        if (b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r') continue;
        if ((b & 0xC0) != 0x80) { /* a character starts */
            chars++;
            if (chars == 2) first = k;
            else if (chars == 3) second = k;
        }
        norm[k++] = b;
    }
    if (chars == 1) first = k;
    if (chars == 2) second = k;
    *mask_len = 0;
    if (!k) return 0;
    Py_ssize_t head = first, head_chars = 1;
    if (chars <= 1) {
        head = 0;
        head_chars = 0;
    } else if (chars > 2 && second == 6) {
        for (Py_ssize_t c = 0; c < ncomp; c++)
            if (memcmp(norm, comp + 6 * c, 6) == 0) {
                head = 6;
                head_chars = 2;
                break;
            }
    }
    Py_ssize_t stars = chars - head_chars < 1 ? 1 : chars - head_chars;
    memcpy(mask, norm, (size_t)head);
    memset(mask + head, '*', (size_t)stars);
    *mask_len = head + stars;
    return k;
}

typedef Py_ssize_t (*pii_row)(const uint8_t *, Py_ssize_t, uint8_t *, uint8_t *, Py_ssize_t *, const uint8_t *,
                              Py_ssize_t);

/* The shared driver: (offsets, data, valid: buffer[uint8] or b"", n[, compound]) -> the Arrow buffers (validity
 * bitmap, norm offsets, norm data, mask offsets, mask data) of two string arrays; null where the input is null
 * (valid[i] == 0) or nothing is left after normalising. */
static PyObject *norm_mask(PyObject *args, pii_row row, int with_compound) {
    Py_buffer offs, data, valid, comp = {0};
    Py_ssize_t n;
    int ok = with_compound ? PyArg_ParseTuple(args, "y*y*y*ny*", &offs, &data, &valid, &n, &comp)
                           : PyArg_ParseTuple(args, "y*y*y*n", &offs, &data, &valid, &n);
    if (!ok) return NULL;
    PyObject *res = NULL;
    pii_out r;
    memset(&r, 0, sizeof r);
    if (check_offsets(&offs, &data, n) < 0) goto done;
    if ((valid.len != 0 && valid.len != n) || comp.len % 6 != 0) {
        PyErr_SetString(PyExc_ValueError, "valid must have one byte per value; compound, 6-byte pairs");
        goto done;
    }
    if (pii_out_alloc(&r, n, data.len, data.len + n) < 0) {
        res = pii_out_finish(&r, 0, 0, 0);
        goto done;
    }
    {
        const int32_t *o = (const int32_t *)offs.buf;
        const uint8_t *d = (const uint8_t *)data.buf, *v = valid.len ? (const uint8_t *)valid.buf : NULL;
        const uint8_t *cp = (const uint8_t *)comp.buf;
        Py_ssize_t ncomp = comp.len / 6;
        uint8_t *bm = (uint8_t *)PyBytes_AS_STRING(r.bitmap);
        int32_t *no = (int32_t *)PyBytes_AS_STRING(r.norm_offs), *mo = (int32_t *)PyBytes_AS_STRING(r.mask_offs);
        uint8_t *nd = (uint8_t *)PyBytes_AS_STRING(r.norm_data), *md = (uint8_t *)PyBytes_AS_STRING(r.mask_data);
        Py_ssize_t nl = 0, ml = 0;
        Py_BEGIN_ALLOW_THREADS
        no[0] = mo[0] = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_ssize_t mk = 0, k = 0;
            if (!v || v[i]) k = row(d + o[i], o[i + 1] - o[i], nd + nl, md + ml, &mk, cp, ncomp);
            if (k) {
                bm[i >> 3] |= (uint8_t)(1u << (i & 7));
                nl += k;
                ml += mk;
            }
            no[i + 1] = (int32_t)nl;
            mo[i + 1] = (int32_t)ml;
        }
        Py_END_ALLOW_THREADS
        res = pii_out_finish(&r, 1, nl, ml);
    }
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    PyBuffer_Release(&valid);
    if (with_compound) PyBuffer_Release(&comp);
    return res;
}

/* phone_norm_mask(offsets, data, valid, n): normalised = the ASCII digits of the value, without a leading 86 / 0086
 * when what follows is a mobile number (1 and ten more digits); masked = 8+ digits keep the first 3 and the last 4
 * (138****5678), shorter keep the last 2 (*10; 1–2 digits stay). */
static PyObject *phone_norm_mask(PyObject *Py_UNUSED(self), PyObject *args) { return norm_mask(args, phone_row, 0); }

/* name_norm_mask(offsets, data, valid, n, compound): normalised = the value without ASCII whitespace (what RE2's \s
 * matches: tab, LF, FF, CR, space); masked = the surname kept — the first two characters when they are one of
 * `compound` (concatenated 6-byte UTF-8 pairs) and the name is longer than two characters, else the first — and
 * every other character starred (at least one star; a one-character name is just "*"). */
static PyObject *name_norm_mask(PyObject *Py_UNUSED(self), PyObject *args) { return norm_mask(args, name_row, 1); }

/* ---- decimal numbers (coordinates, amounts): see anju.ingest.enrich.parse_numbers ---------------------------- */

#if defined(__GLIBC__)
static locale_t C_LOCALE = (locale_t)0; /* strtod in the "C" locale whatever the process's LC_NUMERIC says */
#endif

/* The ASCII characters Arrow's utf8_trim_whitespace trims (Unicode White_Space by bidi class: TAB, LF, VT, FF, CR,
 * the four information separators 0x1C-0x1F, space); tests/ingest/test_numbers_native.py checks all 128. */
static inline int trim_space(uint8_t c) { return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20); }

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* One value: 0 and *out set when [p, end) is a number (after trimming ASCII whitespace), 1 when it is not,
 * 2 when a non-ASCII byte is at either end after trimming (Unicode whitespace, possibly: left to the caller). */
static int parse_one(const uint8_t *p, const uint8_t *end, double *out) {
    while (p < end && trim_space(*p)) p++;
    while (end > p && trim_space(end[-1])) end--;
    if (p == end) return 1;
    if (*p >= 0x80 || end[-1] >= 0x80) return 2;
    /* ^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$ */
    const uint8_t *s = p;
    int neg = 0;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    uint64_t mant = 0;
    int sig = 0, scale = 0, ndig = 0, fdig = 0; /* significant digits in mant; decimal point shift; digit counts */
    for (; s < end && (uint8_t)(*s - '0') < 10; s++, ndig++) {
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(*s - '0');
            sig += mant != 0;
        } else {
            sig = 20; /* too many digits for the exact path */
        }
    }
    if (s < end && *s == '.') {
        for (s++; s < end && (uint8_t)(*s - '0') < 10; s++, fdig++) {
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(*s - '0');
                sig += mant != 0;
                scale--;
            } else {
                sig = 20;
            }
        }
    }
    if (ndig == 0 && fdig == 0) return 1;
    long exp10 = 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        int eneg = 0, edig = 0;
        s++;
        if (s < end && (*s == '+' || *s == '-')) eneg = *s++ == '-';
        for (; s < end && (uint8_t)(*s - '0') < 10; s++, edig++)
            if (exp10 < 100000) exp10 = exp10 * 10 + (*s - '0');
        if (edig == 0) return 1;
        if (eneg) exp10 = -exp10;
    }
    if (s != end) return 1;
#if FLT_EVAL_METHOD == 0
    /* Exact path (Clinger): an integer below 2^53 and a power of ten up to 1e22 are both exact doubles, so one
     * IEEE multiplication or division rounds correctly — the same double as strtod and Arrow's cast. */
    if (sig <= 19) {
        long e = exp10 + scale;
        if (mant == 0) {
            *out = neg ? -0.0 : 0.0;
            return 0;
        }
        if (mant <= (1ULL << 53) && e >= -22 && e <= 22) {
            double v = (double)mant;
            v = e < 0 ? v / POW10[-e] : v * POW10[e];
            *out = neg ? -v : v;
            return 0;
        }
    }
#endif
    /* anything else: strtod (correctly rounded in glibc) on a NUL-terminated copy */
    size_t len = (size_t)(end - p);
    char small[64], *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf) return 2; /* out of memory: let the caller's path try */
    memcpy(buf, p, len);
    buf[len] = 0;
#if defined(__GLIBC__)
    *out = C_LOCALE ? strtod_l(buf, NULL, C_LOCALE) : strtod(buf, NULL);
#else
    *out = strtod(buf, NULL);
#endif
    if (buf != small) free(buf);
    return 0;
}

/* parse_decimal(offsets: buffer[int32], data: buffer, validity: buffer or b"", bit_offset: int, n: int,
 *               out: writable buffer[float64], status: writable buffer[uint8]) -> None
 * For each value: out = the number (^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$ after trimming whitespace), NaN when
 * null or not a number; status = 0 (a number, or null), 1 (present but not a number), 2 (a non-ASCII byte at an end
 * after trimming ASCII whitespace: the caller decides, as Unicode whitespace may be trimmed). offsets has n + 1
 * entries already shifted to the array's offset; validity is the Arrow bitmap with the array's offset in bits. */
static PyObject *parse_decimal(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer offs, data, valid, out, status;
    Py_ssize_t bit0, n;
    if (!PyArg_ParseTuple(args, "y*y*y*nnw*w*", &offs, &data, &valid, &bit0, &n, &out, &status)) return NULL;
    PyObject *res = NULL;
    if (check_offsets(&offs, &data, n) < 0) goto done;
    if (bit0 < 0 || (valid.len && valid.len < (bit0 + n + 7) / 8) || out.len < n * (Py_ssize_t)sizeof(double) ||
        status.len < n) {
        PyErr_SetString(PyExc_ValueError, "validity, out or status buffer too short");
        goto done;
    }
    {
        const int32_t *o = (const int32_t *)offs.buf;
        const uint8_t *d = (const uint8_t *)data.buf, *v = valid.len ? (const uint8_t *)valid.buf : NULL;
        uint8_t *st = (uint8_t *)status.buf;
        double *f = (double *)out.buf; /* a numpy float64 array: aligned */
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_ssize_t b = bit0 + i;
            double x = (double)NAN;
            if (v && !((v[b >> 3] >> (b & 7)) & 1)) {
                st[i] = 0;
            } else {
                st[i] = (uint8_t)parse_one(d + o[i], d + o[i + 1], &x);
                if (st[i]) x = (double)NAN;
            }
            f[i] = x;
        }
        Py_END_ALLOW_THREADS
    }
    res = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    PyBuffer_Release(&valid);
    PyBuffer_Release(&out);
    PyBuffer_Release(&status);
    return res;
}

/* Double-byte transcoding (GBK family → UTF-8) by table. The table is made by iconv(3) itself, one two-byte code
 * at a time, so the fast path gives exactly iconv's output: 126 lead bytes (0x81–0xFE) × 191 trail bytes
 * (0x40–0xFE) entries of 4 bytes (the UTF-8 form, zero-padded; all zero = not a valid two-byte code here: a
 * four-byte GB18030 sequence or an invalid one, left to iconv). */
#define DB_LEADS 126
#define DB_TRAILS 191
#define DB_TABLE (DB_LEADS * DB_TRAILS * 4)

/* double_byte_table(encoding: bytes) -> bytes or None (None when iconv lacks the encoding or ASCII is not itself) */
static PyObject *double_byte_table(PyObject *Py_UNUSED(self), PyObject *args) {
    const char *enc;
    if (!PyArg_ParseTuple(args, "y", &enc)) return NULL;
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1) Py_RETURN_NONE;
    PyObject *res = PyBytes_FromStringAndSize(NULL, DB_TABLE);
    if (!res) {
        iconv_close(cd);
        return NULL;
    }
    uint8_t *t = (uint8_t *)PyBytes_AS_STRING(res);
    memset(t, 0, DB_TABLE);
    int ascii_ok = 1;
    Py_BEGIN_ALLOW_THREADS
    for (int c = 0; c < 128 && ascii_ok; c++) {
        char in[1] = {(char)c}, out[8];
        char *ip = in, *op = out;
        size_t il = 1, ol = sizeof out;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0 || op - out != 1 || (uint8_t)out[0] != c)
            ascii_ok = 0;
    }
    for (int a = 0; a < DB_LEADS && ascii_ok; a++) {
        for (int b = 0; b < DB_TRAILS; b++) {
            char in[2] = {(char)(0x81 + a), (char)(0x40 + b)}, out[16];
            char *ip = in, *op = out;
            size_t il = 2, ol = sizeof out;
            iconv(cd, NULL, NULL, NULL, NULL);
            size_t r = iconv(cd, &ip, &il, &op, &ol);
            size_t len = (size_t)(op - out);
            /* one character from both bytes, 2..4 UTF-8 bytes (a non-ASCII character) */
            if (r != (size_t)-1 && il == 0 && len >= 2 && len <= 4 && ((uint8_t)out[0] & 0xC0) == 0xC0)
                memcpy(t + ((size_t)a * DB_TRAILS + (size_t)b) * 4, out, len);
        }
    }
    Py_END_ALLOW_THREADS
    iconv_close(cd);
    if (!ascii_ok) {
        Py_DECREF(res);
        Py_RETURN_NONE;
    }
    return res;
}

/* double_byte_decode(table: bytes, data: buffer) -> (utf8: bytes, consumed: int)
 * Converts ASCII bytes and the table's two-byte codes from the start of data; stops at the first byte it cannot
 * convert (a code not in the table, an invalid byte, or a lead byte at the very end), returning what it made and how
 * many input bytes that was. */
static PyObject *double_byte_decode(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer tab, data;
    if (!PyArg_ParseTuple(args, "y*y*", &tab, &data)) return NULL;
    PyObject *res = NULL, *out_obj = NULL;
    if (tab.len != DB_TABLE) {
        PyErr_SetString(PyExc_ValueError, "bad double-byte table");
        goto done;
    }
    const Py_ssize_t n = data.len;
    out_obj = PyBytes_FromStringAndSize(NULL, 2 * n + 1);
    if (!out_obj) goto done;
    const uint8_t *t = tab.buf, *in = data.buf;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(out_obj);
    Py_ssize_t i = 0, o = 0;
    Py_BEGIN_ALLOW_THREADS
    while (i < n) {
        while (i + 8 <= n) {  /* eight ASCII bytes at a time */
            uint64_t w;
            memcpy(&w, in + i, 8);
            if (w & 0x8080808080808080ULL) break;
            memcpy(out + o, &w, 8);
            i += 8;
            o += 8;
        }
        if (i >= n) break;
        uint8_t c = in[i];
        if (c < 0x80) {
            out[o++] = c;
            i++;
            continue;
        }
        if (c < 0x81 || c == 0xFF || i + 1 >= n) break;
        uint8_t d = in[i + 1];
        if (d < 0x40 || d == 0xFF) break;
        const uint8_t *e = t + ((size_t)(c - 0x81) * DB_TRAILS + (size_t)(d - 0x40)) * 4;
        if (e[0] == 0) break;
        out[o++] = e[0];
        out[o++] = e[1];
        if (e[2]) {
            out[o++] = e[2];
            if (e[3]) out[o++] = e[3];
        }
        i += 2;
    }
    Py_END_ALLOW_THREADS
    if (_PyBytes_Resize(&out_obj, o) < 0) goto done;  /* frees out_obj on failure */
    res = Py_BuildValue("(Nn)", out_obj, i);
    out_obj = NULL;
done:
    Py_XDECREF(out_obj);
    PyBuffer_Release(&tab);
    PyBuffer_Release(&data);
    return res;
}

static PyObject *sha_ni(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(noargs)) { return PyBool_FromLong(COMPRESS != compress_c); }

static PyObject *set_portable(PyObject *Py_UNUSED(self), PyObject *arg) {
    int portable = PyObject_IsTrue(arg);
    if (portable < 0) return NULL;
#ifdef ANJU_X86
    use_compression(!portable && have_sha_ni());
#else
    use_compression(0);
#endif
    Py_RETURN_NONE;
}

static PyMethodDef METHODS[] = {
    {"hmac_sha256", hmac_sha256, METH_VARARGS, "HMAC-SHA256 (digest or hex) of each value of an Arrow string array."},
    {"replace_each", replace_each, METH_VARARGS, "Row-wise substring replacement over Arrow string buffers."},
    {"digit_runs", digit_runs, METH_VARARGS, "Rows of an Arrow string array with a run of ASCII digits."},
    {"phone_norm_mask", phone_norm_mask, METH_VARARGS, "Phone numbers normalised and masked (Arrow buffers)."},
    {"name_norm_mask", name_norm_mask, METH_VARARGS, "Caller names normalised and masked (Arrow buffers)."},
    {"parse_decimal", parse_decimal, METH_VARARGS, "Decimal strings → float64 and a status per value (Arrow buffers)."},
    {"double_byte_table", double_byte_table, METH_VARARGS, "iconv's UTF-8 of every two-byte code of an encoding."},
    {"double_byte_decode", double_byte_decode, METH_VARARGS, "Table-driven double-byte → UTF-8 (prefix)."},
    {"sha_ni", sha_ni, METH_NOARGS, "True when the SHA-NI compression is in use."},
    {"set_portable", set_portable, METH_O, "Force (True) or release (False) the portable C compression (tests)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_native", "anju ingest batch kernels", -1, METHODS,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) {
#if defined(__GLIBC__)
    if (!C_LOCALE) C_LOCALE = newlocale(LC_ALL_MASK, "C", (locale_t)0);
#endif
#ifdef ANJU_X86
    use_compression(have_sha_ni());
#endif
    return PyModule_Create(&MODULE);
}

/* anju.ingest._native — the few batch kernels of ingest that have no vectorised equivalent in pyarrow/DuckDB.
 * anju.ingest.kernels is the one facade over them: it says which are active and holds the pure-Python/SQL path
 * used when this module was not built (no C compiler at install time); tests/ingest/test_kernels.py proves both
 * paths give the same lake.
 *
 * hmac_sha256: HMAC-SHA256 (RFC 2104) of every string of an Arrow string array, written as its 32 digest bytes
 *   (the lake's form) or 64 lowercase hex characters per value. The key's inner and outer pad blocks are
 *   compressed once per call (the "precomputed midstate" form of HMAC), so a short value costs two SHA-256
 *   compressions instead of four. Two values at a time, their compressions interleaved (compress_ni2), with the
 *   CPU's SHA extensions (SHA-NI) when present, else portable C. Runs without the interpreter lock.
 * replace_each: row by row, replace every occurrence of needles[i] in texts[i] by replacements[i] (byte-wise, which
 *   for valid UTF-8 is the same as character-wise).
 * find_each: replace_each's search alone (which rows hold their needle), so rows without one are not copied.
 * digit_runs: which values of a string array hold a run of k ASCII digits (RE2's \d{k}), optionally allowing one
 *   separator between digits (the candidate test of the text masks); eight bytes at a time where it can (SWAR).
 * text_flags: which values hold a name keyword (报警人, 我叫 …) followed by a character that may begin a name, and
 *   which hold full-width digits (the text masks' other two prefilters), in one pass of eight bytes at a time.
 * double_byte_table / double_byte_decode: GBK-family → UTF-8 through a table of every two-byte code made by iconv(3)
 *   itself, up to the first code the table lacks (readers.py hands the rest to iconv).
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
/* The SHA-NI steps of one compression (the layout of Intel's reference code), as macros over one lane's variables
 * (X##S0 = ABEF, X##S1 = CDGH, X##M0..3 the message schedule) so that compress_ni2 can interleave two lanes. */
#define SHANI_LOAD(X, st, block)                                                                   \
    X##T = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xB1);                   \
    X##S1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1B);                  \
    X##S0 = _mm_alignr_epi8(X##T, X##S1, 8);                                                    \
    X##S1 = _mm_blend_epi16(X##S1, X##T, 0xF0);                                                 \
    X##SAVE0 = X##S0;                                                                           \
    X##SAVE1 = X##S1;                                                                           \
    X##M0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 0)), MASK);            \
    X##M1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 16)), MASK);           \
    X##M2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 32)), MASK);           \
    X##M3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 48)), MASK);
#define SHANI_RNDS(X, W, k)                                                                        \
    X##M = _mm_add_epi32(X##W, _mm_loadu_si128((const __m128i *)&K256[k]));                     \
    X##S1 = _mm_sha256rnds2_epu32(X##S1, X##S0, X##M);                                          \
    X##M = _mm_shuffle_epi32(X##M, 0x0E);                                                       \
    X##S0 = _mm_sha256rnds2_epu32(X##S0, X##S1, X##M);
#define SHANI_SCHED(X, W, P2, P1, k)                                                               \
    X##T = _mm_alignr_epi8(X##P1, X##P2, 4);                                                    \
    X##W = _mm_sha256msg2_epu32(_mm_add_epi32(X##W, X##T), X##P1);                              \
    SHANI_RNDS(X, W, k)                                                                           \
    X##P2 = _mm_sha256msg1_epu32(X##P2, X##P1);
#define SHANI_STORE(X, st)                                                                         \
    X##S0 = _mm_add_epi32(X##S0, X##SAVE0);                                                     \
    X##S1 = _mm_add_epi32(X##S1, X##SAVE1);                                                     \
    X##T = _mm_shuffle_epi32(X##S0, 0x1B);                                                      \
    X##S1 = _mm_shuffle_epi32(X##S1, 0xB1);                                                     \
    _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(X##T, X##S1, 0xF0));                    \
    _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(X##S1, X##T, 8));

/* SHA-NI compression of one 64-byte block. */
__attribute__((target("sha,sse4.1"))) static void compress_ni(uint32_t st[8], const uint8_t *block) {
    const __m128i MASK = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a_S0, a_S1, a_T, a_M, a_M0, a_M1, a_M2, a_M3, a_SAVE0, a_SAVE1;
    SHANI_LOAD(a_, st, block)
    SHANI_RNDS(a_, M0, 0)
    SHANI_RNDS(a_, M1, 4)
    a_M0 = _mm_sha256msg1_epu32(a_M0, a_M1);
    SHANI_RNDS(a_, M2, 8)
    a_M1 = _mm_sha256msg1_epu32(a_M1, a_M2);
    SHANI_RNDS(a_, M3, 12)
    for (int k = 16; k < 64; k += 16) {
        SHANI_SCHED(a_, M0, M2, M3, k)
        SHANI_SCHED(a_, M1, M3, M0, k + 4)
        SHANI_SCHED(a_, M2, M0, M1, k + 8)
        SHANI_SCHED(a_, M3, M1, M2, k + 12)
    }
    SHANI_STORE(a_, st)
}

/* Two independent SHA-NI compressions (st_a <- block_a, st_b <- block_b) with their instructions interleaved: one
 * chain of sha256rnds2 is latency-bound (each pair of rounds waits for the one before), so a second, independent
 * chain fills the idle issue slots and two values hash in ~0.7x the time of two single calls. The arithmetic of
 * compress_ni, lane by lane. */
__attribute__((target("sha,sse4.1"))) static void compress_ni2(uint32_t st_a[8], const uint8_t *block_a,
                                                               uint32_t st_b[8], const uint8_t *block_b) {
    const __m128i MASK = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a_S0, a_S1, a_T, a_M, a_M0, a_M1, a_M2, a_M3, a_SAVE0, a_SAVE1;
    __m128i b_S0, b_S1, b_T, b_M, b_M0, b_M1, b_M2, b_M3, b_SAVE0, b_SAVE1;
    SHANI_LOAD(a_, st_a, block_a)
    SHANI_LOAD(b_, st_b, block_b)
    SHANI_RNDS(a_, M0, 0)
    SHANI_RNDS(b_, M0, 0)
    SHANI_RNDS(a_, M1, 4)
    SHANI_RNDS(b_, M1, 4)
    a_M0 = _mm_sha256msg1_epu32(a_M0, a_M1);
    b_M0 = _mm_sha256msg1_epu32(b_M0, b_M1);
    SHANI_RNDS(a_, M2, 8)
    SHANI_RNDS(b_, M2, 8)
    a_M1 = _mm_sha256msg1_epu32(a_M1, a_M2);
    b_M1 = _mm_sha256msg1_epu32(b_M1, b_M2);
    SHANI_RNDS(a_, M3, 12)
    SHANI_RNDS(b_, M3, 12)
    for (int k = 16; k < 64; k += 16) {
        SHANI_SCHED(a_, M0, M2, M3, k)
        SHANI_SCHED(b_, M0, M2, M3, k)
        SHANI_SCHED(a_, M1, M3, M0, k + 4)
        SHANI_SCHED(b_, M1, M3, M0, k + 4)
        SHANI_SCHED(a_, M2, M0, M1, k + 8)
        SHANI_SCHED(b_, M2, M0, M1, k + 8)
        SHANI_SCHED(a_, M3, M1, M2, k + 12)
        SHANI_SCHED(b_, M3, M1, M2, k + 12)
    }
    SHANI_STORE(a_, st_a)
    SHANI_STORE(b_, st_b)
}
#undef SHANI_LOAD
#undef SHANI_RNDS
#undef SHANI_SCHED
#undef SHANI_STORE

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

/* Two portable compressions, one after the other (the form of compress_ni2 without SHA-NI). */
static void compress_c2(uint32_t st_a[8], const uint8_t *block_a, uint32_t st_b[8], const uint8_t *block_b) {
    compress_c(st_a, block_a);
    compress_c(st_b, block_b);
}

static compress_fn COMPRESS = compress_c;
static compress2_fn COMPRESS2 = compress_c2;

static void use_compression(int sha_ni) {
#ifdef ANJU_X86
    COMPRESS = sha_ni ? compress_ni : compress_c;
    COMPRESS2 = sha_ni ? compress_ni2 : compress_c2;
#else
    (void)sha_ni;
    COMPRESS = compress_c;
    COMPRESS2 = compress_c2;
#endif
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

/* HMAC of one value from the precompressed pad states: the value's blocks after the ipad state, then the outer
 * block after the opad state. */
static void hmac_one(const uint32_t ist[8], const uint32_t ost[8], const uint8_t *msg, size_t len, uint8_t out[32]) {
    sha_blocks m;
    uint32_t st[8];
    uint8_t ob[64];
    blocks_init(&m, msg, len);
    memcpy(st, ist, sizeof st);
    for (size_t k = 0; k < m.nblocks; k++) COMPRESS(st, block_at(&m, k));
    outer_block(st, ob);
    memcpy(st, ost, sizeof st);
    COMPRESS(st, ob);
    digest_out(st, out);
}

/* HMAC of two values side by side: their blocks compressed in pairs (COMPRESS2), the longer one's extra blocks alone,
 * then both outer blocks in a pair. Same output as two hmac_one calls. */
static void hmac_two(const uint32_t ist[8], const uint32_t ost[8], const uint8_t *msg_a, size_t len_a,
                     const uint8_t *msg_b, size_t len_b, uint8_t out_a[32], uint8_t out_b[32]) {
    sha_blocks ma, mb;
    uint32_t sa[8], sb[8];
    uint8_t oa[64], ob[64];
    blocks_init(&ma, msg_a, len_a);
    blocks_init(&mb, msg_b, len_b);
    memcpy(sa, ist, sizeof sa);
    memcpy(sb, ist, sizeof sb);
    size_t k = 0;
    for (; k < ma.nblocks && k < mb.nblocks; k++) COMPRESS2(sa, block_at(&ma, k), sb, block_at(&mb, k));
    for (; k < ma.nblocks; k++) COMPRESS(sa, block_at(&ma, k));
    for (; k < mb.nblocks; k++) COMPRESS(sb, block_at(&mb, k));
    outer_block(sa, oa);
    outer_block(sb, ob);
    memcpy(sa, ost, sizeof sa);
    memcpy(sb, ost, sizeof sb);
    COMPRESS2(sa, oa, sb, ob);
    digest_out(sa, out_a);
    digest_out(sb, out_b);
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
    uint8_t mac[64];
    Py_ssize_t i = 0;
    for (; i + 1 < n; i += 2) { /* two values at a time (hmac_two), the last one of an odd count alone */
        uint8_t *dst = hex ? mac : (uint8_t *)out + i * 32;
        hmac_two(ist, ost, d + o[i], (size_t)(o[i + 1] - o[i]), d + o[i + 1], (size_t)(o[i + 2] - o[i + 1]), dst,
                 dst + 32);
        if (hex) {
            hex_out(mac, out + i * 64);
            hex_out(mac + 32, out + (i + 1) * 64);
        }
    }
    if (i < n) {
        uint8_t *dst = hex ? mac : (uint8_t *)out + i * 32;
        hmac_one(ist, ost, d + o[i], (size_t)(o[i + 1] - o[i]), dst);
        if (hex) hex_out(mac, out + i * 64);
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

/* find_each(t_offsets, t_data, n_offsets, n_data, active: buffer[uint8], n) -> bytes (n flags)
 * 1 where active[i] != 0 and needle i (non-empty) occurs in text i: replace_each's search alone, so that a batch in
 * which no text holds its caller's name (the usual case) is left as it is, with no copy. */
static PyObject *find_each(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer to, td, no, nd, act;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*n", &to, &td, &no, &nd, &act, &n)) return NULL;
    PyObject *res = NULL;
    if (act.len < n) {
        PyErr_SetString(PyExc_ValueError, "buffers too short");
        goto done;
    }
    if (check_offsets(&to, &td, n) < 0 || check_offsets(&no, &nd, n) < 0) goto done;
    const int32_t *tof = to.buf, *nof = no.buf;
    const uint8_t *tdat = td.buf, *ndat = nd.buf, *a = act.buf;
    res = PyBytes_FromStringAndSize(NULL, n);
    if (!res) goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(res);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i] = a[i] && find(tdat + tof[i], (size_t)(tof[i + 1] - tof[i]), ndat + nof[i],
                              (size_t)(nof[i + 1] - nof[i])) != NULL;
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&to);
    PyBuffer_Release(&td);
    PyBuffer_Release(&no);
    PyBuffer_Release(&nd);
    PyBuffer_Release(&act);
    return res;
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

/* Does [p, end) hold `run` ASCII digits in a row (with `separated`: one ' ', '-', '.', '－' or '．' allowed between two
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
            if (*p == ' ' || *p == '-' || *p == '.') w = 1;
            else if (p + 2 < end && p[0] == 0xEF && p[1] == 0xBC && (p[2] == 0x8D || p[2] == 0x8E)) w = 3;
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
 * stand for themselves). With `separated`, one space, '-', '.', '－' (U+FF0D) or '．' (U+FF0E) between two digits does not break the run,
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

/* text_flags(offsets: buffer[int32], data: buffer, n: int, keywords: bytes, follow: bytes, wide: bytes)
 *   -> bytes (n flags)
 * Two prefilters of anju.text.mask in one pass over each value, eight bytes at a time (SWAR):
 * bit 0 (a name may start here): value i holds one of the keywords (UTF-8, separated by NUL bytes in `keywords`),
 *   then an optional ':' or '：', then ASCII white space ([\t\n\f\r ]*, RE2's \s), then a character that may begin
 *   a name: a BMP code point whose byte follow[cp] (65,536 bytes) is non-zero, or any four-byte character (a
 *   superset; the RE2 rule decides). The scan looks for the keywords' last bytes (in Chinese text a given
 *   continuation byte is a few per cent of the bytes) and compares the keywords ending there in place.
 * bit 1 (full-width digits): value i holds U+FF10 + d for one of the digits d whose byte 0x90 + d is in `wide`
 *   (UTF-8 EF BC 90..99; EF also leads the full-width comma and colon, so each EF found is checked). */
typedef struct {
    const uint8_t *k[32];
    size_t len[32];
    int n;
    uint8_t pat[4]; /* the bytes looked for: the keywords' distinct last bytes, and EF when digits are wanted */
    int npat;
    uint8_t before[256]; /* the bytes that come just before a keyword's last byte */
    int short_keyword;   /* a keyword of one byte: no byte before it to test */
    const uint8_t *follow;
    uint8_t wide[256]; /* the third bytes (0x90..0x99) of the full-width digits looked for */
    int any_wide;
} text_keys;

/* After a keyword ending just before c: does a name's first character come next (within the value, before e)? */
static int name_follows(const uint8_t *c, const uint8_t *e, const uint8_t *follow) {
    if (c < e && *c == ':') c++;
    else if (e - c >= 3 && c[0] == 0xEF && c[1] == 0xBC && c[2] == 0x9A) c += 3; /* '：' */
    while (c < e && (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\f' || *c == '\r')) c++;
    if (c >= e) return 0;
    if (*c < 0x80) return follow[*c] != 0;
    if ((*c & 0xE0) == 0xC0) return e - c >= 2 && follow[((uint32_t)(*c & 0x1F) << 6) | (c[1] & 0x3F)];
    if ((*c & 0xF0) == 0xE0)
        return e - c >= 3 && follow[((uint32_t)(*c & 0x0F) << 12) | ((uint32_t)(c[1] & 0x3F) << 6) | (c[2] & 0x3F)];
    return (*c & 0xF8) == 0xF0; /* a supplementary-plane character: kept (superset) */
}

/* The flag bits the byte at q (one of the pattern bytes) sets in the value [v, e). */
static uint8_t flags_at(const text_keys *tk, const uint8_t *v, const uint8_t *q, const uint8_t *e, uint8_t got) {
    if (*q == 0xEF && tk->any_wide) return (e - q >= 3 && q[1] == 0xBC && tk->wide[q[2]]) ? 2 : 0;
    if (got & 1) return 0;
    /* most bytes equal to a keyword's last byte lie inside other characters: one look at the byte before sends
       them away before the keywords are compared */
    if (!tk->short_keyword && (q == v || !tk->before[q[-1]])) return 0;
    for (int m = 0; m < tk->n; m++) {
        const size_t len = tk->len[m];
        const uint8_t *k = tk->k[m], *s = q + 1 - len;
        if (k[len - 1] != *q || (size_t)(q - v) + 1 < len) continue;
        size_t j = len - 1; /* compared from the end: most candidates differ within a byte or two */
        while (j && s[j - 1] == k[j - 1]) j--;
        if (j == 0 && name_follows(q + 1, e, tk->follow)) return 1;
    }
    return 0;
}

/* The flags of one value [v, e); stops once every wanted flag is set. */
static uint8_t value_flags(const text_keys *tk, const uint8_t *v, const uint8_t *e, const uint8_t *dend) {
    const uint8_t want = (uint8_t)((tk->n ? 1 : 0) | (tk->any_wide ? 2 : 0));
    uint8_t got = 0;
    const uint8_t *p = v;
#ifdef ANJU_SWAR
    const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
    while (p < e && dend - p >= 8) {
        uint64_t w, m = 0;
        memcpy(&w, p, 8);
        for (int j = 0; j < tk->npat; j++) { /* bytes equal to a pattern byte (a superset: each is checked) */
            const uint64_t x = w ^ (ones * tk->pat[j]);
            m |= (x - ones) & ~x & highs;
        }
        if (e - p < 8) m &= (1ULL << (8 * (e - p))) - 1;
        for (; m; m &= m - 1) {
            const uint8_t *q = p + (__builtin_ctzll(m) >> 3);
            for (int j = 0; j < tk->npat; j++) {
                if (*q == tk->pat[j]) {
                    got |= flags_at(tk, v, q, e, got);
                    break;
                }
            }
            if (got == want) return got;
        }
        p += 8;
    }
#endif
    for (; p < e; p++) {
        for (int j = 0; j < tk->npat; j++) {
            if (*p == tk->pat[j]) {
                got |= flags_at(tk, v, p, e, got);
                break;
            }
        }
        if (got == want) return got;
    }
    return got;
}

static PyObject *text_flags(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer offs, data, kw, follow, wide;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*y*ny*y*y*", &offs, &data, &n, &kw, &follow, &wide)) return NULL;
    PyObject *result = NULL;
    text_keys tk;
    memset(&tk, 0, sizeof tk);
    if (follow.len != 65536) {
        PyErr_SetString(PyExc_ValueError, "follow must hold 65536 bytes");
        goto done;
    }
    if (check_offsets(&offs, &data, n) < 0) goto done;
    tk.follow = (const uint8_t *)follow.buf;
    for (const uint8_t *k = kw.buf, *kend = k + kw.len; k < kend;) {
        const uint8_t *z = memchr(k, 0, (size_t)(kend - k));
        const size_t len = (size_t)((z ? z : kend) - k);
        if (len) {
            int j = 0;
            while (j < tk.npat && tk.pat[j] != k[len - 1]) j++;
            if (tk.n == 32 || k[len - 1] == 0xEF || (j == tk.npat && tk.npat == 3)) {
                PyErr_SetString(PyExc_ValueError, "at most 32 keywords, ending in at most 3 distinct bytes (not EF)");
                goto done;
            }
            if (j == tk.npat) tk.pat[tk.npat++] = k[len - 1];
            if (len == 1) tk.short_keyword = 1;
            else tk.before[k[len - 2]] = 1;
            tk.k[tk.n] = k;
            tk.len[tk.n++] = len;
        }
        k += len + 1;
    }
    for (Py_ssize_t j = 0; j < wide.len; j++) {
        const uint8_t b = ((const uint8_t *)wide.buf)[j];
        if (b < 0x90 || b > 0x99) {
            PyErr_SetString(PyExc_ValueError, "wide holds the third UTF-8 bytes of full-width digits (0x90..0x99)");
            goto done;
        }
        tk.wide[b] = 1;
        tk.any_wide = 1;
    }
    if (tk.any_wide) tk.pat[tk.npat++] = 0xEF;
    const int32_t *o = (const int32_t *)offs.buf;
    result = PyBytes_FromStringAndSize(NULL, n);
    if (!result) goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    const uint8_t *d = (const uint8_t *)data.buf;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *dend = d + data.len;
    for (Py_ssize_t i = 0; i < n; i++) out[i] = tk.npat ? value_flags(&tk, d + o[i], d + o[i + 1], dend) : 0;
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    PyBuffer_Release(&kw);
    PyBuffer_Release(&follow);
    PyBuffer_Release(&wide);
    return result;
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
    {"find_each", find_each, METH_VARARGS, "Row-wise: does needle i occur in text i (replace_each's search)."},
    {"digit_runs", digit_runs, METH_VARARGS, "Rows of an Arrow string array with a run of ASCII digits."},
    {"text_flags", text_flags, METH_VARARGS, "Per value: may a name start here (bit 0); full-width digits (bit 1)."},
    {"double_byte_table", double_byte_table, METH_VARARGS, "iconv's UTF-8 of every two-byte code of an encoding."},
    {"double_byte_decode", double_byte_decode, METH_VARARGS, "Table-driven double-byte → UTF-8 (prefix)."},
    {"sha_ni", sha_ni, METH_NOARGS, "True when the SHA-NI compression is in use."},
    {"set_portable", set_portable, METH_O, "Force (True) or release (False) the portable C compression (tests)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_native", "anju ingest batch kernels", -1, METHODS,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) {
#ifdef ANJU_X86
    use_compression(have_sha_ni());
#endif
    return PyModule_Create(&MODULE);
}

/*
 * ms_shuffle_sort.c - the shuffle's record sorts: fixed-size records ordered
 * by (k0, k1, value bytes).
 *
 * The reference (ms_shuffle_sort_records_ref) is an introsort by
 * comparisons, in place and without allocating.  The reduce uses the radix
 * sort (ms_shuffle_sort_index), which sorts 8-byte words, not records:
 *
 *   - A record read in the order's terms is a string of 64-bit chunks: k0,
 *     k1, then the value's bytes eight at a time, big-endian (so that
 *     numeric order is memcmp order; the last chunk zero-padded).  One pass
 *     ORs every record's chunks XOR the first record's: the bits in which
 *     records differ.  Keys are mostly small numbers, so most bits do not
 *     (doctor x day: some 24 of 128 key bits).
 *   - Each record gets a word: its first varying bits, packed in order
 *     (contiguous runs of bits, at most MAXSEG of them), in the high bits,
 *     and its id (where the record lies) in the low ones.  Dropping bits in
 *     which no two records differ keeps the order, so sorting the words by
 *     those high bits with an LSD radix sort (histograms counted while the
 *     words are made, a digit on which every word agrees skipped) orders
 *     the records by the bits they carry.  A word takes about log2(n) + 8
 *     varying bits (at least a small key's varying bits + 12: the records
 *     of one key differ only in their values), in digits of about log2(n)
 *     bits (at most 11): two to four passes, not one per varying byte, and
 *     few words tie.
 *   - Records with equal words may still differ further on: each such run
 *     is sorted again the same way on the bits that remain (or by insertion
 *     when short), until none remain.  Chunks are looked at only as far as
 *     a word needs them (the key and the value's first eight bytes, mostly).
 *
 * Records equal in every bit are byte-identical, so the order among them
 * does not matter: the indices give the same bytes as the reference.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ms_shuffle_int.h"

/* Word by word: a call to memcpy per swap costs more than the swap. */
static void rec_swap(unsigned char *a, unsigned char *b, size_t rs)
{
    size_t i = 0;
    for (; i + 8 <= rs; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        memcpy(a + i, &y, 8);
        memcpy(b + i, &x, 8);
    }
    for (; i < rs; i++) {
        unsigned char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

static void insertion_sort(unsigned char *a, size_t n, size_t rs, size_t vs, unsigned char *tmp)
{
    for (size_t i = 1; i < n; i++) {
        if (ms_shuffle_rec_cmp(a + i * rs, a + (i - 1) * rs, vs) >= 0) continue;
        memcpy(tmp, a + i * rs, rs);
        size_t j = i - 1;
        while (j > 0 && ms_shuffle_rec_cmp(tmp, a + (j - 1) * rs, vs) < 0) j--;
        memmove(a + (j + 1) * rs, a + j * rs, (i - j) * rs);
        memcpy(a + j * rs, tmp, rs);
    }
}

static void sift_down(unsigned char *a, size_t root, size_t n, size_t rs, size_t vs)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && ms_shuffle_rec_cmp(a + child * rs, a + (child + 1) * rs, vs) < 0) child++;
        if (ms_shuffle_rec_cmp(a + root * rs, a + child * rs, vs) >= 0) return;
        rec_swap(a + root * rs, a + child * rs, rs);
        root = child;
    }
}

static void heap_sort(unsigned char *a, size_t n, size_t rs, size_t vs)
{
    for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n, rs, vs);
    for (size_t end = n; end-- > 1;) {
        rec_swap(a, a + end * rs, rs);
        sift_down(a, 0, end, rs, vs);
    }
}

/* Order a[0] <= a[m] <= a[n-1] in place. */
static void order3(unsigned char *a, size_t m, size_t n, size_t rs, size_t vs)
{
    unsigned char *x = a, *y = a + m * rs, *z = a + (n - 1) * rs;
    if (ms_shuffle_rec_cmp(y, x, vs) < 0) rec_swap(x, y, rs);
    if (ms_shuffle_rec_cmp(z, y, vs) < 0) {
        rec_swap(y, z, rs);
        if (ms_shuffle_rec_cmp(y, x, vs) < 0) rec_swap(x, y, rs);
    }
}

/* Introsort in place on fixed-size records: Hoare partitioning around the
 * median of three (it stops on records equal to the pivot, so long runs of
 * equal records, common with small values, still split evenly), insertion
 * sort for short ranges and heapsort past the depth limit.  No allocation:
 * glibc's qsort would malloc a copy of the array, doubling the memory the
 * cap is meant to bound. */
static void quick_sort(unsigned char *a, size_t n, size_t rs, size_t vs, unsigned char *tmp,
                       unsigned char *piv, unsigned depth)
{
    while (n > 16) {
        if (depth == 0) {
            heap_sort(a, n, rs, vs);
            return;
        }
        depth--;
        /* With a[0] <= pivot <= a[n-1] both scans stop inside the range and
         * the split leaves records on both sides. */
        order3(a, n / 2, n, rs, vs);
        memcpy(piv, a + (n / 2) * rs, rs);
        size_t i = 0, j = n - 1;
        for (;;) {
            while (ms_shuffle_rec_cmp(a + i * rs, piv, vs) < 0) i++;
            while (ms_shuffle_rec_cmp(a + j * rs, piv, vs) > 0) j--;
            if (i >= j) break;
            rec_swap(a + i * rs, a + j * rs, rs);
            i++;
            j--;
        }
        /* [0, j] <= pivot <= [j+1, n): recurse on the smaller side so the
         * stack stays logarithmic. */
        size_t nl = j + 1;
        if (nl < n - nl) {
            quick_sort(a, nl, rs, vs, tmp, piv, depth);
            a += nl * rs;
            n -= nl;
        } else {
            quick_sort(a + nl * rs, n - nl, rs, vs, tmp, piv, depth);
            n = nl;
        }
    }
    insertion_sort(a, n, rs, vs, tmp);
}

void ms_shuffle_sort_records_ref(unsigned char *a, size_t n, size_t rs, size_t vs)
{
    unsigned char tmp[MS_SHUFFLE_KEY_BYTES + 256], piv[MS_SHUFFLE_KEY_BYTES + 256];
    unsigned depth = 0;
    for (size_t m = n; m > 1; m >>= 1) depth += 2;
    quick_sort(a, n, rs, vs, tmp, piv, depth);
}

/* ---- the radix index sort ---------------------------------------------- */

#define MAXSEG 8          /* runs of varying bits packed into one word */
#define MAXCHUNK (2 + 32) /* k0, k1, 256 value bytes */
#define DIGIT_MAX 11      /* bits per radix digit */
#define MAXPASS 6
#define EXTRA_BITS 8      /* a word's bits beyond log2(n): few equal words left */
#define EXTRA_VALUE_BITS 12 /* a word's bits beyond a small key's */
#define SMALL_RUN 24      /* sorted by insertion */

/* Chunk c of a record as loaded (value chunks still little-endian: XOR and
 * OR commute with the byte swap). */
static inline uint64_t raw_chunk(const unsigned char *r, unsigned c, size_t vs)
{
    uint64_t x = 0;
    if (c < 2) {
        memcpy(&x, r + 8 * c, 8);
        return x;
    }
    size_t off = 8 * (size_t)(c - 2);
    if (off + 8 <= vs) memcpy(&x, r + MS_SHUFFLE_KEY_BYTES + off, 8);
    else memcpy(&x, r + MS_SHUFFLE_KEY_BYTES + off, vs - off);
    return x;
}

/* From loaded to compared: the value's bytes big-endian. */
static inline uint64_t chunk_order(unsigned c, uint64_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (c >= 2) x = __builtin_bswap64(x);
#else
    (void)c;
#endif
    return x;
}

/* Bits lo..lo+width-1 of chunk c go to bits dst..dst+width-1 of the word. */
typedef struct {
    unsigned c, lo, dst;
    uint64_t mask; /* width bits */
} seg_t;

/* The word being planned: segments, bits used, bits wanted. */
typedef struct {
    seg_t seg[MAXSEG];
    unsigned nseg, used, target;
} plan_t;

typedef struct {
    const unsigned char *const *base; /* the record set's pieces */
    unsigned slot_bits;
    uint64_t slot_mask;
    size_t rs, vs;
    unsigned nc;       /* chunks per record */
    unsigned idxbits;  /* low bits of a word holding the record's id */
    uint64_t idxmask;
    uint32_t *hist;    /* [MAXPASS << DIGIT_MAX] */
} sorter_t;

static inline const unsigned char *rec_of(const sorter_t *x, uint64_t w)
{
    w &= x->idxmask;
    return x->base[w >> x->slot_bits] + (size_t)(w & x->slot_mask) * x->rs;
}

static void insertion_index(const sorter_t *x, uint64_t *w, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = w[i];
        const unsigned char *r = rec_of(x, v);
        size_t j = i;
        while (j > 0 && ms_shuffle_rec_cmp(r, rec_of(x, w[j - 1]), x->vs) < 0) {
            w[j] = w[j - 1];
            j--;
        }
        w[j] = v;
    }
}

/* The bits of chunks [c0, c1) (at most 3) in which records w[0..n) differ,
 * within allow. */
static void chunk_masks(const sorter_t *x, const uint64_t *w, size_t n, unsigned c0, unsigned c1,
                        const uint64_t *allow, uint64_t *mask)
{
    const size_t vs = x->vs;
    uint64_t first[3] = {0, 0, 0}, m[3] = {0, 0, 0};
    const unsigned char *r0 = rec_of(x, w[0]);
    for (unsigned c = c0; c < c1; c++) first[c - c0] = raw_chunk(r0, c, vs);
    if (c0 == 0 && c1 == 3 && vs >= 8) {
        /* The common case, unrolled: the key and the value's first bytes. */
        for (size_t i = 1; i < n; i++) {
            const unsigned char *r = rec_of(x, w[i]);
            uint64_t k0, k1, v0;
            memcpy(&k0, r, 8);
            memcpy(&k1, r + 8, 8);
            memcpy(&v0, r + 16, 8);
            m[0] |= k0 ^ first[0];
            m[1] |= k1 ^ first[1];
            m[2] |= v0 ^ first[2];
        }
    } else {
        for (size_t i = 1; i < n; i++) {
            const unsigned char *r = rec_of(x, w[i]);
            for (unsigned c = c0; c < c1; c++) m[c - c0] |= raw_chunk(r, c, vs) ^ first[c - c0];
        }
    }
    for (unsigned c = c0; c < c1; c++) mask[c - c0] = chunk_order(c, m[c - c0]) & allow[c];
}

/* Take the varying bits m of chunk c into the word, from the top, as far as
 * the plan wants; returns the varying bits left out. */
static uint64_t plan_chunk(plan_t *p, unsigned c, uint64_t m)
{
    while (m && p->used < p->target && p->nseg < MAXSEG) {
        unsigned hi = 63u - (unsigned)__builtin_clzll(m), lo;
        if (p->nseg == MAXSEG - 1) {
            /* The last segment takes whatever lies below, gaps and all:
             * bits on which all records agree do not change the order. */
            lo = 0;
        } else {
            uint64_t zeros = ~m & ((1ull << hi) - 1); /* below hi */
            lo = zeros ? 64u - (unsigned)__builtin_clzll(zeros) : 0;
        }
        unsigned width = hi - lo + 1;
        if (width > p->target - p->used) {
            width = p->target - p->used;
            lo = hi + 1 - width;
        }
        /* width < 64: the target leaves at least one bit for the index. */
        uint64_t wm = (1ull << width) - 1;
        p->seg[p->nseg++] = (seg_t){.c = c, .lo = lo, .dst = 64 - p->used - width, .mask = wm};
        p->used += width;
        m &= ~(wm << lo);
    }
    return m;
}

/* One level: sort w[0..n) (index in the low bits, anything above) by the
 * records' bits allowed in allow[], ahead of which they all agree. */
static void sort_level(const sorter_t *x, uint64_t *w, uint64_t *t, size_t n, const uint64_t *allow)
{
    if (n <= SMALL_RUN) {
        insertion_index(x, w, n);
        return;
    }
    const unsigned nc = x->nc;
    const size_t vs = x->vs;
    /* The bits in which the records differ: the key and the value's first
     * chunk at once. */
    uint64_t rest[MAXCHUNK], mask[3];
    const unsigned c1 = nc < 3 ? nc : 3; /* nc >= 3: vs >= 1 */
    chunk_masks(x, w, n, 0, c1, allow, mask);
    /* Digits of about log2(n) bits, and enough of them for log2(n) +
     * EXTRA_BITS bits: had the records random bits, few words would be
     * equal.  When the key's varying bits fit, at least those and
     * EXTRA_VALUE_BITS more: small keys (doctor x day) take far fewer values
     * than their varying bits could, and the records of one key differ only
     * in their values.  Equal words are sorted again below. */
    const unsigned lg = ms_shuffle_ceil_log2(n);
    const unsigned dig = lg < 4 ? 4 : lg > DIGIT_MAX ? DIGIT_MAX : lg;
    const unsigned budget = 64 - x->idxbits;
    const unsigned kb = (unsigned)__builtin_popcountll(mask[0]) + (unsigned)__builtin_popcountll(mask[1]);
    unsigned want = lg + EXTRA_BITS;
    if (kb <= budget && kb + EXTRA_VALUE_BITS > want) want = kb + EXTRA_VALUE_BITS;
    unsigned npass = (want + dig - 1) / dig;
    if (npass > MAXPASS) npass = MAXPASS;
    plan_t pl = {.target = npass * dig};
    if (pl.target > budget) pl.target = budget;
    for (unsigned k = 0; k < c1; k++) rest[k] = plan_chunk(&pl, k, mask[k]);
    /* Further chunks one at a time, until the word is full. */
    unsigned c = c1;
    while (c < nc && pl.used < pl.target && pl.nseg < MAXSEG) {
        chunk_masks(x, w, n, c, c + 1, allow, mask);
        rest[c] = plan_chunk(&pl, c, mask[0]);
        c++;
    }
    int complete = 1;
    for (unsigned k = 0; k < nc; k++) {
        if (k >= c) rest[k] = allow[k]; /* not looked at */
        if (rest[k]) complete = 0;
    }
    const unsigned used = pl.used;
    if (used == 0) return; /* every chunk looked at: all equal */

    /* Digits over bits [64 - used, 64), low digit first. */
    npass = (used + dig - 1) / dig;
    unsigned shift[MAXPASS], width[MAXPASS];
    for (unsigned p = 0, at = 64 - used; p < npass; p++) {
        width[p] = used / npass + (p < used % npass);
        shift[p] = at;
        at += width[p];
    }
    uint32_t *hist = x->hist;
    for (unsigned p = 0; p < npass; p++) memset(hist + ((size_t)p << DIGIT_MAX), 0, sizeof *hist << width[p]);

    /* The words, and every digit's histogram.  The passes ping-pong between w
     * and t: start where the last pass lands in w. */
    uint64_t *src = npass % 2 ? t : w, *dst = npass % 2 ? w : t;
    const seg_t *seg = pl.seg;
    const unsigned nseg = pl.nseg;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = w[i];
        const unsigned char *r = rec_of(x, v);
        uint64_t word = v & x->idxmask;
        for (unsigned k = 0; k < nseg; k++)
            word |= (chunk_order(seg[k].c, raw_chunk(r, seg[k].c, vs)) >> seg[k].lo & seg[k].mask) << seg[k].dst;
        src[i] = word;
        for (unsigned p = 0; p < npass; p++)
            hist[((size_t)p << DIGIT_MAX) + (word >> shift[p] & ((1u << width[p]) - 1))]++;
    }
    for (unsigned p = 0; p < npass; p++) {
        uint32_t *h = hist + ((size_t)p << DIGIT_MAX);
        const unsigned sh = shift[p];
        const uint64_t dm = (1u << width[p]) - 1;
        if (h[src[0] >> sh & dm] == n) {
            /* Every word has this digit: nothing moves. */
            memcpy(dst, src, n * sizeof *src);
        } else {
            uint32_t sum = 0;
            for (size_t d = 0; d <= dm; d++) {
                uint32_t k = h[d];
                h[d] = sum;
                sum += k;
            }
            for (size_t i = 0; i < n; i++) {
                uint64_t v = src[i];
                dst[h[v >> sh & dm]++] = v;
            }
        }
        uint64_t *tmp = src;
        src = dst;
        dst = tmp;
    }
    /* src == w now. */
    if (complete) return;
    /* Runs of equal words hold records that may differ in the bits left. */
    const unsigned top = 64 - used;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && (w[j] >> top) == (w[i] >> top)) j++;
        if (j - i > 1) sort_level(x, w + i, t + i, j - i, rest);
        i = j;
    }
}

void ms_shuffle_sort_index(const ms_recset_t *set, size_t n, size_t rs, size_t vs, uint64_t *w, uint64_t *t)
{
    if (n < 2) return;
    sorter_t x = {.base = set->base, .slot_bits = set->slot_bits, .rs = rs, .vs = vs,
                  .nc = 2 + (unsigned)((vs + 7) / 8)};
    x.slot_mask = (1ull << x.slot_bits) - 1;
    /* At least one bit: the word's other 63 at most hold record bits. */
    x.idxbits = set->id_bits ? set->id_bits : 1;
    x.idxmask = (1ull << x.idxbits) - 1;
    uint32_t hist[MAXPASS << DIGIT_MAX]; /* 48 KiB: levels run one after another */
    x.hist = hist;
    uint64_t allow[MAXCHUNK];
    for (unsigned c = 0; c < x.nc; c++) allow[c] = ~0ull;
    sort_level(&x, w, t, n, allow);
    for (size_t i = 0; i < n; i++) w[i] &= x.idxmask;
}

/* ---- the public sort --------------------------------------------------- */

ms_status_t ms_shuffle_sort(void *records, size_t n, size_t value_size, ms_shuffle_sort_t how)
{
    if (value_size < 1 || value_size > 256 || (n && !records))
        return ms_error_set(MS_E_USAGE, "ms_shuffle_sort: value size %zu not in 1..256, or no records", value_size);
    const size_t rs = MS_SHUFFLE_KEY_BYTES + value_size;
    unsigned char *a = records;
    if (how == MS_SHUFFLE_SORT_REF) {
        ms_shuffle_sort_records_ref(a, n, rs, value_size);
        return MS_OK;
    }
    if (n > MS_SHUFFLE_MAX_SORT_RECS)
        return ms_error_set(MS_E_USAGE, "ms_shuffle_sort: %zu records, more than one sort takes", n);
    if (n < 2) return MS_OK;
    uint64_t *w = malloc(2 * n * sizeof *w);
    unsigned char *out = malloc(n * rs);
    if (!w || !out) {
        free(w);
        free(out);
        return ms_error_set(MS_E_NOMEM, "ms_shuffle_sort: out of memory for %zu records", n);
    }
    const unsigned char *base[1] = {a};
    const unsigned bits = ms_shuffle_ceil_log2(n);
    const ms_recset_t set = {.base = base, .slot_bits = bits, .id_bits = bits};
    for (size_t i = 0; i < n; i++) w[i] = i;
    ms_shuffle_sort_index(&set, n, rs, value_size, w, w + n);
    for (size_t i = 0; i < n; i++) memcpy(out + i * rs, a + w[i] * rs, rs);
    memcpy(a, out, n * rs);
    free(w);
    free(out);
    return MS_OK;
}

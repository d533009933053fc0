/*
 * ms_dist.c - ranks and collectives over Open MPI (ms_dist.h), or one rank
 * where this build has no MPI or no launcher started the process.
 */
#include "ms_dist.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"

#ifdef MS_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1;
static int g_share = 0, g_nshares = 1;

void ms_dist_cpu_share(int *share, int *nshares)
{
    *share = g_share;
    *nshares = g_nshares;
}

/* Set by the launchers this program knows: Open MPI's mpirun, and srun
 * with PMIx or PMI-2. */
static int launched_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    /* srun --mpi=pmix sets PMIX_RANK, and the step's task count. */
    if (getenv("PMIX_RANK")) {
        const char *v = getenv("SLURM_STEP_NUM_TASKS");
        return v && atoi(v) > 0 ? atoi(v) : 2;
    }
    return 0;
}

int ms_dist_rank(void) { return g_rank; }
int ms_dist_size(void) { return g_size; }

#ifdef MS_HAVE_MPI

static int g_joined = 0;
static int g_failed = 0; /* an agree has failed: every rank knows, the message is named */

int ms_dist_built(void) { return 1; }

const char *ms_dist_library(void)
{
    static char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (!v[0] && MPI_Get_library_version(v, &len) == MPI_SUCCESS) v[strcspn(v, ",\n")] = '\0';
    return v[0] ? v : "MPI";
}

ms_status_t ms_dist_start(int *argc, char ***argv)
{
    if (g_joined || launched_size() == 0) return MS_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return ms_error_set(MS_E_IO, "cannot join the MPI job (MPI_Init_thread failed)");
    g_joined = 1;
    if (provided < MPI_THREAD_FUNNELED) {
        ms_dist_stop();
        return ms_error_set(MS_E_USAGE, "the MPI library does not let a threaded program call it from its main thread");
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    /* The ranks on this node with the same CPUs as this one. */
    MPI_Comm node;
    if (g_size > 1 && MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        int lr = 0, ln = 1;
        MPI_Comm_rank(node, &lr);
        MPI_Comm_size(node, &ln);
        cpu_set_t mine;
        CPU_ZERO(&mine);
        if (sched_getaffinity(0, sizeof mine, &mine) != 0) CPU_ZERO(&mine);
        cpu_set_t *all = malloc((size_t)ln * sizeof *all);
        if (all && MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, node) == MPI_SUCCESS) {
            int n = 0, before = 0;
            for (int i = 0; i < ln; i++)
                if (CPU_EQUAL(&all[i], &mine)) {
                    n++;
                    before += i < lr;
                }
            if (n > 1) g_share = before, g_nshares = n;
        }
        free(all);
        MPI_Comm_free(&node);
    }
    return MS_OK;
}

void ms_dist_stop(void)
{
    if (!g_joined) return;
    g_joined = 0;
    MPI_Finalize();
}

ms_status_t ms_dist_agree(ms_status_t mine)
{
    if (g_size == 1) return mine;
    int me = mine == MS_OK ? g_size : g_rank, first = g_size;
    MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == g_size) return MS_OK;
    struct {
        int status;
        char msg[1024];
    } why = {0};
    if (g_rank == first) {
        why.status = (int)mine;
        snprintf(why.msg, sizeof why.msg, "%s", ms_error_detail());
    }
    MPI_Bcast(&why, (int)sizeof why, MPI_BYTE, first, MPI_COMM_WORLD);
    why.msg[sizeof why.msg - 1] = '\0';
    /* A failure agreed on before comes round again unchanged (the steps
     * after a failed one pass it on): named once. */
    if (g_failed) return ms_error_set((ms_status_t)why.status, "%s", why.msg);
    g_failed = 1;
    return ms_error_set((ms_status_t)why.status, "rank %d of %d: %s", first, g_size, why.msg);
}

/* Large transfers go in pieces an int can count. */
#define PIECE ((size_t)1 << 30)

ms_status_t ms_dist_bcast(void *buf, size_t len)
{
    for (size_t off = 0; g_size > 1 && off < len; off += PIECE) {
        size_t n = len - off < PIECE ? len - off : PIECE;
        MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
    return MS_OK;
}

ms_status_t ms_dist_max_u64(uint64_t *v)
{
    if (g_size == 1) return MS_OK;
    uint64_t in = *v;
    MPI_Allreduce(&in, v, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return MS_OK;
}

/* inout[i] = min(255, in[i] + inout[i]): the key counts' sum. */
static void add_sat_u8(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const uint8_t *a = in;
    uint8_t *b = inout;
    for (int i = 0; i < *len; i++) b[i] = (uint8_t)(a[i] + b[i] > 255 ? 255 : a[i] + b[i]);
}

ms_status_t ms_dist_sum_sat_u8(uint8_t *v, size_t n)
{
    if (g_size == 1) return MS_OK;
    MPI_Op op;
    MPI_Op_create(add_sat_u8, 1, &op);
    /* In pieces: an MPI count is an int. */
    for (size_t off = 0; off < n; off += PIECE) {
        size_t len = n - off < PIECE ? n - off : PIECE;
        MPI_Allreduce(MPI_IN_PLACE, v + off, (int)len, MPI_UINT8_T, op, MPI_COMM_WORLD);
    }
    MPI_Op_free(&op);
    return MS_OK;
}

ms_status_t ms_dist_gather_u64(const uint64_t *mine, size_t n, uint64_t *all)
{
    if (g_size == 1) {
        if (all && n) memcpy(all, mine, n * sizeof *mine);
        return MS_OK;
    }
    MPI_Gather(mine, (int)n, MPI_UINT64_T, all, (int)n, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    return MS_OK;
}

ms_status_t ms_dist_to_root(const void *mine, size_t len, ms_dist_recv_fn recv, void *ctx)
{
    if (g_size == 1) return MS_OK;
    enum { TAG_LEN = 71, TAG_BYTES = 72 };
    if (g_rank != 0) {
        uint64_t n = len;
        MPI_Send(&n, 1, MPI_UINT64_T, 0, TAG_LEN, MPI_COMM_WORLD);
        for (size_t off = 0; off < len; off += PIECE) {
            size_t k = len - off < PIECE ? len - off : PIECE;
            MPI_Send((const char *)mine + off, (int)k, MPI_BYTE, 0, TAG_BYTES, MPI_COMM_WORLD);
        }
        return MS_OK;
    }
    ms_status_t st = MS_OK;
    unsigned char *buf = NULL;
    for (int r = 1; r < g_size; r++) {
        uint64_t n = 0;
        MPI_Recv(&n, 1, MPI_UINT64_T, r, TAG_LEN, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        unsigned char *nb = realloc(buf, n ? (size_t)n : 1);
        if (!nb) {
            /* Still take the bytes, or the sender waits forever. */
            unsigned char sink[4096];
            for (uint64_t off = 0; off < n;) {
                size_t k = n - off < sizeof sink ? (size_t)(n - off) : sizeof sink;
                MPI_Recv(sink, (int)k, MPI_BYTE, r, TAG_BYTES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                off += k;
            }
            if (st == MS_OK) st = ms_error_set(MS_E_NOMEM, "out of memory for rank %d's %llu bytes", r,
                                               (unsigned long long)n);
            continue;
        }
        buf = nb;
        for (size_t off = 0; off < n; off += PIECE) {
            size_t k = n - off < PIECE ? (size_t)n - off : PIECE;
            MPI_Recv(buf + off, (int)k, MPI_BYTE, r, TAG_BYTES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
        if (st == MS_OK) st = recv(ctx, r, buf, (size_t)n);
    }
    free(buf);
    return st;
}

/* ---- the keyed records' exchange --------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t len, cap; /* bytes */
} bytes_t;

static ms_status_t append(void *vctx, const void *records, size_t n)
{
    bytes_t *b = ((bytes_t **)vctx)[0];
    size_t rs = (size_t)(uintptr_t)((bytes_t **)vctx)[1];
    MS_TRY(ms_grow(&b->p, &b->cap, b->len + n * rs, 1, 1 << 16));
    memcpy(b->p + b->len, records, n * rs);
    b->len += n * rs;
    return MS_OK;
}

ms_status_t ms_dist_exchange(ms_shuffle_t *s, uint64_t *sent_records, uint64_t *sent_bytes)
{
    *sent_records = *sent_bytes = 0;
    if (g_size == 1) return MS_OK;
    const size_t rs = ms_shuffle_record_size(s);
    const uint32_t nb = ms_shuffle_nbuckets(s);
    const int R = g_size;
    MPI_Datatype rec;
    MPI_Type_contiguous((int)rs, MPI_BYTE, &rec);
    MPI_Type_commit(&rec);
    int *scount = calloc((size_t)R, sizeof *scount), *rcount = calloc((size_t)R, sizeof *rcount);
    int *sdisp = calloc((size_t)R, sizeof *sdisp), *rdisp = calloc((size_t)R, sizeof *rdisp);
    bytes_t send = {0}, recv = {0};
    if (!scount || !rcount || !sdisp || !rdisp) {
        /* Without them this rank cannot take part, and the others would
         * wait for it: the job ends. */
        fprintf(stderr, "medsweep: rank %d: out of memory for the keyed records' exchange\n", g_rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    ms_status_t st = MS_OK;
    /* Round j moves buckets j*R .. j*R + R - 1: bucket j*R + d to rank d.  A
     * rank that failed goes on taking part, sending nothing. */
    for (uint32_t first = 0; first < nb; first += (uint32_t)R) {
        send.len = 0;
        for (int d = 0; d < R; d++) {
            uint32_t b = first + (uint32_t)d;
            size_t before = send.len;
            if (d != g_rank && b < nb && st == MS_OK) {
                void *ctx[2] = {&send, (void *)(uintptr_t)rs};
                st = ms_shuffle_take_bucket(s, b, (size_t)16 << 20, append, ctx, NULL);
                if (st != MS_OK) send.len = before;
            }
            size_t n = (send.len - before) / rs;
            if (n > INT_MAX && st == MS_OK)
                st = ms_error_set(MS_E_NOMEM, "bucket %u holds %zu records, more than one exchange moves", b, n);
            if (st != MS_OK) send.len = before, n = 0;
            scount[d] = (int)n;
            sdisp[d] = (int)(before / rs);
            *sent_records += n;
        }
        MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, MPI_COMM_WORLD);
        uint64_t total = 0;
        for (int d = 0; d < R; d++) {
            rdisp[d] = (int)total;
            total += (uint64_t)rcount[d];
        }
        if (total > INT_MAX || ms_grow(&recv.p, &recv.cap, (size_t)total * rs + 1, 1, 1 << 16) != MS_OK) {
            /* Nothing can be received: every rank must still finish the
             * collective, so this one fails the whole job. */
            fprintf(stderr, "medsweep: rank %d: out of memory receiving %llu keyed records\n", g_rank,
                    (unsigned long long)total);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        MPI_Alltoallv(send.p, scount, sdisp, rec, recv.p, rcount, rdisp, rec, MPI_COMM_WORLD);
        if (st == MS_OK) st = ms_shuffle_put(s, 0, recv.p, (size_t)total);
    }
    *sent_bytes = *sent_records * rs;
    MPI_Type_free(&rec);
    free(scount), free(rcount), free(sdisp), free(rdisp);
    free(send.p), free(recv.p);
    return st;
}

#else /* one process */

int ms_dist_built(void) { return 0; }
const char *ms_dist_library(void) { return "none"; }

ms_status_t ms_dist_start(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    int n = launched_size();
    if (n > 1)
        return ms_error_set(MS_E_USAGE,
                            "started as one of %d ranks (mpirun or srun), but this medsweep was built without MPI: "
                            "each rank would sweep everything into the same output; build it with Open MPI "
                            "(libopenmpi-dev) or run it once, without the launcher",
                            n);
    return MS_OK;
}

void ms_dist_stop(void) {}
ms_status_t ms_dist_agree(ms_status_t mine) { return mine; }
ms_status_t ms_dist_bcast(void *buf, size_t len) { (void)buf, (void)len; return MS_OK; }
ms_status_t ms_dist_max_u64(uint64_t *v) { (void)v; return MS_OK; }

ms_status_t ms_dist_sum_sat_u8(uint8_t *v, size_t n) { (void)v, (void)n; return MS_OK; }

ms_status_t ms_dist_gather_u64(const uint64_t *mine, size_t n, uint64_t *all)
{
    if (all && n) memcpy(all, mine, n * sizeof *mine);
    return MS_OK;
}

ms_status_t ms_dist_to_root(const void *mine, size_t len, ms_dist_recv_fn recv, void *ctx)
{
    (void)mine, (void)len, (void)recv, (void)ctx;
    return MS_OK;
}

ms_status_t ms_dist_exchange(ms_shuffle_t *s, uint64_t *sent_records, uint64_t *sent_bytes)
{
    (void)s;
    *sent_records = *sent_bytes = 0;
    return MS_OK;
}

#endif

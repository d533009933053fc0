/*
 * ms_dist.h - the cluster mode's ranks: which of the sweep's processes this
 * one is, and the few collectives a sweep across processes needs (Open MPI;
 * docs/cluster.md).
 *
 * A sweep started by mpirun or srun is one of N ranks: ms_dist_start, called
 * by the command before anything else, sees the launcher (its environment)
 * and joins the job.  Otherwise, and in a build without MPI, there is one
 * rank and every collective is a local no-op, so the single-machine program
 * runs as it always did.  A build without MPI started as one of several
 * ranks refuses to run (N copies would each sweep everything into one OUT).
 *
 * Only the calling (main) thread talks to MPI, between parallel regions
 * (MPI_THREAD_FUNNELED).  Every rank must make the same collective calls in
 * the same order; a rank that fails locally still takes part (with nothing
 * to give) and says so at the next ms_dist_agree.
 */
#ifndef MS_DIST_H
#define MS_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "ms_shuffle.h"
#include "ms_status.h"

/* Join the job if one launched this process (MPI_Init_thread).  MS_E_USAGE
 * (the reason in ms_error_detail) when launched as one of several ranks by
 * a launcher this build cannot speak to.  Idempotent. */
ms_status_t ms_dist_start(int *argc, char ***argv);
/* Leave the job (MPI_Finalize); nothing without one. */
void ms_dist_stop(void);

int ms_dist_rank(void);     /* 0 .. size - 1; 0 without a job */
int ms_dist_size(void);     /* ranks in the job; 1 without one */
int ms_dist_built(void);    /* 1 if this build can join an MPI job */
const char *ms_dist_library(void); /* the MPI library's version line, or "none" */

/* This process's share of its CPUs: ranks on one node that were given the
 * same CPUs (mpirun --bind-to none, srun without binding) share them out,
 * *nshares of them, this one number *share (ms_topology_load_share);
 * 0 of 1 otherwise.  Found once, at ms_dist_start. */
void ms_dist_cpu_share(int *share, int *nshares);

/* Every rank with its own status; every rank returns the same: MS_OK if
 * all were, else the failing rank of lowest number's status, with its
 * message prefixed "rank R of N: " (ms_error_detail) on every rank. */
ms_status_t ms_dist_agree(ms_status_t mine);

/* len bytes from rank 0 to every rank. */
ms_status_t ms_dist_bcast(void *buf, size_t len);

/* The largest of every rank's v, on every rank. */
ms_status_t ms_dist_max_u64(uint64_t *v);

/* Every rank's n counters summed, each at most 255, on every rank. */
ms_status_t ms_dist_sum_sat_u8(uint8_t *v, size_t n);

/* Every rank's n values (n the same on every rank) to rank 0, in rank
 * order: all[r * n + i] (all: size x n, on rank 0 only; others pass NULL). */
ms_status_t ms_dist_gather_u64(const uint64_t *mine, size_t n, uint64_t *all);

/* Bytes of every other rank to rank 0, in rank order: rank 0 calls
 * recv(ctx, r, bytes, len) for r = 1 .. size - 1 (len 0 from a rank that
 * failed to make them); other ranks send theirs. */
typedef ms_status_t (*ms_dist_recv_fn)(void *ctx, int rank, const void *bytes, size_t len);
ms_status_t ms_dist_to_root(const void *mine, size_t len, ms_dist_recv_fn recv, void *ctx);

/* The keyed records' exchange: bucket b of s belongs to rank b % size; every
 * bucket this rank does not own is taken out of s and sent to its owner,
 * and what the others send is put into s, so that each key's records all
 * meet in one rank's shuffle.  s has the same bucket count on every rank.
 * Collective; memory beyond s's own: one round's buckets (size of them)
 * sent and received.  *sent_records, *sent_bytes: what this rank sent. */
ms_status_t ms_dist_exchange(ms_shuffle_t *s, uint64_t *sent_records, uint64_t *sent_bytes);

#endif

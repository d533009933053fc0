/*
 * ms_serve.h - pre-notification over HTTP (docs/prenotification.md): a
 * hospital system POSTs one claim as JSON and gets its verdict as JSON.
 *
 *   POST /v1/check[?lang=zh|en]  a claim -> 200 its verdict; 400 {"error"}
 *                                for a body that is not JSON or not a valid
 *                                claim (the error names the JSON path); 413
 *                                for a body over max_body
 *   GET  /healthz                200 {"status":"ok","rules":N,
 *                                "knowledge_items":M,"history_lines":H,
 *                                "config_hash":"..."}
 *   anything else                404 (no such path) or 405 (another method)
 *
 * GNU libmicrohttpd, a pool of `threads` threads each polling its own
 * connections (epoll) and judging their claims in turn; a claim is judged
 * in the thread that read it, with the checker shared read-only by all.
 * ms_serve_stop stops accepting, lets the requests in flight finish (at most
 * drain_s seconds), then closes.  The library never prints: what happens
 * goes to the log callback, which any pool thread may call.
 */
#ifndef MS_SERVE_H
#define MS_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "ms_check.h"
#include "ms_status.h"

/* A message for the operator (one line, no newline). */
typedef void (*ms_serve_log_fn)(void *ctx, const char *msg);

typedef struct {
    const char *listen;        /* "127.0.0.1:8080", "[::1]:8080" or "0.0.0.0:8080"; port 0:
                                  any free one (ms_serve_address tells which) */
    unsigned threads;          /* pool threads (default 1) */
    size_t max_body;           /* bytes of a request body (default 1 MiB) */
    unsigned max_connections;  /* open connections at once (default 1024) */
    unsigned timeout_s;        /* an idle connection is closed after this (default 30) */
    unsigned drain_s;          /* ms_serve_stop waits this long for requests in flight (default 10) */
    ms_serve_log_fn log;       /* NULL: silent */
    void *log_ctx;
} ms_serve_opts_t;

void ms_serve_opts_init(ms_serve_opts_t *o);

typedef struct ms_server ms_server_t;

/* Listen and serve claims with checker ck (which must outlive the server).
 * An address that cannot be bound (taken, not local, not an address) is
 * MS_E_IO naming it and the reason; a bad option MS_E_USAGE. */
ms_status_t ms_serve_start(const ms_checker_t *ck, const ms_serve_opts_t *o, ms_server_t **out);

/* The address listened on, with its port ("127.0.0.1:40123"). */
const char *ms_serve_address(const ms_server_t *s);

typedef struct {
    uint64_t requests;         /* answered */
    uint64_t claims_checked;   /* 200 from /v1/check */
    uint64_t client_errors;    /* 4xx */
    uint64_t server_errors;    /* 5xx */
} ms_serve_stats_t;

void ms_serve_stats(const ms_server_t *s, ms_serve_stats_t *st);

/* Stop gracefully: no new connections, the requests in flight answered
 * (up to drain_s), the threads joined, everything freed; the final counts
 * in *final when it is not NULL.  NULL s is allowed. */
void ms_serve_stop(ms_server_t *s, ms_serve_stats_t *final);

#endif

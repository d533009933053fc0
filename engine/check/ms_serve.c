/*
 * ms_serve.c - pre-notification over HTTP with GNU libmicrohttpd.
 *
 * Threads: libmicrohttpd's pool (MHD_USE_EPOLL_INTERNAL_THREAD with
 * MHD_OPTION_THREAD_POOL_SIZE); each pool thread accepts, reads, judges
 * and answers its own connections, so a claim is parsed and judged in the
 * thread that read it, with no queue and no lock: the checker is read-only,
 * the counters are relaxed atomics, one request's state is its own.
 *
 * The listening socket is ours (bound here, handed over with
 * MHD_OPTION_LISTEN_SOCKET) so that an address that cannot be bound is an
 * error with its errno ("Address already in use"), not a NULL daemon.
 *
 * Stopping: MHD_quiesce_daemon (needs MHD_USE_ITC) stops accepting; the
 * requests already begun (counted from their first callback to their
 * completion notice) are answered, each with "Connection: close", for at
 * most drain_s seconds; then MHD_stop_daemon joins the pool and the
 * socket is closed.
 */
#include "ms_serve.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ms_buf.h"

#define JSON_TYPE "application/json; charset=utf-8"

struct ms_server {
    const ms_checker_t *ck;
    ms_serve_opts_t o;
    struct MHD_Daemon *d;
    int fd;
    char address[80];
    char *health;              /* the /healthz body, made once */
    size_t health_len;
    atomic_int stopping;
    atomic_long inflight;
    atomic_uint_fast64_t requests, checked, client_errors, server_errors;
};

/* One request's state, from its first callback to its completion. */
typedef struct {
    int route;                 /* ROUTE_* */
    int too_large;
    ms_buf_t body;
} req_t;

enum { ROUTE_NONE, ROUTE_CHECK, ROUTE_HEALTH };

void ms_serve_opts_init(ms_serve_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8080";
    o->threads = 1;
    o->max_body = (size_t)1 << 20;
    o->max_connections = 1024;
    o->timeout_s = 30;
    o->drain_s = 10;
}

static void say(const ms_server_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const ms_server_t *s, const char *fmt, ...)
{
    if (!s->o.log) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->o.log(s->o.log_ctx, msg);
}

/* libmicrohttpd's own messages, one line each. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    const ms_server_t *s = cls;
    if (!s->o.log) return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = 0;
    s->o.log(s->o.log_ctx, msg);
}

/* ------------------------------------------------------------------ */
/* The listening socket */

/* "host:port" or "[v6]:port" into its parts (host may be empty: every
 * address). */
static ms_status_t split_listen(const char *listen, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':') goto bad;
        if ((size_t)(end - listen - 1) >= hcap) goto bad;
        memcpy(host, listen + 1, (size_t)(end - listen - 1));
        host[end - listen - 1] = 0;
        colon = end + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= hcap) goto bad;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = 0;
    }
    if (!colon[1] || strlen(colon + 1) >= pcap || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        atol(colon + 1) > 65535)
        goto bad;
    snprintf(port, pcap, "%s", colon + 1);
    return MS_OK;
bad:
    return ms_error_set(MS_E_USAGE, "listen address '%s': wants HOST:PORT (127.0.0.1:8080, [::1]:8080, "
                        "0.0.0.0:8080), port 0..65535", listen);
}

static ms_status_t open_listener(ms_server_t *s)
{
    char host[64], port[8];
    MS_TRY(split_listen(s->o.listen, host, sizeof host, port, sizeof port));
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (rc) return ms_error_set(MS_E_IO, "cannot listen on %s: %s", s->o.listen, gai_strerror(rc));
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol), err = 0, one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN))
        err = errno;
    freeaddrinfo(ai);
    if (err) {
        if (fd >= 0) close(fd);
        return ms_error_errno(MS_E_IO, err, "cannot listen on %s", s->o.listen);
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[NI_MAXHOST], p[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) ||
        getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV)) {
        close(fd);
        return ms_error_set(MS_E_IO, "cannot tell the address of %s", s->o.listen);
    }
    snprintf(s->address, sizeof s->address, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
    s->fd = fd;
    return MS_OK;
}

/* ------------------------------------------------------------------ */
/* Requests */

/* Queue status code with body (taken: freed by libmicrohttpd), a JSON line. */
static enum MHD_Result reply(ms_server_t *s, struct MHD_Connection *conn, unsigned code, ms_buf_t *body,
                             const char *allow)
{
    if (ms_buf_put(body, "\n", 1) != MS_OK) {
        ms_buf_free(body);
        return MHD_NO; /* out of memory: the connection is closed */
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        ms_buf_free(body);
        return MHD_NO;
    }
    *body = (ms_buf_t){0};
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
    if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (atomic_load(&s->stopping)) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
    if (code >= 500) atomic_fetch_add_explicit(&s->server_errors, 1, memory_order_relaxed);
    else if (code >= 400) atomic_fetch_add_explicit(&s->client_errors, 1, memory_order_relaxed);
    return ret;
}

/* {"error": msg} with code. */
static enum MHD_Result reply_error(ms_server_t *s, struct MHD_Connection *conn, unsigned code, const char *msg,
                                   const char *allow)
{
    ms_buf_t b = {0};
    if (ms_buf_put(&b, "{\"error\":", 9) != MS_OK || ms_check_json_string(&b, msg) != MS_OK ||
        ms_buf_put(&b, "}", 1) != MS_OK) {
        ms_buf_free(&b);
        return MHD_NO;
    }
    return reply(s, conn, code, &b, allow);
}

static enum MHD_Result reply_health(ms_server_t *s, struct MHD_Connection *conn)
{
    ms_buf_t b = {0};
    if (ms_buf_put(&b, s->health, s->health_len) != MS_OK) {
        ms_buf_free(&b);
        return MHD_NO;
    }
    return reply(s, conn, MHD_HTTP_OK, &b, NULL);
}

static enum MHD_Result reply_check(ms_server_t *s, struct MHD_Connection *conn, req_t *r)
{
    const char *lang = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "lang");
    if (!lang) lang = "zh";
    if (strcmp(lang, "zh") && strcmp(lang, "en"))
        return reply_error(s, conn, MHD_HTTP_BAD_REQUEST, "lang: wants zh or en", NULL);
    ms_buf_t out = {0};
    ms_status_t st = ms_check_json(s->ck, r->body.data ? (const char *)r->body.data : "", r->body.len, lang, &out);
    if (st == MS_OK) {
        atomic_fetch_add_explicit(&s->checked, 1, memory_order_relaxed);
        return reply(s, conn, MHD_HTTP_OK, &out, NULL);
    }
    if (st == MS_E_INPUT) return reply(s, conn, MHD_HTTP_BAD_REQUEST, &out, NULL);
    ms_buf_free(&out);
    say(s, "POST /v1/check: %s: %s", ms_status_str(st), ms_error_detail());
    return reply_error(s, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "the claim could not be checked (see the server's log)",
                       NULL);
}

static void too_large_msg(const ms_server_t *s, char *msg, size_t cap)
{
    snprintf(msg, cap, "body: more than the limit of %zu bytes", s->o.max_body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    ms_server_t *s = cls;
    req_t *r = *con_cls;
    char msg[128];
    if (!r) {
        /* The first call: headers only.  Answer what needs no body now. */
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        *con_cls = r;
        atomic_fetch_add(&s->inflight, 1);
        int post = !strcmp(method, MHD_HTTP_METHOD_POST);
        int get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
        if (!strcmp(url, "/v1/check")) {
            if (!post) return reply_error(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "/v1/check takes POST", "POST");
            const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl && strtoull(cl, NULL, 10) > s->o.max_body) {
                too_large_msg(s, msg, sizeof msg);
                return reply_error(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL);
            }
            r->route = ROUTE_CHECK;
            return MHD_YES;
        }
        if (!strcmp(url, "/healthz")) {
            if (!get) return reply_error(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "/healthz takes GET", "GET, HEAD");
            r->route = ROUTE_HEALTH;
            return MHD_YES;
        }
        snprintf(msg, sizeof msg, "no such path (the paths: POST /v1/check, GET /healthz)");
        return reply_error(s, conn, MHD_HTTP_NOT_FOUND, msg, NULL);
    }
    if (*upload_data_size) {
        /* A piece of the body: kept up to the limit, the rest read and dropped. */
        if (r->route == ROUTE_CHECK && !r->too_large) {
            if (r->body.len + *upload_data_size > s->o.max_body) {
                r->too_large = 1;
                ms_buf_free(&r->body);
            } else if (ms_buf_put(&r->body, upload_data, *upload_data_size) != MS_OK) {
                return MHD_NO;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->route == ROUTE_HEALTH) return reply_health(s, conn);
    if (r->too_large) {
        too_large_msg(s, msg, sizeof msg);
        return reply_error(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL);
    }
    return reply_check(s, conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn, (void)toe;
    ms_server_t *s = cls;
    req_t *r = *con_cls;
    if (!r) return;
    ms_buf_free(&r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

/* ------------------------------------------------------------------ */

ms_status_t ms_serve_start(const ms_checker_t *ck, const ms_serve_opts_t *o, ms_server_t **out)
{
    *out = NULL;
    if (!o->listen || o->threads < 1 || o->threads > 1024 || o->max_body < 1 || o->max_connections < 1)
        return ms_error_set(MS_E_USAGE, "serve: wants a listen address, 1..1024 threads, a body limit and a "
                            "connection limit");
    ms_server_t *s = calloc(1, sizeof *s);
    if (!s) return ms_error_set(MS_E_NOMEM, "out of memory");
    s->ck = ck;
    s->o = *o;
    s->fd = -1;
    ms_checker_info_t info;
    ms_checker_info(ck, &info);
    char health[320];
    int n = snprintf(health, sizeof health,
                     "{\"status\":\"ok\",\"rules\":%zu,\"knowledge_items\":%zu,\"history_lines\":%zu,"
                     "\"config_hash\":\"%s\"}",
                     info.rules, info.knowledge_items, info.history_lines, info.config_hash);
    s->health = strdup(health);
    s->health_len = (size_t)n;
    ms_status_t st = s->health ? open_listener(s) : ms_error_set(MS_E_NOMEM, "out of memory");
    if (st != MS_OK) {
        free(s->health);
        free(s);
        return st;
    }
    /* One thread: the polling thread itself; a pool only from two on (any
     * pool size below that is refused with a warning). */
    struct MHD_OptionItem pool[] = {
        {o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)o->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                            on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_ARRAY, pool,
                            MHD_OPTION_END);
    if (!s->d) {
        close(s->fd);
        free(s->health);
        free(s);
        return ms_error_set(MS_E_IO, "cannot start the HTTP server on %s (libmicrohttpd refused its options)",
                            o->listen);
    }
    *out = s;
    return MS_OK;
}

const char *ms_serve_address(const ms_server_t *s) { return s->address; }

void ms_serve_stats(const ms_server_t *s, ms_serve_stats_t *st)
{
    st->requests = atomic_load(&s->requests);
    st->claims_checked = atomic_load(&s->checked);
    st->client_errors = atomic_load(&s->client_errors);
    st->server_errors = atomic_load(&s->server_errors);
}

void ms_serve_stop(ms_server_t *s, ms_serve_stats_t *final)
{
    if (!s) return;
    atomic_store(&s->stopping, 1);
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    struct timespec t0, now, nap = {0, 5 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long left = atomic_load(&s->inflight);
    while (left > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= (time_t)s->o.drain_s) break;
        nanosleep(&nap, NULL);
        left = atomic_load(&s->inflight);
    }
    if (left > 0) say(s, "stopping with %ld requests unanswered after %u s", left, s->o.drain_s);
    MHD_stop_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    if (final) ms_serve_stats(s, final);
    free(s->health);
    free(s);
}

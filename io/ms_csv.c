/*
 * ms_csv.c - pull-style CSV records over libcsv's push parser.
 *
 * libcsv calls back once per field and once per end of record while it
 * consumes a buffer.  We feed it the file in 1 MiB blocks and queue the
 * completed records (their fields copied, NUL-terminated, into one arena);
 * ms_csv_next pops from the queue and parses the next block only when the
 * queue is empty, so the arena holds about one block of data and is reused.
 *
 * Line numbers: the parser runs with CSV_REPALL_NL, so every line feed
 * outside a quoted field ends a record or is reported as an empty row; line
 * feeds inside quoted fields are counted from the field text.  A record
 * starts on the line after the previous record's last line feed.  CRLF ends
 * a record at the CR; the LF then arrives as an empty row and only advances
 * the line.  Empty lines are skipped, as libcsv does by default.
 *
 * Spaces are data (RFC 4180): libcsv's default trimming of blanks around
 * unquoted fields is switched off, so what is read is what is written back.
 *
 * Errors are named where they are, whatever the block size or the range a
 * reader started at: a NUL byte is found in the field callback, its own
 * (physical) line and field are kept with its record, and ms_csv_next
 * refuses that record when it is popped (the record is whole, so reading
 * goes on).  An error that stops the parser (a stray quote, a field over
 * 64 MiB, a quote never closed) is kept pending with its line until the
 * records parsed before it in the same block have been handed out, so the
 * first bad record of the file is the first one reported.
 */
#include "ms_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>


#define CSV_BLOCK (1u << 20)
#define CSV_MAX_HEADER_FIELDS 1024
#define CSV_MAX_FIELD_BYTES ((size_t)64 << 20)
#define CSV_REASON_MAX 256

typedef struct {
    size_t off, len; /* into the arena */
} csv_span_t;

typedef struct {
    uint64_t line;     /* where the record starts */
    size_t first;      /* index of its first stored field */
    size_t nfields;    /* fields seen (may exceed those stored) */
    uint64_t nul_line; /* line of its first NUL byte (0: none) */
    size_t nul_field;  /* and the field holding it (0-based) */
} csv_rec_t;

struct ms_csv {
    char *path;
    const char *name; /* base name inside path */
    int fd;
    uint64_t size, consumed;
    uint64_t limit; /* stop reading here (a range of the file) */
    struct csv_parser parser;
    unsigned char *block;
    int eof;

    int ncols;
    int *map;         /* caller column i -> field index in the file */
    ms_field_t *out;  /* the fields of the current record, caller order */
    size_t max_store; /* fields kept per record (more are only counted) */
    int lenient;      /* columns the caller did not ask for are ignored */
    size_t nheader;   /* fields a record must have */
    char *hnames;     /* the header's field names, each NUL-terminated, in order */

    char *arena;
    size_t arena_len, arena_cap;
    csv_span_t *spans;
    size_t nspans, spans_cap;
    csv_rec_t *recs;
    size_t nrecs, recs_cap, rec_next;

    /* the record libcsv is in the middle of */
    size_t cur_first, cur_n;
    uint64_t cur_line, cur_lf;
    uint64_t cur_nul_line; /* its first NUL byte (0: none) */
    size_t cur_nul_field;
    int cb_failed; /* allocation failure inside a callback */

    /* A parser error found in the last block, raised once the records
     * parsed before it are consumed. */
    ms_status_t pend;
    uint64_t pend_line;
    char pend_reason[CSV_REASON_MAX];

    ms_status_t sticky; /* once the parser is broken every call fails */
    uint64_t sticky_line;
    char reason[CSV_REASON_MAX];
};

static int csv_no_space(unsigned char ch)
{
    (void)ch;
    return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Field callback: copy the text into the arena (kept NUL-terminated).  The
 * first NUL byte of a record is remembered with its line: the record's
 * first line plus the line feeds before it in the record. */
static void csv_on_field(void *s, size_t len, void *data)
{
    ms_csv_t *c = data;
    const char *t = s;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\n') {
            c->cur_lf++;
        } else if (t[i] == '\0' && c->cur_nul_line == 0) {
            c->cur_nul_line = c->cur_line + c->cur_lf;
            c->cur_nul_field = c->cur_n;
        }
    }
    c->cur_n++;
    if (c->cur_n > c->max_store) return;
    if (grow((void **)&c->arena, &c->arena_cap, c->arena_len + len + 1, 1) ||
        grow((void **)&c->spans, &c->spans_cap, c->nspans + 1, sizeof *c->spans)) {
        c->cb_failed = 1;
        return;
    }
    memcpy(c->arena + c->arena_len, t, len);
    c->arena[c->arena_len + len] = '\0';
    c->spans[c->nspans++] = (csv_span_t){c->arena_len, len};
    c->arena_len += len + 1;
}

/* End-of-record callback (also called for bare line ends: CSV_REPALL_NL). */
static void csv_on_record(int ch, void *data)
{
    ms_csv_t *c = data;
    if (c->cur_n > 0) {
        if (grow((void **)&c->recs, &c->recs_cap, c->nrecs + 1, sizeof *c->recs)) {
            c->cb_failed = 1;
            return;
        }
        c->recs[c->nrecs++] = (csv_rec_t){c->cur_line, c->cur_first, c->cur_n, c->cur_nul_line,
                                          c->cur_nul_field};
        c->cur_line += c->cur_lf;
    }
    if (ch == '\n') c->cur_line++;
    c->cur_first = c->nspans;
    c->cur_n = 0;
    c->cur_lf = 0;
    c->cur_nul_line = 0;
}

/* Drop consumed records; keep the fields of the record still being parsed. */
static void csv_compact(ms_csv_t *c)
{
    size_t keep = c->nspans - c->cur_first;
    size_t off0 = keep ? c->spans[c->cur_first].off : c->arena_len;
    if (off0 > 0) memmove(c->arena, c->arena + off0, c->arena_len - off0);
    c->arena_len -= off0;
    for (size_t i = 0; i < keep; i++) {
        c->spans[i] = c->spans[c->cur_first + i];
        c->spans[i].off -= off0;
    }
    c->nspans = keep;
    c->cur_first = 0;
    c->nrecs = c->rec_next = 0;
}

/* Remember a non-input failure (memory, I/O) so that later calls repeat it. */
static ms_status_t csv_sticky(ms_csv_t *c, ms_status_t st)
{
    snprintf(c->reason, sizeof c->reason, "%s", ms_error_detail());
    c->sticky = st;
    c->sticky_line = c->cur_line;
    return st;
}

static ms_status_t csv_fail(ms_csv_t *c, ms_status_t st, uint64_t line, const char *reason)
{
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    c->sticky = st;
    c->sticky_line = line;
    return ms_error_set(st, "%s line %llu: %s", c->name, (unsigned long long)line, reason);
}

/* The line of the character where libcsv stopped: the current record's
 * start plus the line feeds already inside it (stored fields and the field
 * libcsv is still holding). */
static uint64_t csv_error_line(const ms_csv_t *c)
{
    uint64_t line = c->cur_line + c->cur_lf;
    for (size_t i = 0; i < c->parser.entry_pos; i++)
        if (c->parser.entry_buf[i] == '\n') line++;
    return line;
}

/* Keep an input error found while parsing a block, with its line, until
 * the records before it are consumed (csv_pop raises it). */
static ms_status_t csv_pending(ms_csv_t *c, uint64_t line, const char *reason)
{
    c->pend = MS_E_INPUT;
    c->pend_line = line;
    snprintf(c->pend_reason, sizeof c->pend_reason, "%s", reason);
    return MS_OK;
}

static ms_status_t csv_check_parser(ms_csv_t *c, int failed_parse, int fini)
{
    if (c->cb_failed) return csv_sticky(c, ms_error_set(MS_E_NOMEM, "out of memory while reading"));
    if (failed_parse) {
        int err = csv_error(&c->parser);
        if (err == CSV_ENOMEM || err == CSV_ETOOBIG)
            return csv_sticky(c, ms_error_set(MS_E_NOMEM, "out of memory while reading"));
        if (fini)
            return csv_pending(c, c->cur_line,
                               "malformed CSV: a quoted field in this record is never closed");
        return csv_pending(c, csv_error_line(c), "malformed CSV: stray or unescaped quote");
    }
    if (c->parser.entry_pos > CSV_MAX_FIELD_BYTES)
        return csv_pending(c, c->cur_line, "field longer than 64 MiB (unclosed quote?)");
    return MS_OK;
}

static ms_status_t csv_read_block(ms_csv_t *c, size_t *got)
{
    size_t n = 0, want = CSV_BLOCK;
    if (c->limit - c->consumed < want) want = (size_t)(c->limit - c->consumed);
    while (n < want) {
        ssize_t r = read(c->fd, c->block + n, want - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return csv_sticky(c, ms_error_errno(MS_E_IO, errno, "cannot read %s", c->path));
        if (r == 0) break;
        n += (size_t)r;
    }
    *got = n;
    return MS_OK;
}

/* Parse one more block (or finish at end of file) into the queue. */
static ms_status_t csv_refill(ms_csv_t *c)
{
    size_t n = 0, skip = 0;
    csv_compact(c);
    MS_TRY(csv_read_block(c, &n));
    if (n == 0) {
        c->eof = 1;
        int rc = csv_fini(&c->parser, csv_on_field, csv_on_record, c);
        return csv_check_parser(c, rc != 0, 1);
    }
    /* A UTF-8 byte order mark is not part of the first column's name. */
    if (c->consumed == 0 && n >= 3 && memcmp(c->block, "\xEF\xBB\xBF", 3) == 0) skip = 3;
    c->consumed += n;
    size_t done = csv_parse(&c->parser, c->block + skip, n - skip, csv_on_field, csv_on_record, c);
    return csv_check_parser(c, done != n - skip, 0);
}

/* Pop the next queued record; *rec = NULL at end of file.  A pending
 * parser error comes after the records parsed before it. */
static ms_status_t csv_pop(ms_csv_t *c, const csv_rec_t **rec)
{
    while (c->rec_next == c->nrecs) {
        if (c->pend != MS_OK) return csv_fail(c, c->pend, c->pend_line, c->pend_reason);
        if (c->eof) {
            *rec = NULL;
            return MS_OK;
        }
        MS_TRY(csv_refill(c));
    }
    *rec = &c->recs[c->rec_next++];
    return MS_OK;
}

static int csv_list_expected(const char *const *columns, int ncolumns, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < ncolumns && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", columns[i]);
    return 0;
}

static ms_status_t csv_header_error(ms_csv_t *c, const char *const *columns, int ncolumns,
                                    const char *what, const char *col)
{
    char expected[768];
    csv_list_expected(columns, ncolumns, expected, sizeof expected);
    return ms_error_set(MS_E_SCHEMA, "%s: %s '%s' (expected columns: %s)", c->name, what, col,
                        expected);
}

/* Keep the header's names (bytes: its fields, each NUL-terminated, as they
 * lie in the arena) to name a column in a message. */
static ms_status_t csv_keep_header(ms_csv_t *c, const char *names, size_t bytes)
{
    free(c->hnames);
    c->hnames = malloc(bytes ? bytes : 1);
    if (!c->hnames) return ms_error_set(MS_E_NOMEM, "out of memory opening %s", c->path);
    memcpy(c->hnames, names, bytes);
    return MS_OK;
}

/* The name of field f (0-based) of the header, NULL past its end. */
static const char *csv_header_name(const ms_csv_t *c, size_t f)
{
    if (!c->hnames || f >= c->nheader) return NULL;
    const char *p = c->hnames;
    while (f--) p += strlen(p) + 1;
    return p;
}

/* Map the header onto the caller's columns. */
static ms_status_t csv_read_header(ms_csv_t *c, const char *const *columns, int ncolumns)
{
    const csv_rec_t *rec;
    MS_TRY(csv_pop(c, &rec));
    if (!rec) {
        char expected[768];
        csv_list_expected(columns, ncolumns, expected, sizeof expected);
        return ms_error_set(MS_E_SCHEMA, "%s: empty file, expected a header with columns: %s",
                            c->name, expected);
    }
    if (rec->nfields > c->max_store)
        return ms_error_set(MS_E_SCHEMA, "%s: header has %zu columns, more than %zu", c->name,
                            rec->nfields, c->max_store);
    if (rec->nul_line) {
        char why[64];
        snprintf(why, sizeof why, "NUL byte in the header (field %zu)", rec->nul_field + 1);
        return csv_fail(c, MS_E_INPUT, rec->nul_line, why);
    }
    for (int i = 0; i < ncolumns; i++) c->map[i] = -1;
    for (size_t f = 0; f < rec->nfields; f++) {
        const char *name = c->arena + c->spans[rec->first + f].off;
        int k = 0;
        while (k < ncolumns && strcmp(columns[k], name) != 0) k++;
        if (k == ncolumns) {
            if (c->lenient) continue;
            return csv_header_error(c, columns, ncolumns, "unknown column", name);
        }
        if (c->map[k] >= 0) return csv_header_error(c, columns, ncolumns, "repeated column", name);
        c->map[k] = (int)f;
    }
    for (int k = 0; k < ncolumns; k++)
        if (c->map[k] < 0)
            return csv_header_error(c, columns, ncolumns, "missing column", columns[k]);
    c->nheader = rec->nfields;
    c->max_store = c->lenient ? rec->nfields : (size_t)ncolumns;
    return csv_keep_header(c, c->arena + c->spans[rec->first].off,
                           rec->nfields ? c->spans[rec->first + rec->nfields - 1].off +
                                              c->spans[rec->first + rec->nfields - 1].len + 1 -
                                              c->spans[rec->first].off
                                        : 0);
}

static ms_status_t csv_alloc(ms_csv_t *c, const char *path, int ncolumns)
{
    c->fd = -1;
    c->path = strdup(path);
    c->block = malloc(CSV_BLOCK);
    c->map = calloc((size_t)ncolumns, sizeof *c->map);
    c->out = calloc((size_t)ncolumns, sizeof *c->out);
    if (!c->path || !c->block || !c->map || !c->out)
        return ms_error_set(MS_E_NOMEM, "out of memory opening %s", path);
    const char *slash = strrchr(c->path, '/');
    c->name = slash ? slash + 1 : c->path;
    c->ncols = ncolumns;
    c->max_store = CSV_MAX_HEADER_FIELDS;
    c->cur_line = 1;
    c->limit = UINT64_MAX;
    if (csv_init(&c->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_REPALL_NL) != 0)
        return ms_error_set(MS_E_NOMEM, "cannot initialise the CSV parser");
    csv_set_space_func(&c->parser, csv_no_space);
    /* Grow libcsv's field buffer in large steps: fields can be long. */
    csv_set_blk_size(&c->parser, 4096);
    return MS_OK;
}

static ms_status_t csv_open(const char *path, const char *const *columns, int ncolumns, int lenient,
                            uint64_t limit, ms_csv_t **out);

ms_status_t ms_csv_open(const char *path, const char *const *columns, int ncolumns, ms_csv_t **out)
{
    return csv_open(path, columns, ncolumns, 0, UINT64_MAX, out);
}

ms_status_t ms_csv_open_subset(const char *path, const char *const *columns, int ncolumns, ms_csv_t **out)
{
    return csv_open(path, columns, ncolumns, 1, UINT64_MAX, out);
}

static ms_status_t csv_open(const char *path, const char *const *columns, int ncolumns, int lenient,
                            uint64_t limit, ms_csv_t **out)
{
    *out = NULL;
    if (ncolumns <= 0 || ncolumns > CSV_MAX_HEADER_FIELDS)
        return ms_error_set(MS_E_USAGE, "ms_csv_open: bad column count %d", ncolumns);
    ms_csv_t *c = calloc(1, sizeof *c);
    if (!c) return ms_error_set(MS_E_NOMEM, "out of memory opening %s", path);
    ms_status_t st = csv_alloc(c, path, ncolumns);
    c->lenient = lenient;
    c->limit = limit;
    if (st == MS_OK) {
        c->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (c->fd < 0) st = ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    }
    if (st == MS_OK) {
        struct stat sb;
        if (fstat(c->fd, &sb) == 0) c->size = (uint64_t)sb.st_size;
        (void)posix_fadvise(c->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        st = csv_read_header(c, columns, ncolumns);
    }
    if (st != MS_OK) {
        ms_csv_close(c);
        return st;
    }
    *out = c;
    return MS_OK;
}

ms_status_t ms_csv_next(ms_csv_t *c, const ms_field_t **fields, uint64_t *line)
{
    *fields = NULL;
    if (c->sticky != MS_OK) {
        *line = c->sticky_line;
        return ms_error_set(c->sticky, "%s line %llu: %s", c->name,
                            (unsigned long long)c->sticky_line, c->reason);
    }
    const csv_rec_t *rec;
    ms_status_t st = csv_pop(c, &rec);
    if (st != MS_OK) {
        *line = c->sticky_line;
        return st;
    }
    if (!rec) return MS_OK;
    *line = rec->line;
    if (rec->nul_line) {
        /* Recoverable: the record is whole, only its bytes are bad.  The
         * line named is the NUL's own. */
        const char *col = csv_header_name(c, rec->nul_field);
        int n = col ? snprintf(c->reason, sizeof c->reason, "NUL byte in column %s (field %zu)",
                               col, rec->nul_field + 1)
                    : snprintf(c->reason, sizeof c->reason, "NUL byte in field %zu",
                               rec->nul_field + 1);
        if (rec->nul_line != rec->line && n > 0 && (size_t)n < sizeof c->reason)
            snprintf(c->reason + n, sizeof c->reason - (size_t)n,
                     " of the record that starts on line %llu", (unsigned long long)rec->line);
        *line = rec->nul_line;
        return ms_error_set(MS_E_INPUT, "%s line %llu: %s", c->name,
                            (unsigned long long)rec->nul_line, c->reason);
    }
    if (rec->nfields != c->nheader) {
        /* Recoverable: the record is consumed, the next call goes on. */
        snprintf(c->reason, sizeof c->reason, "%zu fields, expected %zu", rec->nfields, c->nheader);
        return ms_error_set(MS_E_INPUT, "%s line %llu: %s", c->name, (unsigned long long)rec->line,
                            c->reason);
    }
    for (int i = 0; i < c->ncols; i++) {
        const csv_span_t *sp = &c->spans[rec->first + (size_t)c->map[i]];
        c->out[i].s = c->arena + sp->off;
        c->out[i].len = sp->len;
    }
    *fields = c->out;
    return MS_OK;
}

ms_status_t ms_csv_open_range(const char *path, const char *const *columns, int ncolumns,
                              uint64_t end, ms_csv_t **out)
{
    return csv_open(path, columns, ncolumns, 0, end, out);
}

ms_status_t ms_csv_open_at(const ms_csv_t *first, uint64_t start, uint64_t end, uint64_t line,
                           ms_csv_t **out)
{
    *out = NULL;
    ms_csv_t *c = calloc(1, sizeof *c);
    if (!c) return ms_error_set(MS_E_NOMEM, "out of memory opening %s", first->path);
    ms_status_t st = csv_alloc(c, first->path, first->ncols);
    if (st == MS_OK) {
        size_t hb = 0;
        for (size_t f = 0; f < first->nheader; f++) hb += strlen(first->hnames + hb) + 1;
        st = csv_keep_header(c, first->hnames, hb);
    }
    if (st == MS_OK) {
        memcpy(c->map, first->map, (size_t)first->ncols * sizeof *c->map);
        c->lenient = first->lenient;
        c->nheader = first->nheader;
        c->max_store = first->max_store;
        c->size = first->size;
        c->consumed = start; /* nonzero: no byte order mark check */
        c->limit = end;
        c->cur_line = line;
        c->fd = open(first->path, O_RDONLY | O_CLOEXEC);
        if (c->fd < 0)
            st = ms_error_errno(MS_E_IO, errno, "cannot open %s", first->path);
        else if (lseek(c->fd, (off_t)start, SEEK_SET) < 0)
            st = ms_error_errno(MS_E_IO, errno, "cannot read %s", first->path);
        else
            (void)posix_fadvise(c->fd, (off_t)start,
                                end == UINT64_MAX ? 0 : (off_t)(end - start),
                                POSIX_FADV_SEQUENTIAL);
    }
    if (st != MS_OK) {
        ms_csv_close(c);
        return st;
    }
    *out = c;
    return MS_OK;
}

#define SPLIT_BLOCK ((size_t)8 << 20)

/* Quotes and line feeds in [off, off + len). */
static ms_status_t split_count(int fd, const char *path, uint64_t off, size_t len,
                               unsigned char *buf, uint64_t *quotes, uint64_t *lfs)
{
    uint64_t q = 0, l = 0;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return ms_error_errno(MS_E_IO, r < 0 ? errno : EIO, "cannot read %s", path);
        for (ssize_t i = 0; i < r; i++) {
            q += buf[i] == '"';
            l += buf[i] == '\n';
        }
        got += (size_t)r;
    }
    *quotes = q;
    *lfs = l;
    return MS_OK;
}

ms_status_t ms_csv_split(const char *path, int nranges, int nthreads, uint64_t *start,
                         uint64_t *line)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return ms_error_errno(MS_E_IO, err, "cannot read %s", path);
    }
    uint64_t size = (uint64_t)sb.st_size;
    size_t nb = (size_t)((size + SPLIT_BLOCK - 1) / SPLIT_BLOCK);
    uint64_t *q = calloc(nb + 1, sizeof *q), *l = calloc(nb + 1, sizeof *l);
    unsigned char *buf = malloc(SPLIT_BLOCK);
    ms_status_t st = (q && l && buf) ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
    int failed = 0;
    char msg[256] = "";
    if (st == MS_OK) {
#pragma omp parallel num_threads(nthreads)
        {
            unsigned char *tb = malloc(SPLIT_BLOCK);
#pragma omp for schedule(static)
            for (size_t b = 0; b < nb; b++) {
                uint64_t off = (uint64_t)b * SPLIT_BLOCK;
                size_t len = (size_t)(size - off < SPLIT_BLOCK ? size - off : SPLIT_BLOCK);
                ms_status_t s = tb ? split_count(fd, path, off, len, tb, &q[b + 1], &l[b + 1])
                                   : ms_error_set(MS_E_NOMEM, "out of memory");
                if (s != MS_OK) {
#pragma omp critical(ms_csv_split)
                    if (!failed) {
                        failed = (int)s;
                        snprintf(msg, sizeof msg, "%s", ms_error_detail());
                    }
                }
            }
            free(tb);
        }
        if (failed) st = ms_error_set((ms_status_t)failed, "%s", msg);
    }
    for (size_t b = 0; st == MS_OK && b < nb; b++) {
        q[b + 1] += q[b];
        l[b + 1] += l[b];
    }
    /* Range k starts after the first line feed outside quotes (an even
     * number of quotes before it) at or after k * size / nranges. */
    start[0] = 0;
    line[0] = 1;
    uint64_t prev = 0, prev_line = 1;
    for (int k = 1; st == MS_OK && k < nranges; k++) {
        uint64_t nominal = size / (uint64_t)nranges * (uint64_t)k;
        if (nominal < prev) nominal = prev;
        uint64_t found = size, found_line = 0;
        size_t b = (size_t)(nominal / SPLIT_BLOCK);
        uint64_t quotes = q[b], lfs = l[b];
        for (; b < nb && found == size; b++) {
            uint64_t off = (uint64_t)b * SPLIT_BLOCK;
            size_t len = (size_t)(size - off < SPLIT_BLOCK ? size - off : SPLIT_BLOCK);
            size_t got = 0;
            while (got < len) {
                ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) {
                    st = ms_error_errno(MS_E_IO, r < 0 ? errno : EIO, "cannot read %s", path);
                    break;
                }
                got += (size_t)r;
            }
            if (st != MS_OK) break;
            for (size_t i = 0; i < len; i++) {
                if (buf[i] == '"') quotes++;
                if (buf[i] != '\n') continue;
                lfs++;
                if (off + i >= nominal && (quotes & 1) == 0) {
                    found = off + i + 1;
                    found_line = 1 + lfs;
                    break;
                }
            }
        }
        if (found == size) found_line = prev_line; /* empty range: never parsed */
        start[k] = prev = found;
        line[k] = prev_line = found_line;
    }
    free(q);
    free(l);
    free(buf);
    close(fd);
    return st;
}

int ms_csv_can_continue(const ms_csv_t *c) { return c->sticky == MS_OK; }

const char *ms_csv_error_reason(const ms_csv_t *c) { return c->reason; }

const char *ms_csv_name(const ms_csv_t *c) { return c->name; }

uint64_t ms_csv_bytes_read(const ms_csv_t *c) { return c->consumed; }

uint64_t ms_csv_file_size(const ms_csv_t *c) { return c->size; }

const char *ms_csv_path(const ms_csv_t *c) { return c->path; }

void ms_csv_close(ms_csv_t *c)
{
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    csv_free(&c->parser);
    free(c->path);
    free(c->hnames);
    free(c->block);
    free(c->map);
    free(c->out);
    free(c->arena);
    free(c->spans);
    free(c->recs);
    free(c);
}

void ms_csv_write_field(FILE *fp, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] != ',' && s[i] != '"' && s[i] != '\n' && s[i] != '\r') i++;
    if (i == len) {
        fwrite(s, 1, len, fp);
        return;
    }
    putc('"', fp);
    for (i = 0; i < len; i++) {
        if (s[i] == '"') putc('"', fp);
        putc(s[i], fp);
    }
    putc('"', fp);
}

/* A control character at p (len bytes left): 1 for a C0 byte or DEL, 2 for
 * a C1 control in UTF-8 (U+0080..U+009F), 0 for anything else; the same
 * rule as the escaping of messages (io/common/ms_status.c). */
static size_t csv_control(const unsigned char *p, size_t len)
{
    if (p[0] < 0x20 || p[0] == 0x7f) return 1;
    if (len >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) return 2;
    return 0;
}

/* ms_csv_write_text (escape = 0) and ms_csv_write_text_escaped (1). */
static void csv_write_text(FILE *fp, const char *s, size_t len, int escape)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    /* Escaped, a leading tab or CR is text ("\x09"), no formula. */
    int guard = len > 0 &&
                (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                 s[0] == '\r') &&
                !(escape && csv_control(u, len));
    int quoted = 0;
    for (size_t i = 0; i < len && !quoted; i++)
        quoted = s[i] == ',' || s[i] == '"' || (!escape && (s[i] == '\n' || s[i] == '\r'));
    if (!guard && !escape) {
        ms_csv_write_field(fp, s, len); /* the same bytes, as plain as it gets */
        return;
    }
    if (quoted) putc('"', fp);
    if (guard) putc('\'', fp);
    for (size_t i = 0; i < len; i++) {
        size_t k = escape ? csv_control(u + i, len - i) : 0;
        for (size_t j = 0; j < k; j++) {
            putc('\\', fp);
            putc('x', fp);
            putc(hex[u[i + j] >> 4], fp);
            putc(hex[u[i + j] & 15], fp);
        }
        if (k) {
            i += k - 1;
            continue;
        }
        if (quoted && s[i] == '"') putc('"', fp);
        putc(s[i], fp);
    }
    if (quoted) putc('"', fp);
}

void ms_csv_write_text(FILE *fp, const char *s, size_t len) { csv_write_text(fp, s, len, 0); }

/* csv_write_text with escape = 0 writes s unchanged exactly when there is
 * no guard and ms_csv_write_field would not quote it. */
int ms_csv_text_is_plain(const char *s, size_t len)
{
    if (len > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') return 0;
    return 1;
}

void ms_csv_write_text_escaped(FILE *fp, const char *s, size_t len)
{
    csv_write_text(fp, s, len, 1);
}

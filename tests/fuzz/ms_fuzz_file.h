/*
 * ms_fuzz_file.h - the fuzz harnesses' input as a file: an anonymous
 * memory file (memfd) named by /proc/self/fd/N, so that readers that take a
 * path (CSV, rule configuration) read it without touching the disk; and,
 * for readers that need a real file (HDF5, partials in a directory), a
 * scratch directory in memory.
 */
#ifndef MS_FUZZ_FILE_H
#define MS_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    int fd;
    char path[64];
} ms_fuzz_file_t;

/* Write head (hlen bytes, may be 0) then data into a fresh memory file. */
static inline int ms_fuzz_file_open(ms_fuzz_file_t *f, const char *name, const void *head, size_t hlen,
                                    const uint8_t *data, size_t size)
{
    f->fd = memfd_create(name, 0);
    if (f->fd < 0) {
        perror("memfd_create");
        abort();
    }
    const uint8_t *parts[2] = {head, data};
    size_t lens[2] = {hlen, size};
    for (int k = 0; k < 2; k++) {
        size_t done = 0;
        while (done < lens[k]) {
            ssize_t w = write(f->fd, parts[k] + done, lens[k] - done);
            if (w <= 0) {
                perror("write");
                abort();
            }
            done += (size_t)w;
        }
    }
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
    return 0;
}

static inline void ms_fuzz_file_close(ms_fuzz_file_t *f)
{
    close(f->fd);
}

/* A fresh directory NAME.XXXXXX in /dev/shm (else $TMPDIR, else /tmp),
 * its path in dir (cap bytes); aborts when it cannot be made. */
static inline void ms_fuzz_scratch_dir(char *dir, size_t cap, const char *name)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, cap, "%s/%s.XXXXXX", base, name);
    if (!mkdtemp(dir)) {
        perror(dir);
        abort();
    }
}

#endif

/*
 * ms_h5util.h - private HDF5 helpers of the io layer (not a public header).
 *
 * ms_h5_init() must run before any other HDF5 call of the project: it turns
 * off HDF5's automatic error printing (we report errors ourselves, with the
 * file and object named) and registers the built-in LZ4 filter.
 */
#ifndef MS_H5UTIL_H
#define MS_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "ms_schema.h"
#include "ms_status.h"

ms_status_t ms_h5_init(void);

/* Properties that make files byte-identical for identical content. */
hid_t ms_h5_fapl(void);   /* caller closes */

ms_status_t ms_h5_attr_write_str(hid_t obj, const char *name, const char *value);
ms_status_t ms_h5_attr_write_u64(hid_t obj, const char *name, uint64_t value);
ms_status_t ms_h5_attr_write_i64(hid_t obj, const char *name, int64_t value);
/* Read back; MS_E_SCHEMA naming the attribute when missing or mistyped. */
ms_status_t ms_h5_attr_read_str(hid_t obj, const char *name, char *out, size_t cap);
ms_status_t ms_h5_attr_read_u64(hid_t obj, const char *name, uint64_t *value);
ms_status_t ms_h5_attr_read_i64(hid_t obj, const char *name, int64_t *value);

/* File type of a column (little-endian standard type or an enum of U8).
 * Caller closes. */
hid_t ms_h5_column_type(ms_ctype_t t, const ms_enum_t *en);

/* The errno a failed HDF5 call of this thread recorded (its file driver
 * writes "errno = N" into the error stack's description), or 0.  Call it
 * right after the failing call: the next HDF5 call clears the stack. */
int ms_h5_errno(void);

/* The error of a failed HDF5 write of path: MS_E_NOSPACE (or MS_E_IO) with
 * the system's reason when HDF5 recorded an errno, else MS_E_HDF5 with
 * "cannot write what". */
ms_status_t ms_h5_write_error(const char *what);

/* Create a group that does not record modification times. */
hid_t ms_h5_group_create(hid_t parent, const char *name);

/* ----------------------------------------------------------------------
 * Small tables written and read whole (the reference files, knowledge.h5):
 * one 1-D dataset per column, text as variable-length UTF-8 strings.
 */

/* Variable-length UTF-8 text, the type of a text column.  Caller closes. */
hid_t ms_h5_str_type(void);

/* Create the 1-D dataset name under loc (no time stamps) and write its n
 * values: ftype in the file, mtype in memory.  MS_E_HDF5 "cannot write
 * dataset NAME" when it fails. */
ms_status_t ms_h5_write_col(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t n,
                            const void *data);
/* The same for n strings: a column of text. */
ms_status_t ms_h5_write_strings(hid_t loc, const char *name, size_t n, const char *const *s);

/* Open the 1-D dataset name under loc, whose length must be *n (any
 * length, stored in *n, when *n is SIZE_MAX).  -1 with *st set when it is
 * missing, not 1-D or of another length (MS_E_SCHEMA), or holds 2^32 - 1
 * rows or more (MS_E_CORRUPT: ids are 32-bit, so that is a damaged size). */
hid_t ms_h5_open_col(hid_t loc, const char *name, size_t *n, ms_status_t *st);

/* A column of text, each string copied: *out holds *n of them (*n as for
 * ms_h5_open_col; free with ms_h5_strings_free).  MS_E_SCHEMA when the
 * dataset is not variable-length text. */
ms_status_t ms_h5_read_strings(hid_t loc, const char *name, size_t *n, char ***out);
void ms_h5_strings_free(char **s, size_t n);

/* One field of the n structs of arr gathered into the column dst, and a
 * column src scattered back into the field. */
#define MS_H5_GATHER(dst, arr, n, field)                                  \
    do {                                                                  \
        for (size_t i_ = 0; i_ < (n); i_++) (dst)[i_] = (arr)[i_].field;  \
    } while (0)
#define MS_H5_SCATTER(arr, n, field, src)                                 \
    do {                                                                  \
        for (size_t i_ = 0; i_ < (n); i_++) (arr)[i_].field = (src)[i_];  \
    } while (0)

/* Write path whole: fill writes the content into a fresh file PATH.tmp.PID
 * (ms_h5_fapl), which is then closed, synced and renamed over path.  On
 * failure the temporary file is removed and the error names path. */
typedef ms_status_t (*ms_h5_fill_fn)(hid_t f, const void *arg);
ms_status_t ms_h5_write_file(const char *path, ms_h5_fill_fn fill, const void *arg);

/* The stamp of such a file, attributes of its root group: schema_version
 * (MS_SCHEMA_VERSION, ms_h5_attr_write_i64) and content_checksum, a
 * checksum of the content as 16 hex digits. */
ms_status_t ms_h5_write_checksum(hid_t root, uint64_t sum);

/* Open path for reading and read its stamp into *sum: MS_E_IO "file is
 * missing", MS_E_CORRUPT "not a readable HDF5 file (truncated or
 * damaged)", MS_E_SCHEMA for another schema version or a missing stamp
 * (MS_E_HDF5 when it cannot be read); the messages do not name the file.
 * *f is the open file on MS_OK, else -1. */
ms_status_t ms_h5_open_stamped(const char *path, hid_t *f, uint64_t *sum);

#endif

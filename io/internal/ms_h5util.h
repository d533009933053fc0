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

#endif

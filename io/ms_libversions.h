/*
 * ms_libversions.h - the versions of the libraries the io layer links
 * (HDF5, LZ4), for run.json.  Each layer reports the libraries it links
 * itself, so that no other layer includes their headers to ask.
 */
#ifndef MS_LIBVERSIONS_H
#define MS_LIBVERSIONS_H

#include <stddef.h>

/* "1.10.8" etc., written into out (cap bytes). */
void ms_io_hdf5_version(char *out, size_t cap);
const char *ms_io_lz4_version(void);

#endif

/*
 * ms_libversions.c - versions of HDF5 and LZ4 as linked.
 */
#include "ms_libversions.h"

#include <hdf5.h>
#include <lz4.h>
#include <stdio.h>

void ms_io_hdf5_version(char *out, size_t cap)
{
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    snprintf(out, cap, "%u.%u.%u", maj, min, rel);
}

const char *ms_io_lz4_version(void) { return LZ4_versionString(); }

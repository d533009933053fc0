/*
 * ms_synth_util.c - what the generator and the CSV faker share
 * (internal/ms_synth_util.h).
 */
#include "ms_synth_util.h"

#include <stdio.h>

#include "ms_schema.h"

const int ms_synth_province_codes[MS_SYNTH_NPROVINCES] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33,
                                                          34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50,
                                                          51, 52, 53, 54, 61, 62, 63, 64, 65};

int ms_synth_inst_code(char *out, size_t cap, uint8_t kind, int32_t region, uint32_t serial, int digits)
{
    return snprintf(out, cap, "%c%06d%0*u", kind == MS_KIND_PHARMACY ? 'P' : 'H', (int)region, digits,
                    (unsigned)serial);
}

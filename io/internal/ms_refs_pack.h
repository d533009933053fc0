/*
 * ms_refs_pack.h - one reference file's part of ms_refs_t as bytes and
 * back (private to io).
 *
 * ms_refs_read reads each reference file in a child process first
 * (ms_probe.h: damaged metadata may crash libhdf5).  The child sends what
 * it read back as bytes, so the file is read once, not a second time in the
 * caller: at 420,000 institutions each read of their variable-length
 * strings took about half a second.  The bytes never leave the machine or
 * the program that wrote them: native integers, strings as a length and
 * their bytes.
 *
 *   which 0 (institutions.h5): the stored checksum, n_inst, and per
 *           institution its code, name, kind, level, ownership, region, beds;
 *   which 1 (groups.h5): the stored checksum, n_groups, per group its
 *           fields, then the dictionaries diagnoses, procedures, drugs and
 *           items (a count, then the strings).
 */
#ifndef MS_REFS_PACK_H
#define MS_REFS_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "ms_buf.h"
#include "ms_refs.h"

/* Append file `which`'s part of r and its stored checksum to out. */
ms_status_t ms_refs_pack(const ms_refs_t *r, int which, uint64_t stored, ms_buf_t *out);

/* Fill file `which`'s part of r (empty before) from n bytes that
 * ms_refs_pack wrote, and *stored; MS_E_INTERNAL when they are cut short or
 * run on (r then holds what was read so far: ms_refs_free it). */
ms_status_t ms_refs_unpack(const unsigned char *p, size_t n, int which, ms_refs_t *r, uint64_t *stored);

#endif

/*
 * fuzz_config - the rule configuration loader (engine/ms_config.h):
 * ms_config_load on a file holding the input.  A configuration that loads
 * is written back with ms_config_write (to /dev/null).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ms_config.h"
#include "ms_fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_fuzz_file_t f;
    ms_fuzz_file_open(&f, "rules.cfg", NULL, 0, data, size);
    ms_config_t cfg;
    if (ms_config_load(f.path, &cfg) == MS_OK) {
        FILE *fp = fopen("/dev/null", "w");
        if (fp) {
            ms_config_write(&cfg, fp);
            fclose(fp);
        }
        ms_config_free(&cfg);
    }
    ms_fuzz_file_close(&f);
    return 0;
}

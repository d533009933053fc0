/*
 * ms_sweep_state.c - manifest and resume: the output directory prepared
 * (fresh, replaced, or an interrupted sweep to finish), the hash of what
 * changes results, and the manifest that partials are reused against.
 */
#include "ms_sweep_int.h"

/* The manifest: what must be equal for partials to be reused. */
char *sw_manifest_text(const sweep_t *sw)
{
    char ref[40], *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return NULL;
    ms_refs_checksum_text(&sw->ds.refs, ref);
    fprintf(fp, "medsweep sweep state 1\nreference %s\npartitions %u %u\n", ref,
            sw->ds.nparts[MS_TABLE_SETTLEMENTS], sw->ds.nparts[MS_TABLE_DRUG_ITEMS]);
    for (int m = 0; m < sw->nmodels; m++) fprintf(fp, "model %s %s\n", sw->models[m]->name, sw->models[m]->version);
    fprintf(fp, "config %s\n", sw->config_hash);
    fclose(fp);
    return buf;
}

void sw_compute_config_hash(sweep_t *sw)
{
    /* What changes results: the rules (resolved) and the models with their
     * versions.  Threads and topology do not. */
    XXH3_state_t *s = XXH3_createState();
    XXH3_64bits_reset(s);
    XXH3_64bits_update(s, &sw->cfg.hash, sizeof sw->cfg.hash);
    for (int m = 0; m < sw->nmodels; m++) {
        XXH3_64bits_update(s, sw->models[m]->name, strlen(sw->models[m]->name) + 1);
        XXH3_64bits_update(s, sw->models[m]->version, strlen(sw->models[m]->version) + 1);
    }
    snprintf(sw->config_hash, sizeof sw->config_hash, "%016llx", (unsigned long long)XXH3_64bits_digest(s));
    XXH3_freeState(s);
}

ms_status_t sw_prepare_output(sweep_t *sw)
{
    const ms_sweep_opts_t *o = sw->o;
    int exists = ms_sweep_output_exists(o->out);
    char state[4200];
    snprintf(state, sizeof state, "%s/" STATE_DIR, o->out);
    if (o->resume) {
        if (!ms_is_dir(state))
            return ms_error_set(MS_E_USAGE, "%s holds no interrupted sweep to resume%s", o->out,
                                exists ? " (it is finished)" : "");
    } else if (exists && !o->replace) {
        return ms_error_set(MS_E_EXISTS, ms_is_dir(state)
                                             ? "%s holds an interrupted sweep; --resume finishes it, --replace starts over"
                                             : "%s already holds a sweep; use --replace",
                            o->out);
    } else {
        MS_TRY(ms_outdir_check(o->out, 1, ms_sweep_output_exists, "a sweep"));
        if (exists) MS_TRY(ms_remove_tree(o->out));
    }
    MS_TRY(ms_mkdirs(state));
    sw->state_dir = strdup(state);
    return sw->state_dir ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
}

/*
 * ms_config.c - the rule configuration over libconfig.
 *
 * Layout of the file:
 *   scoring = { min_denominator = 11; ... };
 *   models = {
 *     <model> = {
 *       weight = 1.0;
 *       <indicator> = { weight = 1.0; <param> = <number or list>; ... };
 *     };
 *   };
 * Resolution: defaults from the descriptors, then the file's values, each
 * checked.  The resolved configuration is hashed through its canonical text
 * (ms_config_write), so the default and a file that states the defaults
 * have the same hash.
 */
#include "ms_config.h"

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const ms_param_t score_params[MS_SCORE_COUNT] = {
    [MS_SCORE_MIN_DENOMINATOR] = {"min_denominator",
                                  "an indicator whose denominator is smaller is not reported for the institution",
                                  1, 11, 100000, MS_PARAM_NUMBER, NULL, 1},
    [MS_SCORE_MIN_PEERS] = {"min_peer_institutions",
                            "a peer group (kind, tier, province) with fewer institutions falls back to kind and tier nationwide",
                            2, 5, 100000, MS_PARAM_NUMBER, NULL, 1},
    [MS_SCORE_PRIOR_STRENGTH] = {"prior_strength",
                                 "shrinkage: a rate counts as if its peers' rate had been seen on this many extra records",
                                 0, 30, 1000000, MS_PARAM_NUMBER, NULL},
    [MS_SCORE_Z_CAP] = {"z_cap", "largest robust deviation an indicator contributes", 1, 10, 1000, MS_PARAM_NUMBER, NULL},
    [MS_SCORE_Z_FLAG] = {"z_flag", "robust deviation from which an indicator is named as a reason", 0, 3, 1000,
                         MS_PARAM_NUMBER, NULL},
    [MS_SCORE_MIN_EXCESS_SHARE] = {"min_excess_share",
                                   "a share deviates only if it exceeds its peers' by at least this much "
                                   "(0.02 = two percentage points): huge denominators make tiny differences significant",
                                   0, 0.02, 1, MS_PARAM_NUMBER, NULL},
    [MS_SCORE_MIN_EXCESS_RATIO] = {"min_excess_ratio",
                                   "a ratio, or a share, deviates only if it exceeds its peers' by at least this "
                                   "fraction of theirs (0.25 = 25%)",
                                   0, 0.25, 100, MS_PARAM_NUMBER, NULL},
    [MS_SCORE_MIN_FLAGGED] = {"min_flagged_records",
                              "a share is a reason only with at least this many flagged records: one record among "
                              "a few is not a pattern",
                              1, 3, 100000, MS_PARAM_NUMBER, NULL, 1},
    [MS_SCORE_ALL_CLUES] = {"all_clues",
                            "1: clues.csv lists the records behind every reported indicator; 0: only where the "
                            "institution deviates from its peers",
                            0, 0, 1, MS_PARAM_NUMBER, NULL, 1},
};

const ms_param_t *ms_score_params(void) { return score_params; }

/* ------------------------------------------------------------- building */

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Split "a,b,c" into a list. */
static int split_list(const char *text, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!text || !*text) return 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++) cap += *p == ',';
    *out = calloc(cap, sizeof **out);
    if (!*out) return -1;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        (*out)[(*n)++] = dupn(p, len);
        if (!(*out)[*n - 1]) return -1;
        if (!p[len]) break;
        p += len + 1;
    }
    return 0;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}

static ms_status_t defaults(ms_config_t *cfg)
{
    int n = cfg->nmodels;
    const ms_model_t *const *models = cfg->models;
    for (int k = 0; k < MS_SCORE_COUNT; k++) cfg->score[k] = score_params[k].def;
    cfg->nmodels = n;
    cfg->model = calloc((size_t)n, sizeof *cfg->model);
    if (!cfg->model) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int m = 0; m < n; m++) {
        const ms_model_t *mod = models[m];
        ms_model_config_t *mc = &cfg->model[m];
        mc->weight = mod->default_weight;
        mc->ind = calloc((size_t)(mod->nindicators ? mod->nindicators : 1), sizeof *mc->ind);
        if (!mc->ind) return ms_error_set(MS_E_NOMEM, "out of memory");
        for (int i = 0; i < mod->nindicators; i++) {
            const ms_indicator_t *ind = &mod->indicators[i];
            ms_indicator_config_t *ic = &mc->ind[i];
            ic->weight = mc->weight > 0 ? 1.0 : 0.0;
            int np = ind->nparams ? ind->nparams : 1;
            ic->value = calloc((size_t)np, sizeof *ic->value);
            ic->list = calloc((size_t)np, sizeof *ic->list);
            ic->nlist = calloc((size_t)np, sizeof *ic->nlist);
            if (!ic->value || !ic->list || !ic->nlist) return ms_error_set(MS_E_NOMEM, "out of memory");
            for (int p = 0; p < ind->nparams; p++) {
                const ms_param_t *pa = &ind->params[p];
                ic->value[p] = pa->kind == MS_PARAM_NUMBER ? pa->def : (double)NAN;
                if (pa->kind == MS_PARAM_LIST && split_list(pa->def_list, &ic->list[p], &ic->nlist[p]))
                    return ms_error_set(MS_E_NOMEM, "out of memory");
            }
        }
    }
    return MS_OK;
}

/* ------------------------------------------------------------- checking */

/* "FILE line N: [where ]what" */
static ms_status_t bad(const config_setting_t *s, const char *path, const char *where, const char *what)
{
    return ms_error_set(MS_E_USAGE, "%s line %d: %s%s%s", path, config_setting_source_line(s), where,
                        *where ? " " : "", what);
}

/* A number within a parameter's bounds. */
static ms_status_t take_number(const config_setting_t *s, const char *file, const char *key, const ms_param_t *pa,
                               double *out)
{
    char what[512];
    if (!config_setting_is_number(s)) {
        snprintf(what, sizeof what, "'%s' must be a number (allowed %g..%g)", key, pa->min, pa->max);
        return bad(s, file, "", what);
    }
    double v = config_setting_get_float(s);
    if (config_setting_type(s) != CONFIG_TYPE_FLOAT) v = (double)config_setting_get_int64(s);
    if (!(v >= pa->min && v <= pa->max)) {
        snprintf(what, sizeof what, "'%s' = %g is out of range (allowed %g..%g)", key, v, pa->min, pa->max);
        return bad(s, file, "", what);
    }
    if (pa->integer && v != floor(v)) {
        snprintf(what, sizeof what, "'%s' = %g must be a whole number (allowed %g..%g)", key, v, pa->min, pa->max);
        return bad(s, file, "", what);
    }
    *out = v;
    return MS_OK;
}

static ms_status_t take_list(const config_setting_t *s, const char *file, const char *key, char ***out, size_t *n)
{
    char what[1200];
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
        snprintf(what, sizeof what, "'%s' must be a list of strings, e.g. [\"J06\", \"I10\"]", key);
        return bad(s, file, "", what);
    }
    int len = config_setting_length(s);
    char **l = calloc((size_t)(len ? len : 1), sizeof *l);
    if (!l) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int i = 0; i < len; i++) {
        const char *v = config_setting_get_string_elem(s, i);
        if (!v) {
            free_list(l, (size_t)i);
            snprintf(what, sizeof what, "'%s' item %d is not a string", key, i + 1);
            return bad(s, file, "", what);
        }
        /* Items are codes compared byte for byte: a space or an empty item
         * would silently match nothing. */
        const char *problem = !*v ? "is empty" : NULL;
        for (const char *c = v; !problem && *c; c++)
            if (*c == ' ') problem = "has a space";
            else if ((unsigned char)*c < 0x20 || *c == 0x7f) problem = "has a control character";
        if (problem) {
            free_list(l, (size_t)i);
            if (*v)
                snprintf(what, sizeof what,
                         "'%s' item %d \"%.64s\" %s: items are codes, matched case-sensitively and exactly as "
                         "written (\"J06\" is not \"j06\" nor \" J06\")",
                         key, i + 1, v, problem);
            else
                snprintf(what, sizeof what,
                         "'%s' item %d %s: items are codes, matched case-sensitively and exactly as written", key,
                         i + 1, problem);
            return bad(s, file, "", what);
        }
        l[i] = strdup(v);
        if (!l[i]) {
            free_list(l, (size_t)i);
            return ms_error_set(MS_E_NOMEM, "out of memory");
        }
    }
    free_list(*out, *n);
    *out = l;
    *n = (size_t)len;
    return MS_OK;
}

/* The weight every model and indicator group may set. */
static const ms_param_t weight_param = {"weight", "", 0, 1, 1000, MS_PARAM_NUMBER, NULL, 0};

/* Append ", name" to the list of allowed keys (cap bytes, cut if need be). */
static void allowed_add(char *allowed, size_t cap, const char *name)
{
    strncat(allowed, ", ", cap - strlen(allowed) - 1);
    strncat(allowed, name, cap - strlen(allowed) - 1);
}

static ms_status_t unknown(const config_setting_t *s, const char *file, const char *where, const char *allowed)
{
    char what[1024];
    snprintf(what, sizeof what, "unknown key '%s' in %s (allowed: %s)", config_setting_name(s), where, allowed);
    return bad(s, file, "", what);
}

static ms_status_t read_indicator(const config_setting_t *g, const char *file, const char *mname,
                                  const ms_indicator_t *ind, ms_indicator_config_t *ic)
{
    char where[256], allowed[1024] = "weight";
    snprintf(where, sizeof where, "models.%s.%s", mname, ind->name);
    for (int p = 0; p < ind->nparams; p++) allowed_add(allowed, sizeof allowed, ind->params[p].name);
    if (!config_setting_is_group(g)) return bad(g, file, where, "must be a group { ... }");
    for (int k = 0; k < config_setting_length(g); k++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
        const char *key = config_setting_name(s);
        char full[512];
        snprintf(full, sizeof full, "%s.%s", where, key);
        if (!strcmp(key, "weight")) {
            MS_TRY(take_number(s, file, full, &weight_param, &ic->weight));
            continue;
        }
        int p = 0;
        while (p < ind->nparams && strcmp(ind->params[p].name, key)) p++;
        if (p == ind->nparams) return unknown(s, file, where, allowed);
        if (ind->params[p].kind == MS_PARAM_NUMBER) MS_TRY(take_number(s, file, full, &ind->params[p], &ic->value[p]));
        else MS_TRY(take_list(s, file, full, &ic->list[p], &ic->nlist[p]));
    }
    return MS_OK;
}

static ms_status_t read_model(const config_setting_t *g, const char *file, const ms_model_t *mod,
                              ms_model_config_t *mc)
{
    char where[128], allowed[2048] = "weight";
    snprintf(where, sizeof where, "models.%s", mod->name);
    for (int i = 0; i < mod->nindicators; i++) allowed_add(allowed, sizeof allowed, mod->indicators[i].name);
    if (!config_setting_is_group(g)) return bad(g, file, where, "must be a group { ... }");
    for (int k = 0; k < config_setting_length(g); k++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
        const char *key = config_setting_name(s);
        char full[256];
        snprintf(full, sizeof full, "%s.%s", where, key);
        if (!strcmp(key, "weight")) {
            MS_TRY(take_number(s, file, full, &weight_param, &mc->weight));
            continue;
        }
        int i = 0;
        while (i < mod->nindicators && strcmp(mod->indicators[i].name, key)) i++;
        if (i == mod->nindicators) return unknown(s, file, where, allowed);
        MS_TRY(read_indicator(s, file, mod->name, &mod->indicators[i], &mc->ind[i]));
    }
    return MS_OK;
}

static ms_status_t read_file(ms_config_t *cfg, const char *path)
{
    config_t c;
    config_init(&c);
    ms_status_t st = MS_OK;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        config_destroy(&c);
        return ms_error_errno(MS_E_IO, errno, "cannot open the rule configuration %s", path);
    }
    if (config_read(&c, fp) != CONFIG_TRUE) {
        st = ms_error_set(MS_E_USAGE, "%s line %d: %s", path, config_error_line(&c), config_error_text(&c));
        fclose(fp);
        config_destroy(&c);
        return st;
    }
    /* The file's own bytes, for the record. */
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *bytes = size > 0 ? malloc((size_t)size) : NULL;
    if (bytes && fread(bytes, 1, (size_t)size, fp) == (size_t)size) cfg->file_hash = XXH3_64bits(bytes, (size_t)size);
    free(bytes);
    fclose(fp);

    int n = cfg->nmodels;
    const ms_model_t *const *models = cfg->models;
    const config_setting_t *root = config_root_setting(&c);
    for (int k = 0; st == MS_OK && k < config_setting_length(root); k++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)k);
        const char *key = config_setting_name(s);
        if (!strcmp(key, "scoring")) {
            if (!config_setting_is_group(s)) {
                st = bad(s, path, "scoring", "must be a group { ... }");
                break;
            }
            for (int j = 0; st == MS_OK && j < config_setting_length(s); j++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned)j);
                int p = 0;
                while (p < MS_SCORE_COUNT && strcmp(score_params[p].name, config_setting_name(e))) p++;
                if (p == MS_SCORE_COUNT) {
                    char allowed[512] = "";
                    for (int q = 0; q < MS_SCORE_COUNT; q++) {
                        if (q) strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
                        strncat(allowed, score_params[q].name, sizeof allowed - strlen(allowed) - 1);
                    }
                    st = unknown(e, path, "scoring", allowed);
                } else {
                    char full[128];
                    snprintf(full, sizeof full, "scoring.%s", score_params[p].name);
                    st = take_number(e, path, full, &score_params[p], &cfg->score[p]);
                }
            }
        } else if (!strcmp(key, "models")) {
            for (int j = 0; st == MS_OK && j < config_setting_length(s); j++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned)j);
                int m = 0;
                while (m < n && strcmp(models[m]->name, config_setting_name(e))) m++;
                if (m == n) {
                    char allowed[1024] = "";
                    for (int q = 0; q < n; q++) {
                        if (q) strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
                        strncat(allowed, models[q]->name, sizeof allowed - strlen(allowed) - 1);
                    }
                    st = unknown(e, path, "models", allowed);
                } else {
                    st = read_model(e, path, models[m], &cfg->model[m]);
                }
            }
        } else {
            st = unknown(s, path, "the top level", "scoring, models");
        }
    }
    config_destroy(&c);
    return st;
}

static void hash_resolved(ms_config_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (!fp) return;
    ms_config_write(cfg, fp);
    fclose(fp);
    cfg->hash = XXH3_64bits(text, len);
    free(text);
}

ms_status_t ms_config_load(const char *path, ms_config_t *cfg)
{
    int n;
    const ms_model_t *const *models = ms_models(&n);
    return ms_config_load_for(path, models, n, cfg);
}

ms_status_t ms_config_load_for(const char *path, const ms_model_t *const *models, int nmodels, ms_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->models = models;
    cfg->nmodels = nmodels;
    ms_status_t st = defaults(cfg);
    if (st == MS_OK && path) {
        cfg->path = strdup(path);
        st = read_file(cfg, path);
    }
    if (st != MS_OK) {
        ms_config_free(cfg);
        return st;
    }
    hash_resolved(cfg);
    return MS_OK;
}

void ms_config_free(ms_config_t *cfg)
{
    const ms_model_t *const *models = cfg->models;
    for (int m = 0; cfg->model && m < cfg->nmodels; m++) {
        ms_model_config_t *mc = &cfg->model[m];
        for (int i = 0; mc->ind && i < models[m]->nindicators; i++) {
            ms_indicator_config_t *ic = &mc->ind[i];
            for (int p = 0; ic->list && p < models[m]->indicators[i].nparams; p++) free_list(ic->list[p], ic->nlist[p]);
            free(ic->value), free(ic->list), free(ic->nlist);
        }
        free(mc->ind);
    }
    free(cfg->model);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}

const ms_model_config_t *ms_config_model(const ms_config_t *cfg, const ms_model_t *m)
{
    for (int k = 0; k < cfg->nmodels; k++)
        if (cfg->models[k] == m) return &cfg->model[k];
    return NULL;
}

/* -------------------------------------------------------------- writing */

/* fprintf "%s" of v in the fewest significant digits that read back as the
 * same double (0.8, not 0.80000000000000004; 0.30000000000000004 keeps its
 * 17), so that the printed file loads to the same configuration. */
static void write_number(FILE *fp, double v)
{
    char buf[40];
    if (v == floor(v) && fabs(v) < 1e15) { /* whole: as an integer, never 1e+05 */
        fprintf(fp, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, fp);
}

static void write_comment(FILE *fp, const char *indent, const char *text)
{
    fprintf(fp, "%s# %s\n", indent, text);
}

void ms_config_write(const ms_config_t *cfg, FILE *fp)
{
    int n = cfg->nmodels;
    const ms_model_t *const *models = cfg->models;
    fprintf(fp, "# medsweep rule configuration (libconfig format; see docs/models.md).\n"
                "# Every key is optional: what is left out keeps the value shown here.\n\n"
                "scoring = {\n");
    for (int p = 0; p < MS_SCORE_COUNT; p++) {
        write_comment(fp, "  ", score_params[p].description);
        fprintf(fp, "  %s = ", score_params[p].name);
        write_number(fp, cfg->score[p]);
        fprintf(fp, ";  # %g..%g\n", score_params[p].min, score_params[p].max);
    }
    fprintf(fp, "};\n\nmodels = {\n");
    for (int m = 0; m < n && m < cfg->nmodels; m++) {
        const ms_model_t *mod = models[m];
        const ms_model_config_t *mc = &cfg->model[m];
        write_comment(fp, "  ", mod->description);
        fprintf(fp, "  %s = {\n    weight = ", mod->name);
        write_number(fp, mc->weight);
        fprintf(fp, ";  # in the overall score, 0..1000\n");
        for (int i = 0; i < mod->nindicators; i++) {
            const ms_indicator_t *ind = &mod->indicators[i];
            const ms_indicator_config_t *ic = &mc->ind[i];
            write_comment(fp, "    ", ind->description);
            fprintf(fp, "    %s = {\n      weight = ", ind->name);
            write_number(fp, ic->weight);
            fprintf(fp, ";\n");
            for (int p = 0; p < ind->nparams; p++) {
                const ms_param_t *pa = &ind->params[p];
                write_comment(fp, "      ", pa->description);
                if (pa->kind == MS_PARAM_NUMBER) {
                    fprintf(fp, "      %s = ", pa->name);
                    write_number(fp, ic->value[p]);
                    fprintf(fp, ";  # %g..%g\n", pa->min, pa->max);
                } else {
                    fprintf(fp, "      %s = [", pa->name);
                    for (size_t k = 0; k < ic->nlist[p]; k++) fprintf(fp, "%s\"%s\"", k ? ", " : "", ic->list[p][k]);
                    fprintf(fp, "];\n");
                }
            }
            fprintf(fp, "    };\n");
        }
        fprintf(fp, "  };\n");
    }
    fprintf(fp, "};\n");
}

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
 *   rules = (
 *     { name = "repeat_exam"; template = "repeat_exam"; enabled = true; weight = 1.0;
 *       window_days = 7; categories = ["exam", "lab"]; items = []; },
 *     ...
 *   );
 * The rules list (docs/rules.md) replaces the default instances (one per
 * template, ms_rules_defaults) when it is given; each group may set only the
 * parameters its template reads (ms_rule_template_params).
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

#include "ms_knowledge.h"

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
    return ms_rules_defaults(&cfg->rules);
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

/* ---------------------------------------------------------------- rules */

static const ms_param_t rule_window_param = {"window_days", "", MS_RULE_WINDOW_MIN, 7, MS_RULE_WINDOW_MAX,
                                             MS_PARAM_NUMBER, NULL, 1};
static const ms_param_t rule_tolerance_param = {"tolerance_pct", "", MS_RULE_TOLERANCE_MIN, 30, MS_RULE_TOLERANCE_MAX,
                                                MS_PARAM_NUMBER, NULL, 1};
static const ms_param_t rule_extra_param = {"extra_days", "", MS_RULE_EXTRA_MIN, 1, MS_RULE_EXTRA_MAX,
                                            MS_PARAM_NUMBER, NULL, 1};

/* The keys a group of template t may hold, for the messages. */
static void rule_keys(int t, char *allowed, size_t cap)
{
    unsigned p = ms_rule_template_params(t);
    snprintf(allowed, cap, "name, template, enabled, weight, items");
    if (p & MS_RULE_P_WINDOW) allowed_add(allowed, cap, "window_days");
    if (p & MS_RULE_P_TOLERANCE) allowed_add(allowed, cap, "tolerance_pct");
    if (p & MS_RULE_P_EXTRA) allowed_add(allowed, cap, "extra_days");
    if (p & MS_RULE_P_CATEGORIES) allowed_add(allowed, cap, "categories");
}

/* A string member of a rule's group: required. */
static ms_status_t rule_string(const config_setting_t *g, const char *file, const char *where, const char *key,
                               const char **out)
{
    char what[512];
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s) {
        snprintf(what, sizeof what, "needs '%s' (a rule is { name = \"...\"; template = \"...\"; ... })", key);
        return bad(g, file, where, what);
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        snprintf(what, sizeof what, "'%s.%s' must be a string", where, key);
        return bad(s, file, "", what);
    }
    *out = config_setting_get_string(s);
    return MS_OK;
}

/* categories = ["exam", "lab"]: a bit per category. */
static ms_status_t take_categories(const config_setting_t *s, const char *file, const char *key, uint32_t *out)
{
    char what[1024], names[256] = "";
    for (int c = 0; c < MS_CAT_COUNT; c++) {
        if (c) strncat(names, ", ", sizeof names - strlen(names) - 1);
        strncat(names, ms_item_category_name(c), sizeof names - strlen(names) - 1);
    }
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
        snprintf(what, sizeof what, "'%s' must be a list of categories, e.g. [\"exam\", \"lab\"] (allowed: %s)", key,
                 names);
        return bad(s, file, "", what);
    }
    uint32_t bits = 0;
    for (int i = 0; i < config_setting_length(s); i++) {
        const char *v = config_setting_get_string_elem(s, i);
        int c = v ? ms_item_category_find(v, strlen(v)) : -1;
        if (c < 0) {
            if (v) snprintf(what, sizeof what, "'%s' item %d \"%.32s\" is not a category (allowed: %s)", key, i + 1, v, names);
            else snprintf(what, sizeof what, "'%s' item %d is not a string (allowed: %s)", key, i + 1, names);
            return bad(s, file, "", what);
        }
        bits |= 1u << c;
    }
    *out = bits;
    return MS_OK;
}

static ms_status_t read_rule(const config_setting_t *g, const char *file, int k, const ms_rules_config_t *rc,
                             ms_rule_t *r)
{
    char where[128], what[1024], allowed[256], templates[512] = "";
    snprintf(where, sizeof where, "rules[%d]", k + 1);
    if (!config_setting_is_group(g))
        return bad(g, file, where, "must be a group { name = \"...\"; template = \"...\"; ... }");
    const char *name, *tname;
    MS_TRY(rule_string(g, file, where, "name", &name));
    const char *problem = ms_rule_name_problem(name);
    if (problem) {
        snprintf(what, sizeof what, "'%s.name' \"%.64s\" %s", where, name, problem);
        return bad(config_setting_get_member(g, "name"), file, "", what);
    }
    for (size_t j = 0; j < rc->n && rc->rule[j].name; j++)
        if (!strcmp(rc->rule[j].name, name)) {
            snprintf(what, sizeof what, "'%s.name' \"%s\" is already the name of rules[%zu]: names are unique", where,
                     name, j + 1);
            return bad(config_setting_get_member(g, "name"), file, "", what);
        }
    snprintf(where, sizeof where, "rules.%s", name);
    MS_TRY(rule_string(g, file, where, "template", &tname));
    int t = ms_rule_template_find(tname);
    if (t < 0) {
        for (int q = 0; q < MS_RULE_TEMPLATE_COUNT; q++) {
            if (q) strncat(templates, ", ", sizeof templates - strlen(templates) - 1);
            strncat(templates, ms_rule_template_name(q), sizeof templates - strlen(templates) - 1);
        }
        snprintf(what, sizeof what, "'%s.template' \"%.64s\" is not a template (allowed: %s)", where, tname, templates);
        return bad(config_setting_get_member(g, "template"), file, "", what);
    }
    MS_TRY(ms_rule_init(r, t, name));
    unsigned params = ms_rule_template_params(t);
    rule_keys(t, allowed, sizeof allowed);
    for (int j = 0; j < config_setting_length(g); j++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)j);
        const char *key = config_setting_name(s);
        char full[256];
        snprintf(full, sizeof full, "%s.%s", where, key);
        double v;
        if (!strcmp(key, "name") || !strcmp(key, "template")) continue;
        if (!strcmp(key, "enabled")) {
            if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
                snprintf(what, sizeof what, "'%s' must be true or false", full);
                return bad(s, file, "", what);
            }
            r->enabled = config_setting_get_bool(s);
        } else if (!strcmp(key, "weight")) {
            MS_TRY(take_number(s, file, full, &weight_param, &r->weight));
        } else if (!strcmp(key, "items")) {
            MS_TRY(take_list(s, file, full, &r->p.items, &r->p.nitems));
        } else if (!strcmp(key, "window_days") && (params & MS_RULE_P_WINDOW)) {
            MS_TRY(take_number(s, file, full, &rule_window_param, &v));
            r->p.window_days = (int32_t)v;
        } else if (!strcmp(key, "tolerance_pct") && (params & MS_RULE_P_TOLERANCE)) {
            MS_TRY(take_number(s, file, full, &rule_tolerance_param, &v));
            r->p.tolerance_pct = (int32_t)v;
        } else if (!strcmp(key, "extra_days") && (params & MS_RULE_P_EXTRA)) {
            MS_TRY(take_number(s, file, full, &rule_extra_param, &v));
            r->p.extra_days = (int32_t)v;
        } else if (!strcmp(key, "categories") && (params & MS_RULE_P_CATEGORIES)) {
            MS_TRY(take_categories(s, file, full, &r->p.categories));
        } else {
            char in[256];
            snprintf(in, sizeof in, "%s (template %s)", where, ms_rule_template_name(t));
            return unknown(s, file, in, allowed);
        }
    }
    return MS_OK;
}

/* rules = ( { ... }, ... ): replaces the default instances. */
static ms_status_t read_rules(const config_setting_t *s, const char *file, ms_rules_config_t *out)
{
    if (!config_setting_is_list(s))
        return bad(s, file, "rules", "must be a list ( { name = \"...\"; template = \"...\"; ... }, ... )");
    int n = config_setting_length(s);
    ms_rules_config_t rc = {0, calloc((size_t)(n ? n : 1), sizeof(ms_rule_t))};
    if (!rc.rule) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = MS_OK;
    for (int k = 0; st == MS_OK && k < n; k++) {
        st = read_rule(config_setting_get_elem(s, (unsigned)k), file, k, &rc, &rc.rule[k]);
        rc.n = (size_t)k + 1; /* a half-read rule is freed with the others */
    }
    if (st != MS_OK) {
        ms_rules_config_free(&rc);
        return st;
    }
    ms_rules_config_free(out);
    *out = rc;
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
        } else if (!strcmp(key, "rules")) {
            st = read_rules(s, path, &cfg->rules);
        } else {
            st = unknown(s, path, "the top level", "scoring, models, rules");
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
    ms_rules_config_free(&cfg->rules);
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

/* A string as libconfig reads it back: in quotes, '"' and '\\' escaped. */
static void write_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

/* The rules list: every instance with every parameter its template reads. */
static void write_rules(const ms_rules_config_t *rc, FILE *fp)
{
    fprintf(fp, "\n# The rule base over itemised bills (docs/rules.md): one group per rule.  A second\n"
                "# instance of a template is one more group with its own name, e.g.\n"
                "#   { name = \"repeat_ct_30d\"; template = \"repeat_exam\"; window_days = 30; items = [\"C01\"]; }\n"
                "# Left out, the list is one instance of each template, named as it; given,\n"
                "# it is the whole list (a rule not listed does not run).\n"
                "rules = (");
    for (size_t i = 0; i < rc->n; i++) {
        const ms_rule_t *r = &rc->rule[i];
        unsigned p = ms_rule_template_params(r->tmpl);
        fprintf(fp, "%s\n", i ? "," : "");
        write_comment(fp, "  ", ms_rule_template_description(r->tmpl));
        fprintf(fp, "  {\n    name = \"%s\";\n    template = \"%s\";\n    enabled = %s;  # false: not run\n    weight = ", r->name,
                ms_rule_template_name(r->tmpl), r->enabled ? "true" : "false");
        write_number(fp, r->weight);
        fprintf(fp, ";  # 0..1000\n");
        if (p & MS_RULE_P_WINDOW)
            fprintf(fp, "    window_days = %d;  # the window, in days: %d..%d\n", (int)r->p.window_days,
                    MS_RULE_WINDOW_MIN, MS_RULE_WINDOW_MAX);
        if (p & MS_RULE_P_TOLERANCE)
            fprintf(fp, "    tolerance_pct = %d;  # supply allowed above the window, in percent: %d..%d\n",
                    (int)r->p.tolerance_pct, MS_RULE_TOLERANCE_MIN, MS_RULE_TOLERANCE_MAX);
        if (p & MS_RULE_P_EXTRA)
            fprintf(fp, "    extra_days = %d;  # bed-days allowed beyond the length of stay: %d..%d\n",
                    (int)r->p.extra_days, MS_RULE_EXTRA_MIN, MS_RULE_EXTRA_MAX);
        if (p & MS_RULE_P_CATEGORIES) {
            fprintf(fp, "    categories = [");
            int first = 1;
            for (int c = 0; c < MS_CAT_COUNT; c++)
                if (r->p.categories >> c & 1u) {
                    fprintf(fp, "%s\"%s\"", first ? "" : ", ", ms_item_category_name(c));
                    first = 0;
                }
            fprintf(fp, "];  # the bill lines' categories it judges\n");
        }
        fprintf(fp, "    items = [");
        for (size_t k = 0; k < r->p.nitems; k++) {
            if (k) fputs(", ", fp);
            write_string(fp, r->p.items[k]);
        }
        fprintf(fp, "];  # item codes it is limited to ([]: every item)\n  }");
    }
    fprintf(fp, "%s);\n", rc->n ? "\n" : "");
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
    write_rules(&cfg->rules, fp);
}

/*
 * ms_knowledge.h - the knowledge base (知识库): what each catalogue item is,
 * for whom and how much of it may be paid, and which items are never billed
 * together (../shared/spec/DATA.md, "knowledge/"; docs/schema.md).
 *
 * Read from CSV_DIR/knowledge/items.csv and exclusive_items.csv by import
 * (every field validated, errors naming file, line, column and value),
 * stored in the dataset as DATASET/knowledge.h5 (written whole, then
 * renamed), read back by the sweep and by pre-notification (ms_check), and
 * written back out as CSV by export.  Optional: a dataset without it still
 * sweeps, and the rules that need it say "not run".
 *
 * Units: quantities are kept in thousandths of a unit (the CSV's decimals
 * have at most three places), so that every comparison is exact.
 */
#ifndef MS_KNOWLEDGE_H
#define MS_KNOWLEDGE_H

#include <stddef.h>
#include <stdint.h>

#include "ms_refs.h"
#include "ms_status.h"

/* The categories a bill line counts in, in the settlement's cost-column
 * order (MS_SC_drug .. MS_SC_other): category c adds to column
 * MS_SC_drug + c. */
typedef enum {
    MS_CAT_DRUG, MS_CAT_EXAM, MS_CAT_LAB, MS_CAT_CONSUMABLE, MS_CAT_TREATMENT,
    MS_CAT_SURGERY, MS_CAT_BED, MS_CAT_NURSING, MS_CAT_OTHER, MS_CAT_COUNT
} ms_item_category_t;

/* "drug", "exam", ... "other" (the CSV's words). */
const char *ms_item_category_name(int c);
/* The category named by text (len bytes), or -1. */
int ms_item_category_find(const char *text, size_t len);

/* Where an item may be given. */
enum { MS_SETTING_ANY = -1, MS_SETTING_INPATIENT = 0, MS_SETTING_OUTPATIENT = 1 };

#define MS_KB_NONE (-1)          /* an empty limit: none */
#define MS_ITEM_CODE_MAX 32      /* bytes of an item code */
#define MS_ITEM_NAME_MAX 256

typedef struct {
    char *item_code;             /* 1..32 bytes */
    char *name;                  /* 1..256 bytes */
    uint8_t category;            /* ms_item_category_t */
    int8_t sex;                  /* MS_SEX_M, MS_SEX_F, or MS_KB_NONE: either */
    int16_t min_age, max_age;    /* years, 0..120, or MS_KB_NONE */
    int64_t max_qty_milli;       /* units per person per day x 1000, or MS_KB_NONE */
    int32_t max_days_supply;     /* days of supply in one line, or MS_KB_NONE */
    int8_t setting;              /* MS_SETTING_* */
    size_t ndiag;                /* diagnosis prefixes it is paid for (0: any diagnosis) */
    char **diag;                 /* [ndiag], each 1..16 bytes, in the CSV's order */
    uint8_t trace_required;      /* 1: a coded drug whose packages must be scanned */
} ms_kb_item_t;

typedef struct {
    size_t n_items;
    ms_kb_item_t *items;         /* sorted by item_code (strcmp); id = index */
    size_t n_exclusive;
    uint32_t (*exclusive)[2];    /* pairs of item ids, a < b, sorted, distinct */
    uint64_t checksum;           /* xxh64 of the content, as ms_knowledge_checksum computes it */
} ms_knowledge_t;

/* Read DIR/items.csv and DIR/exclusive_items.csv (DIR is CSV_DIR/knowledge).
 * Every field is checked; a duplicate item code, an exclusive pair naming an
 * unknown item or an item with itself, min_age > max_age, ... fail with
 * MS_E_DATA naming the file, line, column and value.  exclusive_items.csv
 * may be absent (no pairs); items.csv may not. */
ms_status_t ms_knowledge_load_csv(const char *dir, ms_knowledge_t *kb);

/* Write DATASET/knowledge.h5 (to a temporary name, then renamed). */
ms_status_t ms_knowledge_write(const ms_knowledge_t *kb, const char *dataset_dir);

/* 1 if DATASET/knowledge.h5 exists, else 0. */
int ms_knowledge_present(const char *dataset_dir);

/* Read DATASET/knowledge.h5, checking its stored checksum against its
 * content (MS_E_DATA naming the file when they differ). */
ms_status_t ms_knowledge_read(const char *dataset_dir, ms_knowledge_t *kb);

/* Write DIR/items.csv and DIR/exclusive_items.csv (export; what
 * ms_knowledge_load_csv reads back to the same content and checksum). */
ms_status_t ms_knowledge_write_csv(const ms_knowledge_t *kb, const char *dir);

/* The content checksum (sorted items, every field; pairs). */
uint64_t ms_knowledge_checksum(const ms_knowledge_t *kb);

/* Item id of code (len bytes), or -1 (binary search). */
int32_t ms_knowledge_find(const ms_knowledge_t *kb, const char *code, size_t len);

/* The item id of every code of a dataset's dictionary (refs->items, or
 * refs->drugs), -1 where kb does not list it or kb is NULL: *out has
 * d->count ids (at least one allocated; the caller frees it). */
ms_status_t ms_knowledge_ids(const ms_knowledge_t *kb, const ms_dict_t *d, int32_t **out);

/* 1 if items a and b (ids, either order) are never billed together. */
int ms_knowledge_exclusive(const ms_knowledge_t *kb, int32_t a, int32_t b);

/* 1 if diag (an ICD-10 code, len bytes) starts with one of the item's
 * prefixes, or the item lists none. */
int ms_kb_item_covers(const ms_kb_item_t *it, const char *diag, size_t len);

void ms_knowledge_free(ms_knowledge_t *kb);

#endif

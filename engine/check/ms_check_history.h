/*
 * ms_check_history.h - the persons' recent bill lines of a dataset, held in
 * memory so that pre-notification can give a claim that carries no
 * "history" the person's history from the latest dataset
 * (docs/prenotification.md, "History from the dataset").
 *
 * Built once, when the checker opens, in the opening thread: every
 * service_items partition is read through the project's reader (the
 * columns the history rules need, nothing else), and the lines dated within
 * `days` of the dataset's latest bill line (the partitions' max_date
 * attributes) are kept, those whose item the knowledge base lists (no rule
 * matches a history line of an unknown item: repeat_exam, excess_supply
 * and duplicate match by knowledge-base id).  A line is 40 bytes: person,
 * settlement, date, knowledge-base item, institution (the reference files'
 * id), quantity, days of supply, line number, category.  Lines stay in
 * their partition (ms_person_partition of the person), in the partition's
 * order (person_id, date, settle_id, line_no), so nothing is sorted at
 * open and a person's lines are one binary search away.
 *
 * Read-only once built: any number of threads may look up persons.
 */
#ifndef MS_CHECK_HISTORY_H
#define MS_CHECK_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "ms_knowledge.h"
#include "ms_refs.h"
#include "ms_rules.h"
#include "ms_status.h"

typedef struct ms_history ms_history_t;

/* Index the service_items of the dataset in directory `dataset` (refs: its
 * reference files, already read; the partitions are checked against them;
 * kb: the knowledge base the rules are compiled against), keeping the lines
 * dated on or after the dataset's latest date minus `days` (1..3650).
 * *out is NULL (and MS_OK) when the dataset has no bill lines (no
 * service_items folder, or only empty partitions).  Errors: a partition
 * that cannot be opened or read (its path and why), partitions that
 * disagree on their number (MS_E_CORRUPT), MS_E_NOMEM. */
ms_status_t ms_history_build(const char *dataset, const ms_refs_t *refs, const ms_knowledge_t *kb, int32_t days,
                             ms_history_t **out);
/* NULL is allowed. */
void ms_history_free(ms_history_t *h);

typedef struct {
    size_t lines;           /* lines held */
    size_t bytes;           /* memory they take */
    uint32_t partitions;    /* the dataset's partitions */
    int32_t days;           /* the look-back it was built with */
    int32_t from, to;       /* the dates it covers: the latest date of the dataset's bills (to)
                               and `days` before it (from) */
} ms_history_info_t;

void ms_history_info(const ms_history_t *h, ms_history_info_t *info);

/* Person `person`'s lines dated from..to (both included), except those of
 * settlement `except`, as rule lines (item_code: the knowledge base's text;
 * no price, amount or doctor), sorted by (date, settle_id, line_no): *out
 * (malloc'd; the caller frees it; NULL when *n is 0).  kb: the one the
 * index was built with. */
ms_status_t ms_history_person(const ms_history_t *h, const ms_knowledge_t *kb, uint64_t person, uint64_t except,
                              int32_t from, int32_t to, ms_rule_line_t **out, size_t *n);

#endif

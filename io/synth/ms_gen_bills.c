/*
 * ms_gen_bills.c - medsweep gen --bills: the itemised bill behind every
 * settlement (service_items), the knowledge base of its catalogue
 * (knowledge/), the rule violations planted at a few institutions and the
 * honest institutions that look like them (docs/generator.md, "Itemised
 * bills").
 *
 * Bills are drawn from streams of their own, the world's (seed, 6, 0) and
 * each person's (seed, 7, index), once the person's settlements are made:
 * the settlements, drug items and the rest of the truth are those of the
 * world without --bills, and a person's lines are the same whichever thread
 * makes them.
 *
 * Lines add up, category by category, to the settlement's nine cost columns
 * exactly: in a category every line but the last is a catalogue item at its
 * list price (qty x price, whole fen), the last absorbs the remainder with
 * qty 1 and that remainder as its price; per-day lines (bed-days, nursing,
 * the daily inpatient fee) carry the days as qty and the price that makes
 * them exact (|qty x price - amount| < half a fen).  A pharmacy purchase is
 * one line of the drug its packages were scanned for, qty = packages.
 *
 * Honest lines keep every rule of docs/rules.md: an item only for the sex,
 * ages, setting and diagnoses the knowledge base allows; no exam or lab item
 * twice for a person within 7 days; never both items of an exclusive pair
 * on one day; at most the daily maximum of an item on a day of a claim;
 * bed-days at most the length of stay + 1; days of supply at most the
 * item's maximum and at most 117 in any 90 days.  Except for a small noise
 * that every institution makes (an occasional repeat within 7 days, one
 * unit over a daily maximum, LOS + 2 bed-days, a panel with its component).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_gen_internal.h"

/* ------------------------------------------------------------ catalogue */

enum { SCOPE_NONE, SCOPE_I10, SCOPE_E11, SCOPE_CHEMO, SCOPE_EYE, SCOPE_COUNT };
enum { ANY = MS_SETTING_ANY, IN = MS_SETTING_INPATIENT, OUT = MS_SETTING_OUTPATIENT };

/* The service items, consumables and hospital drugs (the pharmacies' drugs
 * are the world's: build_drugs in ms_gen_world.c). */
enum {
    I_XRAY_CHEST, I_US_ABDOMEN, I_ECHO, I_CT, I_CT_ENHANCED, I_MRI, I_ECG, I_HOLTER, I_US_OBSTETRIC, I_US_PROSTATE,
    I_GASTROSCOPY, I_XRAY_LIMB, I_EEG,
    I_CBC, I_HB, I_LIVER, I_ALT, I_RENAL, I_CREATININE, I_GLUCOSE, I_HBA1C, I_URINE, I_CRP, I_PSA, I_HCG,
    I_CBC_CHILD, I_GLUCOSE_FINGER, I_COAGULATION, I_LIPIDS,
    I_INFUSION_SET, I_SYRINGE, I_SUTURE, I_GAUZE, I_LENS, I_CATHETER, I_BLOOD_SET,
    I_IM_INJECTION, I_IV_INFUSION, I_NEBULISE, I_NEBULISE_CHILD, I_DRESSING, I_OXYGEN, I_PHYSIO, I_ACUPUNCTURE,
    I_ICU_MONITOR, I_CONSULT_INPATIENT, I_DIALYSIS, I_CHEMO_ADMIN, I_DEBRIDEMENT,
    I_ANAESTHESIA_GENERAL, I_ANAESTHESIA_LOCAL, I_SURGERY_2, I_SURGERY_3, I_SURGERY_4, I_PHACO, I_SURGERY_MINOR,
    I_BED_WARD, I_BED_ICU, I_BED_OBSERVATION,
    I_NURSING_1, I_NURSING_2, I_NURSING_3, I_NURSING_PROCEDURE,
    I_CONSULT_OUT, I_CONSULT_SPECIALIST, I_INPATIENT_FEE, I_RECORDS, I_TRANSFER,
    I_AMOXICILLIN, I_IBUPROFEN, I_OMEPRAZOLE, I_LORATADINE, I_PARACETAMOL_CHILD, I_COUGH_CHILD, I_AMLODIPINE,
    I_METFORMIN, I_INSULIN, I_CEFTRIAXONE, I_SALINE, I_HEPARIN, I_PACLITAXEL, I_TAMSULOSIN, I_PROGESTERONE,
    I_DEXAMETHASONE,
    I_COUNT
};

typedef struct {
    const char *code, *name;
    uint8_t cat;         /* ms_item_category_t */
    char sex;            /* 'M', 'F', or 0: either */
    int8_t min_age, max_age; /* -1: none */
    uint8_t max_qty;     /* units a day, 0: none */
    uint8_t pack_days;   /* a drug unit's days of supply (0: not stated) */
    uint8_t max_days;    /* days of supply a line may give, 0: none */
    int8_t setting;
    uint8_t scope;       /* SCOPE_*: the diagnoses it is paid for */
    uint8_t weight;      /* how often it is billed among its category's items (0: only when planned) */
    int32_t price;       /* fen a unit */
} def_t;

#define C_DRUG MS_CAT_DRUG
#define C_EXAM MS_CAT_EXAM
#define C_LAB MS_CAT_LAB
#define C_CONS MS_CAT_CONSUMABLE
#define C_TREAT MS_CAT_TREATMENT
#define C_SURG MS_CAT_SURGERY
#define C_BED MS_CAT_BED
#define C_NURS MS_CAT_NURSING
#define C_OTHER MS_CAT_OTHER

static const def_t defs[I_COUNT] = {
    [I_XRAY_CHEST] = {"002301000010000", "Chest X-ray", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 10, 7000},
    [I_US_ABDOMEN] = {"002302000010000", "Abdominal ultrasound", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 8, 12000},
    [I_ECHO] = {"002302000020000", "Echocardiography", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 4, 20000},
    [I_CT] = {"002303000010000", "CT scan", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 6, 28000},
    [I_CT_ENHANCED] = {"002303000020000", "CT scan, contrast-enhanced", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 2, 45000},
    [I_MRI] = {"002304000010000", "MRI scan", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 2, 60000},
    [I_ECG] = {"003101000010000", "12-lead electrocardiogram", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 10, 2500},
    [I_HOLTER] = {"003101000020000", "24-hour Holter monitoring", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 2, 15000},
    [I_US_OBSTETRIC] = {"002302000030000", "Obstetric ultrasound", C_EXAM, 'F', 12, 55, 0, 0, 0, ANY, 0, 2, 15000},
    [I_US_PROSTATE] = {"002302000040000", "Transrectal prostate ultrasound", C_EXAM, 'M', -1, -1, 0, 0, 0, ANY, 0, 1, 16000},
    [I_GASTROSCOPY] = {"003103000010000", "Gastroscopy", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 2, 30000},
    [I_XRAY_LIMB] = {"002301000020000", "Limb X-ray", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 4, 6000},
    [I_EEG] = {"003101000030000", "Electroencephalogram", C_EXAM, 0, -1, -1, 0, 0, 0, ANY, 0, 1, 8000},

    [I_CBC] = {"002501000010000", "Complete blood count (panel)", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 12, 2500},
    [I_HB] = {"002501000020000", "Haemoglobin", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 2, 500},
    [I_LIVER] = {"002503000010000", "Liver function panel", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 6, 6000},
    [I_ALT] = {"002503000020000", "Alanine aminotransferase", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 2, 800},
    [I_RENAL] = {"002503000030000", "Renal function panel", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 5, 4500},
    [I_CREATININE] = {"002503000040000", "Serum creatinine", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 2, 800},
    [I_GLUCOSE] = {"002503000050000", "Fasting blood glucose", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 5, 600},
    [I_HBA1C] = {"002503000060000", "Glycated haemoglobin (HbA1c)", C_LAB, 0, -1, -1, 0, 0, 0, ANY, SCOPE_E11, 6, 7000},
    [I_URINE] = {"002502000010000", "Urinalysis", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 8, 1500},
    [I_CRP] = {"002505000010000", "C-reactive protein", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 5, 3000},
    [I_PSA] = {"002506000010000", "Prostate-specific antigen", C_LAB, 'M', 18, -1, 0, 0, 0, ANY, 0, 2, 8000},
    [I_HCG] = {"002506000020000", "Serum hCG (pregnancy test)", C_LAB, 'F', 10, 60, 0, 0, 0, ANY, 0, 2, 4000},
    [I_CBC_CHILD] = {"002501000030000", "Micro-sample blood count (children)", C_LAB, 0, 0, 14, 0, 0, 0, ANY, 0, 4, 2000},
    [I_GLUCOSE_FINGER] = {"002503000070000", "Fingertip blood glucose", C_LAB, 0, -1, -1, 7, 0, 0, ANY, 0, 3, 800},
    [I_COAGULATION] = {"002504000010000", "Coagulation panel", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 3, 5000},
    [I_LIPIDS] = {"002507000010000", "Blood lipid panel", C_LAB, 0, -1, -1, 0, 0, 0, ANY, 0, 3, 4000},

    [I_INFUSION_SET] = {"C03010100100001", "Disposable infusion set", C_CONS, 0, -1, -1, 0, 0, 0, ANY, 0, 8, 500},
    [I_SYRINGE] = {"C03010200100001", "Disposable syringe", C_CONS, 0, -1, -1, 0, 0, 0, ANY, 0, 8, 100},
    [I_SUTURE] = {"C02020100100001", "Absorbable suture", C_CONS, 0, -1, -1, 0, 0, 0, ANY, 0, 3, 3000},
    [I_GAUZE] = {"C03020100100001", "Sterile gauze dressing", C_CONS, 0, -1, -1, 0, 0, 0, ANY, 0, 5, 300},
    [I_LENS] = {"C14010100100001", "Intraocular lens", C_CONS, 0, -1, -1, 0, 0, 0, IN, SCOPE_EYE, 20, 150000},
    [I_CATHETER] = {"C01010100100001", "Indwelling urinary catheter", C_CONS, 0, -1, -1, 0, 0, 0, IN, 0, 2, 2000},
    [I_BLOOD_SET] = {"C03030100100001", "Disposable blood collection set", C_CONS, 0, -1, -1, 0, 0, 0, ANY, 0, 5, 200},

    [I_IM_INJECTION] = {"003102000010000", "Intramuscular injection", C_TREAT, 0, -1, -1, 4, 0, 0, ANY, 0, 6, 300},
    [I_IV_INFUSION] = {"003102000020000", "Intravenous infusion", C_TREAT, 0, -1, -1, 3, 0, 0, ANY, 0, 8, 1000},
    [I_NEBULISE] = {"003102000030000", "Nebulised inhalation", C_TREAT, 0, 15, -1, 3, 0, 0, ANY, 0, 3, 1000},
    [I_NEBULISE_CHILD] = {"003102000040000", "Nebulised inhalation (children)", C_TREAT, 0, 0, 14, 3, 0, 0, ANY, 0, 4, 1200},
    [I_DRESSING] = {"003103000020000", "Wound dressing change", C_TREAT, 0, -1, -1, 2, 0, 0, ANY, 0, 4, 2000},
    [I_OXYGEN] = {"003104000010000", "Oxygen therapy (per hour)", C_TREAT, 0, -1, -1, 24, 0, 0, IN, 0, 3, 300},
    [I_PHYSIO] = {"003105000010000", "Physiotherapy session", C_TREAT, 0, -1, -1, 2, 0, 0, ANY, 0, 3, 4000},
    [I_ACUPUNCTURE] = {"003105000020000", "Acupuncture", C_TREAT, 0, -1, -1, 1, 0, 0, ANY, 0, 2, 3000},
    [I_ICU_MONITOR] = {"003106000010000", "Intensive care monitoring (per day)", C_TREAT, 0, -1, -1, 1, 0, 0, IN, 0, 1, 10000},
    [I_CONSULT_INPATIENT] = {"003106000020000", "Inpatient specialist consultation", C_TREAT, 0, -1, -1, 0, 0, 0, IN, 0, 2, 5000},
    [I_DIALYSIS] = {"003107000010000", "Haemodialysis", C_TREAT, 0, -1, -1, 1, 0, 0, ANY, 0, 1, 40000},
    [I_CHEMO_ADMIN] = {"003108000010000", "Chemotherapy administration", C_TREAT, 0, -1, -1, 1, 0, 0, ANY, SCOPE_CHEMO, 20, 6000},
    [I_DEBRIDEMENT] = {"003109000010000", "Debridement", C_TREAT, 0, -1, -1, 0, 0, 0, ANY, 0, 2, 5000},

    [I_ANAESTHESIA_GENERAL] = {"003301000010000", "General anaesthesia", C_SURG, 0, -1, -1, 0, 0, 0, IN, 0, 4, 80000},
    [I_ANAESTHESIA_LOCAL] = {"003301000020000", "Local anaesthesia", C_SURG, 0, -1, -1, 0, 0, 0, ANY, 0, 3, 10000},
    [I_SURGERY_2] = {"003302000010000", "Operation, grade II", C_SURG, 0, -1, -1, 0, 0, 0, IN, 0, 3, 150000},
    [I_SURGERY_3] = {"003302000020000", "Operation, grade III", C_SURG, 0, -1, -1, 0, 0, 0, IN, 0, 2, 300000},
    [I_SURGERY_4] = {"003302000030000", "Operation, grade IV", C_SURG, 0, -1, -1, 0, 0, 0, IN, 0, 1, 500000},
    [I_PHACO] = {"003303000010000", "Phacoemulsification with lens implantation", C_SURG, 0, -1, -1, 0, 0, 0, IN, SCOPE_EYE, 30, 250000},
    [I_SURGERY_MINOR] = {"003302000040000", "Minor operation", C_SURG, 0, -1, -1, 0, 0, 0, ANY, 0, 3, 20000},

    [I_BED_WARD] = {"001102000010000", "General ward bed-day", C_BED, 0, -1, -1, 0, 0, 0, IN, 0, 0, 5000},
    [I_BED_ICU] = {"001102000060000", "Intensive care bed-day", C_BED, 0, -1, -1, 0, 0, 0, IN, 0, 0, 20000},
    [I_BED_OBSERVATION] = {"001102000070000", "Observation bed-day", C_BED, 0, -1, -1, 0, 0, 0, ANY, 0, 1, 3000},

    [I_NURSING_1] = {"001202000010000", "Level I nursing care (per day)", C_NURS, 0, -1, -1, 0, 0, 0, IN, 0, 0, 3000},
    [I_NURSING_2] = {"001202000020000", "Level II nursing care (per day)", C_NURS, 0, -1, -1, 0, 0, 0, IN, 0, 0, 2000},
    [I_NURSING_3] = {"001202000030000", "Level III nursing care (per day)", C_NURS, 0, -1, -1, 0, 0, 0, IN, 0, 0, 1200},
    [I_NURSING_PROCEDURE] = {"001202000050000", "General nursing procedure", C_NURS, 0, -1, -1, 0, 0, 0, ANY, 0, 1, 800},

    [I_CONSULT_OUT] = {"001101000010000", "Outpatient consultation fee", C_OTHER, 0, -1, -1, 0, 0, 0, OUT, 0, 8, 1000},
    [I_CONSULT_SPECIALIST] = {"001101000020000", "Specialist outpatient consultation fee", C_OTHER, 0, -1, -1, 0, 0, 0, OUT, 0, 3, 3000},
    [I_INPATIENT_FEE] = {"001103000010000", "Inpatient diagnosis fee (per day)", C_OTHER, 0, -1, -1, 0, 0, 0, IN, 0, 0, 1500},
    [I_RECORDS] = {"001104000010000", "Medical records fee", C_OTHER, 0, -1, -1, 0, 0, 0, ANY, 0, 4, 500},
    [I_TRANSFER] = {"001105000010000", "Emergency transfer", C_OTHER, 0, -1, -1, 0, 0, 0, ANY, 0, 1, 10000},

    [I_AMOXICILLIN] = {"XJ01CAA0004B001", "Amoxicillin capsules, box", C_DRUG, 0, -1, -1, 0, 7, 14, ANY, 0, 6, 1500},
    [I_IBUPROFEN] = {"XM01AEA0001B001", "Ibuprofen tablets, box", C_DRUG, 0, 12, -1, 0, 5, 14, ANY, 0, 5, 1200},
    [I_OMEPRAZOLE] = {"XA02BCA0001B001", "Omeprazole capsules, box", C_DRUG, 0, -1, -1, 0, 14, 28, ANY, 0, 4, 2500},
    [I_LORATADINE] = {"XR06AXA0013B001", "Loratadine tablets, box", C_DRUG, 0, -1, -1, 0, 10, 30, ANY, 0, 3, 1800},
    [I_PARACETAMOL_CHILD] = {"XN02BEA0001B002", "Paracetamol drops (children)", C_DRUG, 0, 0, 12, 0, 3, 7, ANY, 0, 5, 1500},
    [I_COUGH_CHILD] = {"XR05DAA0009B002", "Cough syrup (children)", C_DRUG, 0, 0, 14, 0, 5, 7, ANY, 0, 4, 1600},
    [I_AMLODIPINE] = {"XC08CAA0001B001", "Amlodipine tablets, 30 days", C_DRUG, 0, 18, -1, 0, 30, 90, ANY, SCOPE_I10, 0, 3000},
    [I_METFORMIN] = {"XA10BAA0002B001", "Metformin tablets, 30 days", C_DRUG, 0, 18, -1, 0, 30, 90, ANY, SCOPE_E11, 0, 2000},
    [I_INSULIN] = {"XA10AEA0004B001", "Insulin glargine pen, 30 days", C_DRUG, 0, -1, -1, 0, 30, 30, ANY, SCOPE_E11, 3, 18000},
    [I_CEFTRIAXONE] = {"XJ01DDA0004B001", "Ceftriaxone for injection, 1 g", C_DRUG, 0, -1, -1, 4, 0, 0, IN, 0, 6, 3000},
    [I_SALINE] = {"XB05XAA0003B001", "Sodium chloride infusion, 500 ml", C_DRUG, 0, -1, -1, 0, 0, 0, ANY, 0, 8, 500},
    [I_HEPARIN] = {"XB01ABA0001B001", "Heparin sodium injection", C_DRUG, 0, -1, -1, 0, 0, 0, IN, 0, 2, 2500},
    [I_PACLITAXEL] = {"XL01CDA0001B001", "Paclitaxel injection", C_DRUG, 0, -1, -1, 0, 0, 0, IN, SCOPE_CHEMO, 40, 120000},
    [I_TAMSULOSIN] = {"XG04CAA0002B001", "Tamsulosin capsules, box", C_DRUG, 'M', 40, -1, 0, 14, 30, ANY, 0, 1, 4000},
    [I_PROGESTERONE] = {"XG03DAA0004B001", "Progesterone injection", C_DRUG, 'F', 12, 55, 0, 0, 0, ANY, 0, 1, 3000},
    [I_DEXAMETHASONE] = {"XH02ABA0002B001", "Dexamethasone injection", C_DRUG, 0, -1, -1, 0, 0, 0, ANY, 0, 3, 300},
};

/* Items never billed together for one person on one day: a panel and its
 * component, general anaesthesia and local. */
static const int exclusive_defs[][2] = {
    {I_CBC, I_HB}, {I_LIVER, I_ALT}, {I_RENAL, I_CREATININE}, {I_ANAESTHESIA_GENERAL, I_ANAESTHESIA_LOCAL}};
#define N_EXCLUSIVE (sizeof exclusive_defs / sizeof exclusive_defs[0])

/* A category's lines when nothing else fits (any setting, sex, age,
 * diagnosis; none has a daily maximum). */
static const int fallback_def[MS_CAT_COUNT] = {I_SALINE,     I_XRAY_LIMB,   I_URINE,
                                               I_GAUZE,      I_DEBRIDEMENT, I_SURGERY_MINOR,
                                               I_BED_OBSERVATION, I_NURSING_PROCEDURE, I_RECORDS};

#define WINDOW_REPEAT 7      /* repeat_exam's default window */
#define WINDOW_SUPPLY 90     /* excess_supply's default window ... */
#define SUPPLY_MAX 117       /* ... and the most days it lets pass (90 + 30%) */
#define WORLD_DRUG_TRACE 0.7 /* share of the world's drugs whose packages must be scanned */

/* An item by its id (= row of refs.items = row of the knowledge base). */
typedef struct {
    int32_t price;           /* fen a unit */
    int32_t partner;         /* exclusive partner's id, or -1 */
    uint8_t cat, max_qty, pack_days, max_days;
    int8_t sex, min_age, max_age, setting;
    uint8_t scope, trace;
} bitem_t;

typedef struct {
    uint32_t n;
    int32_t *id;
    uint32_t *cum;
} pool_t;

struct gen_bills {
    ms_knowledge_t kb;
    size_t n;
    bitem_t *item;                    /* by item id */
    int32_t def[I_COUNT];             /* catalogue row -> item id */
    int32_t *drug_item;               /* world drug -> item id */
    uint32_t *trace_drugs, ntrace;    /* world drugs with trace_required */
    pool_t pool[MS_CAT_COUNT];        /* the catalogue's items billed naturally, by category */
    char prefix[SCOPE_COUNT][8];      /* SCOPE_* -> diagnosis prefix */
};

const ms_knowledge_t *gen_bills_knowledge(const gen_world_t *w) { return w->bills ? &w->bills->kb : NULL; }

static const char *const rule_plant_names[MS_RP_COUNT] = {
    [MS_RP_SEX] = "rule_sex",
    [MS_RP_AGE] = "rule_age",
    [MS_RP_OVER_QTY] = "rule_over_qty",
    [MS_RP_EXCESS_SUPPLY] = "rule_excess_supply",
    [MS_RP_DUPLICATE] = "rule_duplicate",
    [MS_RP_BED_DAYS] = "rule_bed_days",
    [MS_RP_SCOPE] = "rule_scope",
    [MS_RP_REPEAT_EXAM] = "rule_repeat_exam",
    [MS_RP_SETTING] = "rule_setting",
    [MS_RP_EMPTY_BRUSH] = "rule_empty_brush",
};

const char *ms_rule_plant_name(ms_rule_plant_t t)
{
    return (unsigned)t < MS_RP_COUNT ? rule_plant_names[t] : "unknown";
}

static const char *const bill_hard_names[MS_BHN_COUNT] = {
    [MS_BHN_REPEAT_AFTER_WORSENING] = "repeat_after_worsening",
    [MS_BHN_LONG_PRESCRIPTION] = "long_prescription",
    [MS_BHN_AT_DAILY_MAX] = "at_daily_max",
    [MS_BHN_BED_DAYS_LOS_PLUS_ONE] = "bed_days_los_plus_one",
};

const char *ms_bill_hard_negative_name(ms_bill_hard_negative_t k)
{
    return (unsigned)k < MS_BHN_COUNT ? bill_hard_names[k] : "unknown";
}

void gen_bills_free(gen_world_t *w)
{
    struct gen_bills *B = w->bills;
    if (!B) return;
    ms_knowledge_free(&B->kb);
    free(B->item), free(B->drug_item), free(B->trace_drugs);
    for (int c = 0; c < MS_CAT_COUNT; c++) free(B->pool[c].id), free(B->pool[c].cum);
    free(B);
    w->bills = NULL;
}

/* A code of the catalogue before sorting: a row of defs (src >= 0) or a
 * world drug (src = -1 - drug). */
typedef struct {
    const char *code;
    int32_t src;
} code_src_t;

static int cmp_code_src(const void *a, const void *b)
{
    return strcmp(((const code_src_t *)a)->code, ((const code_src_t *)b)->code);
}

static int cmp_pair(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

/* The 3-character ICD category of a family's diagnoses. */
static void family_prefix(const gen_world_t *w, uint32_t fam, char out[8])
{
    if (fam >= w->nfam) {
        strcpy(out, "Z99");
        return;
    }
    const char *d = w->refs.diagnoses.str[w->diag_map[w->fam[fam].diag_first]];
    snprintf(out, 8, "%.3s", d);
}

static ms_status_t build_catalogue(gen_world_t *w, struct gen_bills *B, ms_rng_t *r)
{
    size_t nd = w->refs.drugs.count, n = I_COUNT + nd;
    code_src_t *cs = malloc(n * sizeof *cs);
    char **names = calloc(nd ? nd : 1, sizeof *names);
    uint8_t *trace = calloc(nd ? nd : 1, 1);
    B->item = calloc(n, sizeof *B->item);
    B->drug_item = malloc((nd ? nd : 1) * sizeof *B->drug_item);
    B->trace_drugs = malloc((nd ? nd : 1) * sizeof *B->trace_drugs);
    B->kb.items = calloc(n, sizeof *B->kb.items);
    w->refs.items.str = calloc(n, sizeof *w->refs.items.str);
    ms_status_t st = MS_OK;
    if (!cs || !names || !trace || !B->item || !B->drug_item || !B->trace_drugs || !B->kb.items ||
        !w->refs.items.str)
        st = ms_error_set(MS_E_NOMEM, "out of memory");
    /* The world's drugs: which must be scanned, and a name. */
    for (size_t d = 0; st == MS_OK && d < nd; d++) {
        trace[d] = (uint8_t)ms_rng_chance(r, WORLD_DRUG_TRACE);
        char name[96];
        snprintf(name, sizeof name, "%s %zu, box of %d days", w->drug[d].chronic ? "Chronic medicine" : "Medicine",
                 d + 1, w->drug[d].chronic ? 14 : 7);
        if (!(names[d] = strdup(name))) st = ms_error_set(MS_E_NOMEM, "out of memory");
    }
    family_prefix(w, w->fam_chemo, B->prefix[SCOPE_CHEMO]);
    family_prefix(w, w->fam_eye, B->prefix[SCOPE_EYE]);
    strcpy(B->prefix[SCOPE_I10], "I10");
    strcpy(B->prefix[SCOPE_E11], "E11");
    if (st == MS_OK) {
        for (size_t i = 0; i < I_COUNT; i++) cs[i] = (code_src_t){defs[i].code, (int32_t)i};
        for (size_t d = 0; d < nd; d++) cs[I_COUNT + d] = (code_src_t){w->refs.drugs.str[d], -1 - (int32_t)d};
        qsort(cs, n, sizeof *cs, cmp_code_src);
    }
    for (size_t i = 0; st == MS_OK && i < n; i++) {
        if (i && !strcmp(cs[i - 1].code, cs[i].code)) {
            st = ms_error_set(MS_E_INTERNAL, "catalogue code '%s' twice", cs[i].code);
            break;
        }
        ms_kb_item_t *k = &B->kb.items[i];
        bitem_t *b = &B->item[i];
        b->partner = -1;
        k->item_code = strdup(cs[i].code);
        w->refs.items.str[i] = strdup(cs[i].code);
        if (cs[i].src >= 0) {
            const def_t *d = &defs[cs[i].src];
            B->def[cs[i].src] = (int32_t)i;
            k->name = strdup(d->name);
            k->category = d->cat;
            k->sex = d->sex == 'M' ? MS_SEX_M : d->sex == 'F' ? MS_SEX_F : MS_KB_NONE;
            k->min_age = d->min_age, k->max_age = d->max_age;
            k->max_qty_milli = d->max_qty ? (int64_t)d->max_qty * 1000 : MS_KB_NONE;
            k->max_days_supply = d->max_days ? d->max_days : MS_KB_NONE;
            k->setting = d->setting;
            if (d->scope) {
                k->diag = calloc(1, sizeof *k->diag);
                if (k->diag && (k->diag[0] = strdup(B->prefix[d->scope]))) k->ndiag = 1;
                else st = ms_error_set(MS_E_NOMEM, "out of memory");
            }
            *b = (bitem_t){d->price, -1, d->cat, d->max_qty, d->pack_days, d->max_days, (int8_t)k->sex,
                           d->min_age, d->max_age, d->setting, d->scope, 0};
        } else {
            size_t dg = (size_t)(-1 - cs[i].src);
            int chronic = w->drug[dg].chronic;
            B->drug_item[dg] = (int32_t)i;
            k->name = names[dg];
            names[dg] = NULL;
            k->category = MS_CAT_DRUG;
            k->sex = MS_KB_NONE;
            k->min_age = k->max_age = MS_KB_NONE;
            k->max_qty_milli = MS_KB_NONE;
            k->max_days_supply = chronic ? 30 : 14;
            k->setting = MS_SETTING_ANY;
            k->trace_required = trace[dg];
            *b = (bitem_t){(int32_t)w->drug[dg].price, -1, MS_CAT_DRUG, 0, (uint8_t)(chronic ? 14 : 7),
                           (uint8_t)(chronic ? 30 : 14), -1, -1, -1, MS_SETTING_ANY, 0, trace[dg]};
        }
        if (!k->item_code || !k->name || !w->refs.items.str[i]) st = ms_error_set(MS_E_NOMEM, "out of memory");
        B->kb.n_items = i + 1;
        w->refs.items.count = i + 1;
    }
    for (size_t d = 0; d < nd; d++) {
        free(names[d]);
        if (st == MS_OK && trace[d]) B->trace_drugs[B->ntrace++] = (uint32_t)d;
    }
    free(names), free(trace), free(cs);
    if (st != MS_OK) return st;
    B->n = n;
    /* The exclusive pairs, as ids a < b, sorted. */
    B->kb.exclusive = malloc(N_EXCLUSIVE * sizeof *B->kb.exclusive);
    if (!B->kb.exclusive) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t k = 0; k < N_EXCLUSIVE; k++) {
        uint32_t a = (uint32_t)B->def[exclusive_defs[k][0]], b = (uint32_t)B->def[exclusive_defs[k][1]];
        B->item[a].partner = (int32_t)b, B->item[b].partner = (int32_t)a;
        B->kb.exclusive[k][0] = a < b ? a : b;
        B->kb.exclusive[k][1] = a < b ? b : a;
    }
    B->kb.n_exclusive = N_EXCLUSIVE;
    qsort(B->kb.exclusive, N_EXCLUSIVE, sizeof *B->kb.exclusive, cmp_pair);
    B->kb.checksum = ms_knowledge_checksum(&B->kb);
    /* What each category bills naturally, by weight. */
    for (int c = 0; c < MS_CAT_COUNT; c++) {
        pool_t *p = &B->pool[c];
        p->id = malloc(I_COUNT * sizeof *p->id);
        p->cum = malloc(I_COUNT * sizeof *p->cum);
        if (!p->id || !p->cum) return ms_error_set(MS_E_NOMEM, "out of memory");
        uint32_t acc = 0;
        for (int i = 0; i < I_COUNT; i++) {
            if (defs[i].cat != c || !defs[i].weight) continue;
            acc += defs[i].weight;
            p->id[p->n] = B->def[i];
            p->cum[p->n++] = acc;
        }
    }
    return MS_OK;
}

/* ------------------------------------------------- who plants, who not */

enum { CLS_VISITS, CLS_STAYS, CLS_PHARMACY, CLS_COUNT };

static int rule_class(int t)
{
    switch (t) {
    case MS_RP_BED_DAYS:
    case MS_RP_REPEAT_EXAM:
        return CLS_STAYS;
    case MS_RP_EXCESS_SUPPLY:
    case MS_RP_EMPTY_BRUSH:
        return CLS_PHARMACY;
    default:
        return CLS_VISITS;
    }
}

static int bhn_class(int k)
{
    return k == MS_BHN_REPEAT_AFTER_WORSENING || k == MS_BHN_BED_DAYS_LOS_PLUS_ONE ? CLS_STAYS : CLS_VISITS;
}

static int bills_free(const gen_world_t *w, uint32_t i)
{
    const gen_inst_t *g = &w->inst[i];
    return g->pattern < 0 && !g->is_partner && g->hard < 0 && g->rule < 0 && g->bill_hard < 0;
}

/* Candidates of a class: tier 0 has the volume to show a rate, tier 1 is
 * the fallback of worlds with few persons per institution. */
static int bills_eligible(const gen_world_t *w, uint32_t i, int cls, int tier)
{
    const ms_institution_t *x = &w->refs.inst[i];
    const gen_inst_t *g = &w->inst[i];
    if (g->tiny) return 0;
    switch (cls) {
    case CLS_VISITS:
        return x->kind != MS_KIND_PHARMACY && x->level <= 2 && w->exp_visits[i] >= (tier ? 5 : 300);
    case CLS_STAYS:
        return (x->kind == MS_KIND_GENERAL || x->kind == MS_KIND_SPECIALTY || x->kind == MS_KIND_PRIMARY) &&
               x->beds >= 1 && x->level <= 2 && w->exp_stays[i] >= (tier ? 2 : 40);
    default:
        return x->kind == MS_KIND_PHARMACY && g->weight > (tier ? 0 : 1);
    }
}

typedef struct {
    uint32_t *v, n[2], off1; /* tier 0 at v[0..n[0]), tier 1 at v[off1..off1 + n[1]) */
} cands_t;

/* Take a free candidate of class cls (tier 0 first), or UINT32_MAX. */
static uint32_t take(const gen_world_t *w, cands_t *c, ms_rng_t *r)
{
    for (int t = 0; t < 2; t++) {
        uint32_t *v = c->v + (t ? c->off1 : 0);
        uint32_t *m = &c->n[t];
        while (*m > 0) {
            uint32_t s = (uint32_t)ms_rng_below(r, *m);
            uint32_t i = v[s];
            v[s] = v[--*m];
            if (bills_free(w, i)) return i;
        }
    }
    return UINT32_MAX;
}

/* The share of an institution's eligible settlements that plant rule t, at
 * intensity 1: a few percent of its lines (5% of its visits or purchases;
 * 30% of its stays, a minority of a hospital's settlements), and at least
 * about 20 of them (15 stays) in the window, so that a small institution
 * plants enough to stand out from the noise.  A repeated exam at a visit
 * needs an exam days before: it is planted at half of those (times the
 * intensity). */
static double plant_base_rate(const gen_world_t *w, uint32_t x, int t)
{
    switch (rule_class(t)) {
    case CLS_STAYS:
        return fmax(0.3, 15.0 / fmax(1.0, w->exp_stays[x]));
    case CLS_VISITS:
        return fmax(0.05, 20.0 / fmax(1.0, w->exp_visits[x] + w->exp_stays[x]));
    default:
        return 0.05;
    }
}

/* The institutions that plant the rule templates (round-robin, like the
 * cheaters, with graded intensities), then the honest look-alikes. */
static ms_status_t plan_rules(gen_world_t *w, ms_rng_t *r)
{
    uint32_t n = w->o.institutions;
    cands_t c[CLS_COUNT];
    memset(c, 0, sizeof c);
    ms_status_t st = MS_OK;
    for (int k = 0; k < CLS_COUNT && st == MS_OK; k++) {
        if (!(c[k].v = malloc((size_t)(n ? n : 1) * sizeof *c[k].v))) {
            st = ms_error_set(MS_E_NOMEM, "out of memory");
            break;
        }
        for (int t = 0; t < 2; t++) {
            for (uint32_t i = 0; i < n; i++)
                if (bills_free(w, i) && bills_eligible(w, i, k, t) && (t == 0 || !bills_eligible(w, i, k, 0)))
                    c[k].v[c[k].n[0] + c[k].n[1]] = i, c[k].n[t]++;
            if (t == 0) c[k].off1 = c[k].n[0];
        }
    }
    double u0 = ms_rng_unit(r);
    if (st == MS_OK && w->o.intensity > 0 && w->o.fraud_share > 0 && w->o.persons > 0) {
        uint32_t want = (uint32_t)llround(0.5 * w->o.fraud_share * n);
        if (want < MS_RP_COUNT) want = MS_RP_COUNT;
        for (uint32_t j = 0; j < want; j++) {
            int t = (int)(j % MS_RP_COUNT);
            uint32_t x = take(w, &c[rule_class(t)], r);
            double q = u0 + j * 0.6180339887498949 + 0.08 * (ms_rng_unit(r) - 0.5);
            q -= floor(q);
            if (x == UINT32_MAX) continue;
            double gi = w->o.intensity * (0.3 + 1.4 * q);
            w->inst[x].rule = (int8_t)t;
            w->inst[x].rule_intensity = (float)gi;
            w->inst[x].rule_rate = (float)fmin(0.6, gi * plant_base_rate(w, x, t));
        }
    }
    if (st == MS_OK && w->o.hard_share > 0 && w->o.persons > 0) {
        uint32_t want = (uint32_t)llround(0.2 * w->o.hard_share * n);
        if (want < MS_BHN_COUNT) want = MS_BHN_COUNT;
        for (uint32_t j = 0; j < want; j++) {
            int k = (int)(j % MS_BHN_COUNT);
            uint32_t x = take(w, &c[bhn_class(k)], r);
            if (x != UINT32_MAX) w->inst[x].bill_hard = (int8_t)k;
        }
    }
    for (int k = 0; k < CLS_COUNT; k++) free(c[k].v);
    return st;
}

ms_status_t gen_bills_build(gen_world_t *w)
{
    if (!(w->bills = calloc(1, sizeof *w->bills))) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_rng_t r;
    ms_rng_seed(&r, ms_rng_key(w->o.seed, 6, 0));
    MS_TRY(build_catalogue(w, w->bills, &r));
    return plan_rules(w, &r);
}

/* ------------------------------------------------------ a person's bills */

/* The person's lines that later lines are checked against. */
typedef struct {
    int32_t item, date;
} seen_t;

typedef struct {
    int32_t item, date, days;
} supply_t;

struct gen_bill_scratch {
    ms_service_item_t *line;          /* the person's lines, as made */
    size_t n, cap;
    seen_t *seen;                     /* exam, lab and surgery lines */
    size_t nseen, cap_seen;
    supply_t *sup;                    /* drug lines with days of supply */
    size_t nsup, cap_sup;
    uint32_t *ord;
    size_t cap_ord;
};

void gen_bill_scratch_free(gen_bill_scratch_t *b)
{
    if (!b) return;
    free(b->line), free(b->seen), free(b->sup), free(b->ord);
    free(b);
}

/* One settlement's billing. */
typedef struct {
    const gen_world_t *w;
    const struct gen_bills *B;
    const gen_person_t *p;
    ms_rng_t *r;
    gen_bill_scratch_t *bs;
    const ms_settlement_t *s;
    const char *diag;
    size_t dlen;
    size_t first;             /* its first line in bs->line */
    uint32_t line_no;
    int inpatient;
    int32_t los;
    int hard;                 /* ms_bill_hard_negative_t of the institution, or -1 */
    int plant;                /* the rule to plant in this settlement, or -1 */
    int planted;              /* it was */
    int32_t op_day;           /* a stay's day of surgery */
    int64_t left[MS_CAT_COUNT];
    int oom;
} bctx_t;

/* Does the item suit this patient, setting and diagnosis? */
static int fits(const bctx_t *bc, int32_t id)
{
    const bitem_t *it = &bc->B->item[id];
    int age = bc->p->age;
    if (it->sex >= 0 && it->sex != bc->p->sex) return 0;
    if ((it->min_age >= 0 && age < it->min_age) || (it->max_age >= 0 && age > it->max_age)) return 0;
    if ((it->setting == IN && !bc->inpatient) || (it->setting == OUT && bc->inpatient)) return 0;
    if (it->scope) {
        const char *pre = bc->B->prefix[it->scope];
        size_t l = strlen(pre);
        if (bc->dlen < l || memcmp(bc->diag, pre, l)) return 0;
    }
    return 1;
}

/* Is the item on this claim's date already? */
static int claim_has(const bctx_t *bc, int32_t id, int32_t date)
{
    const gen_bill_scratch_t *bs = bc->bs;
    for (size_t i = bc->first; i < bs->n; i++)
        if (bs->line[i].item_code == id && bs->line[i].date == date) return 1;
    return 0;
}

/* An exam or lab item of the person's within `window` days of date, either
 * way. */
static int seen_near(const bctx_t *bc, int32_t id, int32_t date, int32_t window)
{
    const gen_bill_scratch_t *bs = bc->bs;
    for (size_t i = 0; i < bs->nseen; i++)
        if (bs->seen[i].item == id && abs(bs->seen[i].date - date) <= window) return 1;
    return 0;
}

/* Days of supply of the item in the 90 days to date (date included). */
static int32_t supply_in_window(const bctx_t *bc, int32_t id, int32_t date)
{
    const gen_bill_scratch_t *bs = bc->bs;
    int32_t sum = 0;
    for (size_t i = 0; i < bs->nsup; i++)
        if (bs->sup[i].item == id && bs->sup[i].date <= date && bs->sup[i].date > date - WINDOW_SUPPLY)
            sum += bs->sup[i].days;
    return sum;
}

/* Honest days of supply of qty units of the item on date: what they last,
 * within the line maximum and the 90-day window; 0 (not stated) when the
 * window is full. */
static int32_t honest_days(const bctx_t *bc, int32_t id, int32_t date, int64_t qty)
{
    const bitem_t *it = &bc->B->item[id];
    if (!it->pack_days || bc->inpatient) return 0;
    int64_t d = qty * it->pack_days;
    if (it->max_days && d > it->max_days) d = it->max_days;
    int32_t room = SUPPLY_MAX - supply_in_window(bc, id, date);
    if (d > room) d = room;
    return d > 0 ? (int32_t)d : 0;
}

/* May the item be billed honestly on date? */
static int usable(const bctx_t *bc, int32_t id, int32_t date, int strict)
{
    const bitem_t *it = &bc->B->item[id];
    if (!fits(bc, id) || claim_has(bc, id, date)) return 0;
    if (!strict) return 1;
    if ((it->cat == MS_CAT_EXAM || it->cat == MS_CAT_LAB) && seen_near(bc, id, date, WINDOW_REPEAT)) return 0;
    if (it->partner >= 0 && (claim_has(bc, it->partner, date) || seen_near(bc, it->partner, date, 0))) return 0;
    if (it->pack_days && !bc->inpatient && supply_in_window(bc, id, date) + it->pack_days > SUPPLY_MAX) return 0;
    return 1;
}

static int32_t pool_pick(const bctx_t *bc, const pool_t *p)
{
    uint32_t x = (uint32_t)ms_rng_below(bc->r, p->cum[p->n - 1]);
    size_t lo = 0, hi = p->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->cum[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return p->id[lo];
}

/* An item of category cat to bill on date: drawn by weight among those
 * usable; with want > 0 (the remainder a last line absorbs), the one of up
 * to three draws whose price is nearest to it. */
static int32_t choose(const bctx_t *bc, int cat, int32_t date, int64_t want)
{
    const pool_t *p = &bc->B->pool[cat];
    int32_t best = -1;
    double bestd = 0;
    int found = 0;
    for (int t = 0; p->n && t < 12 && found < (want > 0 ? 3 : 1); t++) {
        int32_t id = pool_pick(bc, p);
        if (!usable(bc, id, date, 1)) continue;
        found++;
        double d = want > 0 ? fabs(log((double)want / (double)bc->B->item[id].price)) : 0;
        if (best < 0 || d < bestd) best = id, bestd = d;
    }
    for (int strict = 1; best < 0 && strict >= 0; strict--) {
        uint32_t start = p->n ? (uint32_t)ms_rng_below(bc->r, p->n) : 0;
        for (uint32_t k = 0; k < p->n && best < 0; k++) {
            int32_t id = p->id[(start + k) % p->n];
            if (usable(bc, id, date, strict)) best = id;
        }
    }
    return best >= 0 ? best : bc->B->def[fallback_def[cat]];
}

static void add_line(bctx_t *bc, int32_t id, int32_t date, int64_t qty_milli, int64_t unit_price, int64_t amount,
                     int32_t days)
{
    gen_bill_scratch_t *bs = bc->bs;
    const bitem_t *it = &bc->B->item[id];
    if (ms_grow(&bs->line, &bs->cap, bs->n + 1, sizeof *bs->line, 64) != MS_OK) {
        bc->oom = 1;
        return;
    }
    const ms_settlement_t *s = bc->s;
    bs->line[bs->n++] = (ms_service_item_t){
        .settle_id = s->settle_id,
        .line_no = bc->line_no++,
        .person_id = s->person_id,
        .inst_code = s->inst_code,
        .date = date,
        .item_code = id,
        .category = it->cat,
        .qty = qty_milli,
        .unit_price = unit_price,
        .amount = amount,
        .days_supply = days,
        .doctor_id = s->doctor_id,
    };
    if (it->cat == MS_CAT_EXAM || it->cat == MS_CAT_LAB || it->cat == MS_CAT_SURGERY) {
        if (ms_grow(&bs->seen, &bs->cap_seen, bs->nseen + 1, sizeof *bs->seen, 64) != MS_OK) bc->oom = 1;
        else bs->seen[bs->nseen++] = (seen_t){id, date};
    }
    if (days > 0) {
        if (ms_grow(&bs->sup, &bs->cap_sup, bs->nsup + 1, sizeof *bs->sup, 32) != MS_OK) bc->oom = 1;
        else bs->sup[bs->nsup++] = (supply_t){id, date, days};
    }
    bc->left[it->cat] -= amount;
}

/* qty units of the item for exactly `amount` fen: one line at the price
 * that makes qty x price round to it (|error| < half a fen below 100
 * units), or, for 100 units and more, qty - 1 at a price in whole fen and
 * one unit at the rest. */
static void exact_line(bctx_t *bc, int32_t id, int32_t date, int64_t qty, int64_t amount, int32_t days)
{
    if (qty < 1) qty = 1;
    if (qty < 100) {
        int64_t up = (amount * 100 * 2 + qty) / (2 * qty); /* ten-thousandths of a yuan, rounded */
        add_line(bc, id, date, qty * 1000, up, amount, days);
        return;
    }
    int64_t each = amount / qty;
    add_line(bc, id, date, (qty - 1) * 1000, each * 100, each * (qty - 1), days);
    add_line(bc, id, date, 1000, (amount - each * (qty - 1)) * 100, amount - each * (qty - 1), 0);
}

/* Bill qty units of the item at its list price when that leaves something
 * of its category for the other lines; else let it take the rest at the
 * price that makes it exact.  days < 0: the honest days of supply. */
static void put(bctx_t *bc, int32_t id, int32_t date, int64_t qty, int32_t days)
{
    const bitem_t *it = &bc->B->item[id];
    int64_t left = bc->left[it->cat];
    if (left <= 0) return;
    if (days < 0) days = honest_days(bc, id, date, qty);
    int64_t amount = qty * it->price;
    if (amount < left) add_line(bc, id, date, qty * 1000, (int64_t)it->price * 100, amount, days);
    else exact_line(bc, id, date, qty, left, days);
}

/* A line's day: a stay's lines fall on its days (exams and labs in its
 * first days, the operation on its day). */
static int32_t line_day(bctx_t *bc, int cat)
{
    const ms_settlement_t *s = bc->s;
    if (!bc->inpatient || bc->los <= 0) return s->admit_date;
    switch (cat) {
    case MS_CAT_EXAM:
    case MS_CAT_LAB:
        return s->admit_date + (int32_t)ms_rng_below(bc->r, (uint64_t)(bc->los < 2 ? bc->los : 2) + 1);
    case MS_CAT_SURGERY:
        return bc->op_day;
    case MS_CAT_BED:
    case MS_CAT_NURSING:
    case MS_CAT_OTHER:
        return s->admit_date;
    default:
        return s->admit_date + (int32_t)ms_rng_below(bc->r, (uint64_t)bc->los + 1);
    }
}

/* Natural units of a line of the item. */
static int64_t natural_qty(bctx_t *bc, int32_t id)
{
    const bitem_t *it = &bc->B->item[id];
    if (it->max_qty > 0) {
        if (ms_rng_chance(bc->r, 0.004)) return it->max_qty + 1; /* noise: one unit over */
        if (bc->hard == MS_BHN_AT_DAILY_MAX) return it->max_qty;
        return 1 + (int64_t)ms_rng_below(bc->r, it->max_qty < 3 ? it->max_qty : 3);
    }
    if (it->cat == MS_CAT_DRUG) return 1 + (int64_t)ms_rng_below(bc->r, bc->inpatient ? 6 : 2);
    if (it->cat == MS_CAT_CONSUMABLE && it->price < 1000) return 1 + (int64_t)ms_rng_below(bc->r, 4);
    return 1;
}

/* Fill what is left of category cat with up to nlines lines: list-price
 * lines while they leave room, then one line that takes the rest. */
static void fill(bctx_t *bc, int cat, int nlines)
{
    for (int k = 0; k + 1 < nlines && bc->left[cat] > 0; k++) {
        int32_t date = line_day(bc, cat);
        int32_t id = choose(bc, cat, date, 0);
        int64_t qty = natural_qty(bc, id);
        int64_t amount = qty * bc->B->item[id].price;
        if (amount >= bc->left[cat]) break;
        add_line(bc, id, date, qty * 1000, (int64_t)bc->B->item[id].price * 100, amount,
                 honest_days(bc, id, date, qty));
    }
    int64_t rest = bc->left[cat];
    if (rest <= 0) return;
    int32_t date = line_day(bc, cat);
    int32_t id = choose(bc, cat, date, rest);
    add_line(bc, id, date, 1000, rest * 100, rest, honest_days(bc, id, date, 1));
}

/* --------------------------------------------------------- the plants */

/* The person's latest exam line in the 7 days before date (other
 * settlements), or -1. */
static int32_t recent_exam(const bctx_t *bc, int32_t date)
{
    const gen_bill_scratch_t *bs = bc->bs;
    int32_t best = -1, best_date = INT32_MIN;
    for (size_t i = 0; i < bs->n && i < bc->first; i++) {
        const ms_service_item_t *l = &bs->line[i];
        if (l->category == MS_CAT_EXAM && l->date <= date && l->date >= date - WINDOW_REPEAT &&
            l->date >= best_date && fits(bc, l->item_code))
            best = l->item_code, best_date = l->date;
    }
    return best;
}

/* May rule t be planted in this settlement? */
static int plant_possible(const bctx_t *bc, int t)
{
    const ms_settlement_t *s = bc->s;
    int pharmacy = s->visit_type == MS_VISIT_PHARMACY;
    switch (t) {
    case MS_RP_SEX:
    case MS_RP_DUPLICATE:
        return !pharmacy && s->lab > 0;
    case MS_RP_AGE:
        return !pharmacy && s->lab > 0 && bc->p->age > 14;
    case MS_RP_SCOPE: {
        const char *pre = bc->B->prefix[SCOPE_E11];
        return !pharmacy && s->lab > 0 && (bc->dlen < 3 || memcmp(bc->diag, pre, 3));
    }
    case MS_RP_OVER_QTY:
        return !pharmacy && s->treatment > 0;
    case MS_RP_SETTING:
        return bc->inpatient ? s->other > 0 : !pharmacy && s->treatment > 0;
    case MS_RP_REPEAT_EXAM:
        if (bc->inpatient) return s->exam > 0 && bc->los >= 1;
        return !pharmacy && s->exam > 0 && recent_exam(bc, s->admit_date) >= 0;
    case MS_RP_BED_DAYS:
        return bc->inpatient && s->bed > 0;
    case MS_RP_EXCESS_SUPPLY:
        return pharmacy && s->drug > 0;
    case MS_RP_EMPTY_BRUSH:
        return pharmacy && s->drug > 0 && bc->B->ntrace >= 2;
    default:
        return 0;
    }
}


/* A panel and its component on one day (the component first, at its price
 * or half of what is left; the panel takes the rest if it must). */
static int put_pair(bctx_t *bc, int32_t panel, int32_t part, int32_t day)
{
    const bitem_t *it = &bc->B->item[part];
    int64_t left = bc->left[it->cat];
    if (left < 2) return 0;
    if (it->price < left) add_line(bc, part, day, 1000, (int64_t)it->price * 100, it->price, 0);
    else exact_line(bc, part, day, 1, left / 2, 0);
    put(bc, panel, day, 1, 0);
    return 1;
}

/* A category's planted and look-alike lines, before its natural ones. */
static void lab_plants(bctx_t *bc)
{
    const struct gen_bills *B = bc->B;
    int32_t day = line_day(bc, MS_CAT_LAB);
    switch (bc->plant) {
    case MS_RP_SEX: /* a test of the other sex */
        put(bc, B->def[bc->p->sex == MS_SEX_M ? I_HCG : I_PSA], day, 1, 0);
        bc->planted = 1;
        break;
    case MS_RP_AGE: /* a children's test for an adult */
        put(bc, B->def[I_CBC_CHILD], day, 1, 0);
        bc->planted = 1;
        break;
    case MS_RP_SCOPE: /* a diabetic's test, the diagnosis another */
        put(bc, B->def[I_HBA1C], day, 1, 0);
        bc->planted = 1;
        break;
    case MS_RP_DUPLICATE: /* a panel and its component */
        bc->planted = put_pair(bc, B->def[I_CBC], B->def[I_HB], day);
        break;
    default:
        /* Noise: now and then a panel with its component. */
        if (ms_rng_chance(bc->r, 0.002) && usable(bc, B->def[I_CBC], day, 0) && usable(bc, B->def[I_HB], day, 0))
            put_pair(bc, B->def[I_CBC], B->def[I_HB], day);
        break;
    }
}

static void treatment_plants(bctx_t *bc)
{
    const struct gen_bills *B = bc->B;
    int32_t day = line_day(bc, MS_CAT_TREATMENT);
    if (bc->plant == MS_RP_OVER_QTY) {
        int32_t id = B->def[I_IM_INJECTION];
        put(bc, id, day, B->item[id].max_qty + 1 + (int64_t)ms_rng_below(bc->r, 3), 0);
        bc->planted = 1;
    } else if (bc->plant == MS_RP_SETTING && !bc->inpatient) {
        put(bc, B->def[I_CONSULT_INPATIENT], day, 1, 0);
        bc->planted = 1;
    } else if (bc->hard == MS_BHN_AT_DAILY_MAX) {
        /* Every item with a daily maximum billed at exactly it. */
        static const int at_max[] = {I_IM_INJECTION, I_IV_INFUSION, I_NEBULISE, I_NEBULISE_CHILD, I_DRESSING};
        for (int t = 0; t < 3; t++) {
            int32_t id = B->def[at_max[ms_rng_below(bc->r, sizeof at_max / sizeof at_max[0])]];
            if (usable(bc, id, day, 1)) {
                put(bc, id, day, B->item[id].max_qty, 0);
                break;
            }
        }
    }
}

static void exam_plants(bctx_t *bc)
{
    const struct gen_bills *B = bc->B;
    const ms_settlement_t *s = bc->s;
    int noise = !bc->inpatient && bc->plant != MS_RP_REPEAT_EXAM && ms_rng_chance(bc->r, 0.01);
    if ((bc->plant == MS_RP_REPEAT_EXAM || noise) && !bc->inpatient) {
        /* The exam the person had days ago, again. */
        int32_t id = recent_exam(bc, s->admit_date);
        if (id >= 0 && !claim_has(bc, id, s->admit_date)) {
            put(bc, id, s->admit_date, 1, 0);
            bc->planted |= !noise;
        }
        return;
    }
    if (!bc->inpatient) return;
    int repeat = bc->plant == MS_RP_REPEAT_EXAM;
    int worse = bc->hard == MS_BHN_REPEAT_AFTER_WORSENING && bc->los >= 8 && ms_rng_chance(bc->r, 0.6);
    if (!repeat && !worse) return;
    /* The same exam twice: days later within the window (planted), or 8-10
     * days later, once the patient got worse (the look-alike). */
    int32_t a = s->admit_date;
    int32_t b = repeat ? a + 1 + (int32_t)ms_rng_below(bc->r, (uint64_t)(bc->los < 6 ? bc->los : 6))
                       : a + 8 + (int32_t)ms_rng_below(bc->r, (uint64_t)(bc->los < 10 ? bc->los - 7 : 3));
    for (int t = 0; t < 8; t++) {
        int32_t id = choose(bc, MS_CAT_EXAM, a, 0);
        if (!usable(bc, id, a, 1) || !usable(bc, id, b, !repeat) ||
            (!repeat && seen_near(bc, id, b, WINDOW_REPEAT)))
            continue;
        if (2 * (int64_t)B->item[id].price >= bc->left[MS_CAT_EXAM]) continue;
        put(bc, id, a, 1, 0);
        put(bc, id, b, 1, 0);
        bc->planted |= repeat;
        break;
    }
}

/* ---------------------------------------------------------- the bills */

static void bill_purchase(bctx_t *bc, const gen_bill_event_t *ev)
{
    const struct gen_bills *B = bc->B;
    const ms_settlement_t *s = bc->s;
    if (s->drug <= 0 || ev->drug < 0) {
        for (int c = 0; c < MS_CAT_COUNT; c++)
            if (bc->left[c] > 0) fill(bc, c, 1);
        return;
    }
    int32_t id = B->drug_item[ev->drug];
    int64_t n = ev->packages ? ev->packages : 1;
    int32_t day = s->admit_date;
    if (bc->plant == MS_RP_EMPTY_BRUSH) {
        /* The card swiped for another coded drug than the one scanned. */
        for (int t = 0; t < 16; t++) {
            uint32_t d = B->trace_drugs[ms_rng_below(bc->r, B->ntrace)];
            if ((int32_t)d != ev->drug) {
                id = B->drug_item[d];
                bc->planted = 1;
                break;
            }
        }
    }
    const bitem_t *it = &B->item[id];
    int32_t days;
    if (bc->plant == MS_RP_EXCESS_SUPPLY) {
        days = it->max_days + 15 + (int32_t)ms_rng_below(bc->r, 46);
        bc->planted = 1;
    } else if (ev->pattern == MS_PAT_HOARDING) {
        days = (int32_t)(n * it->pack_days); /* a hoarder's packages, as they are */
    } else {
        days = honest_days(bc, id, day, n);
    }
    if (s->drug == n * it->price) add_line(bc, id, day, n * 1000, (int64_t)it->price * 100, s->drug, days);
    else exact_line(bc, id, day, n, s->drug, days);
    for (int c = 0; c < MS_CAT_COUNT; c++)
        if (bc->left[c] > 0) fill(bc, c, 1);
}

static void bill_visit(bctx_t *bc)
{
    const struct gen_bills *B = bc->B;
    int32_t day = bc->s->admit_date;
    /* Drugs: a chronic patient's month (or, at a long-prescription
     * institution, three months when the last were), then the others. */
    if (bc->left[MS_CAT_DRUG] > 0) {
        int32_t chronic = -1;
        if (fits(bc, B->def[I_AMLODIPINE])) chronic = B->def[I_AMLODIPINE];
        else if (fits(bc, B->def[I_METFORMIN])) chronic = B->def[I_METFORMIN];
        if (chronic >= 0) {
            int32_t had = supply_in_window(bc, chronic, day);
            if (bc->hard == MS_BHN_LONG_PRESCRIPTION && had == 0) put(bc, chronic, day, 3, 90);
            else if (ms_rng_chance(bc->r, 0.6) && had + 30 <= SUPPLY_MAX) put(bc, chronic, day, 1, 30);
        }
        fill(bc, MS_CAT_DRUG, 1 + (int)ms_rng_chance(bc->r, 0.4));
    }
    if (bc->left[MS_CAT_EXAM] > 0) {
        exam_plants(bc);
        fill(bc, MS_CAT_EXAM, 1 + (int)ms_rng_chance(bc->r, 0.15));
    }
    if (bc->left[MS_CAT_LAB] > 0) {
        lab_plants(bc);
        fill(bc, MS_CAT_LAB, 1 + (int)ms_rng_chance(bc->r, 0.3));
    }
    if (bc->left[MS_CAT_CONSUMABLE] > 0) fill(bc, MS_CAT_CONSUMABLE, 1);
    if (bc->left[MS_CAT_TREATMENT] > 0) {
        treatment_plants(bc);
        fill(bc, MS_CAT_TREATMENT, 1);
    }
    for (int c = MS_CAT_SURGERY; c < MS_CAT_COUNT; c++)
        if (bc->left[c] > 0) fill(bc, c, 1);
}

/* Bed-days of one line per day type: a day surgery's day (or now and then
 * a first day) under observation, a few in intensive care for the
 * sickest, the rest on the ward. */
static void bill_beds(bctx_t *bc)
{
    const struct gen_bills *B = bc->B;
    const ms_settlement_t *s = bc->s;
    int64_t days = bc->los > 0 ? bc->los : 1;
    if (bc->hard == MS_BHN_BED_DAYS_LOS_PLUS_ONE) days = bc->los + 1;
    if (bc->plant == MS_RP_BED_DAYS) {
        days = bc->los + 2 + (int64_t)ms_rng_below(bc->r, 3);
        bc->planted = 1;
    } else if (ms_rng_chance(bc->r, 0.005)) {
        days = bc->los + 2; /* noise: a day too many */
    }
    int severe = s->group_code >= 0 ? bc->w->refs.groups[s->group_code].severity == 2 : s->n_diag >= 5;
    int64_t icu = 0;
    if (severe && days >= 3 && ms_rng_chance(bc->r, 0.5)) {
        icu = 1 + (int64_t)ms_rng_below(bc->r, days - 1 < 3 ? (uint64_t)(days - 1) : 3);
        if (icu * B->item[B->def[I_BED_ICU]].price >= bc->left[MS_CAT_BED]) icu = 0;
    }
    if (icu) put(bc, B->def[I_BED_ICU], s->admit_date, icu, 0);
    int32_t obs = B->def[I_BED_OBSERVATION];
    if (bc->los == 0 && days == 1) {
        exact_line(bc, obs, s->admit_date, 1, bc->left[MS_CAT_BED], 0);
        return;
    }
    if (days - icu >= 2 && B->item[obs].price < bc->left[MS_CAT_BED] && ms_rng_chance(bc->r, 0.1)) {
        put(bc, obs, s->admit_date, 1, 0);
        days--;
    }
    exact_line(bc, B->def[I_BED_WARD], s->admit_date, days - icu, bc->left[MS_CAT_BED], 0);
}

static void bill_stay(bctx_t *bc)
{
    const struct gen_bills *B = bc->B;
    const ms_settlement_t *s = bc->s;
    int64_t los_days = bc->los > 0 ? bc->los : 1;
    bc->op_day = s->admit_date + (int32_t)ms_rng_below(bc->r, (uint64_t)(bc->los < 2 ? bc->los : 2) + 1);
    if (bc->left[MS_CAT_DRUG] > 0) fill(bc, MS_CAT_DRUG, 2 + (int)ms_rng_below(bc->r, 4));
    if (bc->left[MS_CAT_EXAM] > 0) {
        exam_plants(bc);
        fill(bc, MS_CAT_EXAM, 1 + (int)ms_rng_below(bc->r, 3));
    }
    if (bc->left[MS_CAT_LAB] > 0) {
        lab_plants(bc);
        fill(bc, MS_CAT_LAB, 2 + (int)ms_rng_below(bc->r, 3));
    }
    if (bc->left[MS_CAT_CONSUMABLE] > 0) fill(bc, MS_CAT_CONSUMABLE, 1 + (int)ms_rng_below(bc->r, 2));
    if (bc->left[MS_CAT_TREATMENT] > 0) {
        treatment_plants(bc);
        fill(bc, MS_CAT_TREATMENT, 1 + (int)ms_rng_below(bc->r, 3));
    }
    if (bc->left[MS_CAT_SURGERY] > 0) fill(bc, MS_CAT_SURGERY, 2);
    if (bc->left[MS_CAT_BED] > 0) bill_beds(bc);
    if (bc->left[MS_CAT_NURSING] > 0) {
        int heavy = bc->p->age >= 80 || s->n_diag >= 5;
        int32_t id = B->def[heavy ? I_NURSING_1 : ms_rng_chance(bc->r, 0.2) ? I_NURSING_3 : I_NURSING_2];
        if (ms_rng_chance(bc->r, 0.3)) { /* a catheter care, an enema */
            int32_t day = line_day(bc, MS_CAT_TREATMENT);
            put(bc, B->def[I_NURSING_PROCEDURE], day, 1 + (int64_t)ms_rng_below(bc->r, 3), 0);
        }
        if (bc->left[MS_CAT_NURSING] > 0) exact_line(bc, id, s->admit_date, los_days, bc->left[MS_CAT_NURSING], 0);
    }
    if (bc->left[MS_CAT_OTHER] > 0) {
        if (bc->plant == MS_RP_SETTING) { /* an outpatient fee on a stay */
            put(bc, B->def[I_CONSULT_OUT], s->admit_date, 1, 0);
            bc->planted = 1;
        }
        put(bc, B->def[I_INPATIENT_FEE], s->admit_date, los_days, 0);
        fill(bc, MS_CAT_OTHER, 1);
    }
}

static int cmp_line_idx(const void *a, const void *b, const ms_service_item_t *v)
{
    const ms_service_item_t *x = &v[*(const uint32_t *)a], *y = &v[*(const uint32_t *)b];
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    return x->line_no < y->line_no ? -1 : x->line_no > y->line_no;
}

/* The person's lines by (date, settle_id, line_no): mostly in order
 * already (a stay's lines run over its days), so an insertion sort. */
static void sort_lines(const ms_service_item_t *v, uint32_t *ord, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = ord[i];
        size_t j = i;
        while (j > 0 && cmp_line_idx(&x, &ord[j - 1], v) < 0) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = x;
    }
}

ms_status_t gen_bills_person(const gen_world_t *w, const gen_person_t *p, gen_bill_scratch_t **bsp,
                             const gen_bill_event_t *ev, size_t n, gen_rows_t *rows)
{
    if (!*bsp && !(*bsp = calloc(1, sizeof **bsp))) return ms_error_set(MS_E_NOMEM, "out of memory");
    gen_bill_scratch_t *bs = *bsp;
    bs->n = bs->nseen = bs->nsup = 0;
    ms_rng_t r;
    ms_rng_seed(&r, ms_rng_key(w->o.seed, 7, p->index));
    MS_TRY(ms_grow(&rows->t, &rows->cap_t, rows->nt + n, sizeof *rows->t, 1024));
    bctx_t bc;
    memset(&bc, 0, sizeof bc);
    bc.w = w;
    bc.B = w->bills;
    bc.p = p;
    bc.r = &r;
    bc.bs = bs;
    for (size_t k = 0; k < n && !bc.oom; k++) {
        const ms_settlement_t *s = ev[k].s;
        const gen_inst_t *g = &w->inst[s->inst_code];
        bc.s = s;
        bc.diag = s->diag_main >= 0 ? w->refs.diagnoses.str[s->diag_main] : "";
        bc.dlen = strlen(bc.diag);
        bc.first = bs->n;
        bc.line_no = 1;
        bc.inpatient = s->visit_type == MS_VISIT_INPATIENT;
        bc.los = s->discharge_date - s->admit_date;
        bc.hard = g->bill_hard;
        bc.plant = -1;
        bc.planted = 0;
        bc.op_day = s->admit_date;
        const int64_t cols[MS_CAT_COUNT] = {s->drug, s->exam, s->lab, s->consumable, s->treatment,
                                             s->surgery, s->bed, s->nursing, s->other};
        memcpy(bc.left, cols, sizeof bc.left);
        if (g->rule >= 0 && plant_possible(&bc, g->rule) &&
            ms_rng_chance(&r, bc.inpatient || g->rule != MS_RP_REPEAT_EXAM
                                 ? (double)g->rule_rate
                                 : fmin(0.6, 0.5 * (double)g->rule_intensity)))
            bc.plant = g->rule;
        if (s->visit_type == MS_VISIT_PHARMACY) bill_purchase(&bc, &ev[k]);
        else if (bc.inpatient) bill_stay(&bc);
        else bill_visit(&bc);
        for (int c = 0; c < MS_CAT_COUNT; c++) /* whatever is left (nothing, by construction) */
            if (bc.left[c] > 0) fill(&bc, c, 1);
        if (bc.planted)
            rows->t[rows->nt++] = (struct gen_truth){s->settle_id, s->person_id, (uint32_t)s->inst_code,
                                                     (uint8_t)(GEN_RULE_PATTERN + bc.plant), 0, 0};
    }
    if (bc.oom) return ms_error_set(MS_E_NOMEM, "out of memory billing person %llu", (unsigned long long)p->index);
    MS_TRY(ms_grow(&bs->ord, &bs->cap_ord, bs->n, sizeof *bs->ord, 256));
    MS_TRY(ms_grow(&rows->b, &rows->cap_b, rows->nb + bs->n, sizeof *rows->b, 4096));
    for (size_t i = 0; i < bs->n; i++) bs->ord[i] = (uint32_t)i;
    sort_lines(bs->line, bs->ord, bs->n);
    for (size_t i = 0; i < bs->n; i++) rows->b[rows->nb++] = bs->line[bs->ord[i]];
    return MS_OK;
}

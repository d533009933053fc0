/*
 * ms_i18n.c - the message catalogue (ms_i18n.h): one table, sorted by key,
 * each message in Chinese and English.  A key missing a language is a
 * defect tests/test_i18n.c finds.
 */
#include "ms_i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef ms_msg_entry_t msg_t;

/* Sorted by key (strcmp): ms_msg searches it.  tests/test_i18n.c checks
 * the order, that every message has both languages, and that every
 * indicator a model reports has its words here. */
static const msg_t catalogue[] = {
    {"cost_shift.preadmission_costs.name", "入院前检查外移", "pre-admission exams"},
    {"cost_shift.preadmission_costs.other", "该次门诊之后的住院", "the stay that followed the visit"},
    {"cost_shift.preadmission_costs.reason", "入院前门诊检查检验费用转嫁", "exams billed as outpatient before admission"},
    {"cost_shift.self_pay_share.name", "DRG/DIP 住院自费比例", "self-pay share"},
    {"cost_shift.self_pay_share.reason", "DRG/DIP 住院自费比例过高", "high self-pay on DRG/DIP stays"},
    {"decomposed.readmission_15.name", "15 日内再入院", "readmission within 15 days"},
    {"decomposed.readmission_15.other", "同一参保人在该机构的前一次住院", "the same person's previous stay at the institution"},
    {"decomposed.readmission_15.reason", "15 日内再入院", "readmissions within 15 days"},
    {"decomposed.same_day_readmission.name", "当日出院当日再入院", "same-day readmission"},
    {"decomposed.same_day_readmission.other", "同一参保人在该机构的前一次住院", "the same person's previous stay at the institution"},
    {"decomposed.same_day_readmission.reason", "当日出院当日再入院", "same-day readmissions"},
    {"decomposed.transfer_pingpong.name", "机构间往返转院", "transfer back and forth"},
    {"decomposed.transfer_pingpong.other", "在另一机构的前一次住院", "the stay before it, at the other institution"},
    {"decomposed.transfer_pingpong.reason", "机构间往返转院", "transfers back and forth"},
    {"drugs.first_sale_of_repeated_code.name", "被重复结算追溯码的首次销售", "first sale of a repeated code"},
    {"drugs.first_sale_of_repeated_code.other", "同一追溯码的下一次销售", "the next sale of the same code"},
    {"drugs.first_sale_of_repeated_code.reason", "追溯码被再次销售的首次销售", "first sales of codes sold again"},
    {"drugs.hoarding_buyer_share.name", "囤药购药人", "hoarding buyers"},
    {"drugs.hoarding_buyer_share.reason", "向囤药购药人售药", "drug sales to hoarding buyers"},
    {"drugs.repeated_trace_code.name", "追溯码重复结算", "repeated traceability code"},
    {"drugs.repeated_trace_code.other", "同一追溯码的首次销售", "the first sale of the same code"},
    {"drugs.repeated_trace_code.reason", "药品追溯码重复结算（回流药）", "drugs with a repeated traceability code"},
    {"false_hosp.admission_rate.name", "床均年入院人次", "admissions per bed per year"},
    {"false_hosp.admission_rate.reason", "床均年入院人次", "admissions per bed per year"},
    {"false_hosp.beds_overflow.name", "在院人数超核定床位", "inpatients over approved beds"},
    {"false_hosp.beds_overflow.reason", "峰值在院人数超核定床位", "peak inpatients over approved beds"},
    {"false_hosp.group_admission.name", "外县组团住院", "group admissions"},
    {"false_hosp.group_admission.reason", "外县人员组团住院", "group admissions from other counties"},
    {"false_hosp.minor_diagnosis_admission.name", "轻症入院", "minor-diagnosis admissions"},
    {"false_hosp.minor_diagnosis_admission.reason", "门诊可治的轻症收治住院", "admissions for minor diagnoses"},
    {"false_hosp.overlapping_stay.name", "住院期间异地结算", "overlapping stays"},
    {"false_hosp.overlapping_stay.other", "住院期间在其他机构发生的结算", "the settlement at another institution dated inside the stay"},
    {"false_hosp.overlapping_stay.reason", "住院期间在其他机构有结算（挂床嫌疑）", "overlapping stays"},
    {"false_hosp.treatment_light_stay.name", "只住不治", "treatment-light stays"},
    {"false_hosp.treatment_light_stay.reason", "床位护理费占比高、几乎无治疗的住院", "treatment-light stays"},
    {"kind.clinic", "诊所", "clinic"},
    {"kind.general", "综合医院", "general hospital"},
    {"kind.pharmacy", "定点药店", "pharmacy"},
    {"kind.primary", "基层医疗机构", "primary care"},
    {"kind.specialty", "专科医院", "specialty hospital"},
    {"level.0", "未定级", "unrated"},
    {"level.1", "一级", "level 1"},
    {"level.2", "二级", "level 2"},
    {"level.3", "三级", "level 3"},
    {"model.cost_shift", "费用转嫁", "cost shifting"},
    {"model.decomposed", "分解住院", "decomposed hospitalization"},
    {"model.drugs", "药品倒卖与回流", "drug reselling"},
    {"model.false_hosp", "虚假住院", "false hospitalization"},
    {"model.overload", "超负荷诊疗", "impossible workload"},
    {"model.rules", "规则库（明细单违规）", "rule base (itemised bills)"},
    {"model.upcoding", "高套编码", "DRG/DIP upcoding"},
    {"model.volume", "业务量", "volume"},
    {"overload.overloaded_doctor_days.name", "医师超负荷接诊", "overloaded doctor-days"},
    {"overload.overloaded_doctor_days.reason", "医师单日接诊量超上限", "settlements signed on overloaded doctor-days"},
    {"province.11", "北京", "Beijing"},
    {"province.12", "天津", "Tianjin"},
    {"province.13", "河北", "Hebei"},
    {"province.14", "山西", "Shanxi"},
    {"province.15", "内蒙古", "Inner Mongolia"},
    {"province.21", "辽宁", "Liaoning"},
    {"province.22", "吉林", "Jilin"},
    {"province.23", "黑龙江", "Heilongjiang"},
    {"province.31", "上海", "Shanghai"},
    {"province.32", "江苏", "Jiangsu"},
    {"province.33", "浙江", "Zhejiang"},
    {"province.34", "安徽", "Anhui"},
    {"province.35", "福建", "Fujian"},
    {"province.36", "江西", "Jiangxi"},
    {"province.37", "山东", "Shandong"},
    {"province.41", "河南", "Henan"},
    {"province.42", "湖北", "Hubei"},
    {"province.43", "湖南", "Hunan"},
    {"province.44", "广东", "Guangdong"},
    {"province.45", "广西", "Guangxi"},
    {"province.46", "海南", "Hainan"},
    {"province.50", "重庆", "Chongqing"},
    {"province.51", "四川", "Sichuan"},
    {"province.52", "贵州", "Guizhou"},
    {"province.53", "云南", "Yunnan"},
    {"province.54", "西藏", "Tibet"},
    {"province.61", "陕西", "Shaanxi"},
    {"province.62", "甘肃", "Gansu"},
    {"province.63", "青海", "Qinghai"},
    {"province.64", "宁夏", "Ningxia"},
    {"province.65", "新疆", "Xinjiang"},
    {"province.71", "台湾", "Taiwan"},
    {"province.81", "香港", "Hong Kong"},
    {"province.82", "澳门", "Macao"},
    {"rules.age.name", "限年龄项目", "age-restricted items"},
    {"rules.age.reason", "限年龄项目超出年龄范围", "items billed outside their age range"},
    {"rules.bed_days.name", "床日超住院天数", "bed-days beyond the stay"},
    {"rules.bed_days.reason", "床位费天数超过住院天数", "bed-days beyond the stay"},
    {"rules.duplicate.name", "重复收费", "duplicate charging"},
    {"rules.duplicate.other", "同日收取的互斥项目", "the line it is charged with"},
    {"rules.duplicate.reason", "互斥项目同日重复收费", "mutually exclusive items charged together"},
    {"rules.empty_brush.name", "空刷串换", "empty brushing"},
    {"rules.empty_brush.reason", "应扫码药品无追溯码记录", "drugs billed without their scanned packages"},
    {"rules.excess_supply.name", "超量开药", "excessive prescribing"},
    {"rules.excess_supply.reason", "开药天数超过周期允许量", "drugs prescribed beyond the days they cover"},
    {"rules.over_qty.name", "超日限量", "over the daily maximum"},
    {"rules.over_qty.reason", "单日数量超过上限", "units over the daily maximum"},
    {"rules.repeat_exam.name", "重复检查", "repeated examinations"},
    {"rules.repeat_exam.other", "此前的同项检查", "the earlier examination"},
    {"rules.repeat_exam.reason", "短期内重复检查检验", "repeated examinations"},
    {"rules.scope.name", "超限定支付范围", "outside the payment scope"},
    {"rules.scope.reason", "项目超出限定诊断支付范围", "items outside their payment scope"},
    {"rules.setting.name", "门诊住院限定不符", "wrong setting"},
    {"rules.setting.reason", "限住院/门诊项目用错场景", "items billed in the wrong setting"},
    {"rules.sex.name", "限性别项目", "sex-restricted items"},
    {"rules.sex.reason", "限性别项目用于异性别患者", "items billed for the wrong sex"},
    {"upcoding.case_mix_index.name", "病例组合指数（CMI）", "case-mix index"},
    {"upcoding.case_mix_index.reason", "病例组合指数（CMI）偏高", "case-mix index"},
    {"upcoding.cost_to_weight.name", "费用低于组别水平", "stays cheap for their group"},
    {"upcoding.cost_to_weight.reason", "住院费用明显低于所入组别", "stays cheap for their group"},
    {"upcoding.diagnosis_inflation.name", "例均诊断数", "diagnoses per CC/MCC stay"},
    {"upcoding.diagnosis_inflation.reason", "有并发症组例均诊断数偏多", "diagnoses per CC/MCC stay"},
    {"upcoding.severity_share.name", "并发症/合并症组占比", "CC/MCC share"},
    {"upcoding.severity_share.reason", "并发症/合并症（CC/MCC）组占比偏高", "CC/MCC share"},
    {"upcoding.short_severe_stay.name", "重症组短住院", "short CC/MCC stays"},
    {"upcoding.short_severe_stay.reason", "并发症组住院日过短", "short CC/MCC stays"},
    {"volume.drug_item_amount.name", "追溯码药品金额", "drug item amount"},
    {"volume.drug_items.name", "追溯码药品件数", "drug items"},
    {"volume.fund_payment.name", "基金支付", "fund payment"},
    {"volume.inpatient_stays.name", "住院人次", "inpatient stays"},
    {"volume.outpatient_visits.name", "门诊人次", "outpatient visits"},
    {"volume.persons.name", "就诊人数", "persons"},
    {"volume.pharmacy_purchases.name", "药店购药人次", "pharmacy purchases"},
    {"volume.settlements.name", "结算人次", "settlements"},
    {"volume.total_cost.name", "医疗总费用", "total cost"},
    {"word.admission", "入院", "admission"},
    {"word.drug line", "药品明细", "drug line"},
    {"word.sale", "销售", "sale"},
    {"word.settlement", "结算", "settlement"},
};

#define NMSG (sizeof catalogue / sizeof catalogue[0])

static int cmp_key(const void *k, const void *m) { return strcmp(k, ((const msg_t *)m)->key); }

int ms_lang_parse(const char *s, ms_lang_t *out)
{
    if (s && !strcmp(s, "zh")) *out = MS_LANG_ZH;
    else if (s && !strcmp(s, "en")) *out = MS_LANG_EN;
    else return -1;
    return 0;
}

const char *ms_lang_code(ms_lang_t lang) { return lang == MS_LANG_EN ? "en" : "zh"; }

const char *ms_msg(ms_lang_t lang, const char *key)
{
    const msg_t *m = bsearch(key, catalogue, NMSG, sizeof *catalogue, cmp_key);
    if (!m) m = bsearch(key, ms_report_messages, ms_report_nmessages, sizeof *ms_report_messages, cmp_key);
    if (!m) return NULL;
    return lang == MS_LANG_EN ? m->en : m->zh;
}

const char *ms_msg_or(ms_lang_t lang, const char *key, const char *fallback)
{
    const char *s = ms_msg(lang, key);
    return s ? s : fallback;
}

static const char *indicator_msg(ms_lang_t lang, const ms_model_t *m, int ind, const char *what, const char *fallback)
{
    char key[160];
    snprintf(key, sizeof key, "%s.%s.%s", m->name, m->indicators[ind].name, what);
    return ms_msg_or(lang, key, fallback);
}

const char *ms_msg_indicator(ms_lang_t lang, const ms_model_t *m, int ind)
{
    return indicator_msg(lang, m, ind, "name", m->indicators[ind].name);
}

const char *ms_msg_reason(ms_lang_t lang, const ms_model_t *m, int ind)
{
    const ms_indicator_t *i = &m->indicators[ind];
    return indicator_msg(lang, m, ind, "reason", i->reason ? i->reason : i->name);
}

const char *ms_msg_other(ms_lang_t lang, const ms_model_t *m, int ind)
{
    if (!m->indicators[ind].other) return NULL;
    return indicator_msg(lang, m, ind, "other", m->indicators[ind].other);
}

const char *ms_msg_model(ms_lang_t lang, const ms_model_t *m)
{
    char key[96];
    snprintf(key, sizeof key, "model.%s", m->name);
    return ms_msg_or(lang, key, m->name);
}

const char *ms_msg_level(ms_lang_t lang, int level)
{
    char key[32];
    snprintf(key, sizeof key, "level.%d", level);
    return ms_msg_or(lang, key, "");
}

const char *ms_msg_kind(ms_lang_t lang, const char *kind)
{
    char key[64];
    snprintf(key, sizeof key, "kind.%s", kind);
    return ms_msg_or(lang, key, kind);
}

const char *ms_msg_province(ms_lang_t lang, int region)
{
    char key[32];
    snprintf(key, sizeof key, "province.%02d", region / 10000 % 100);
    return ms_msg_or(lang, key, "");
}

size_t ms_msg_count(void) { return NMSG + ms_report_nmessages; }

const char *ms_msg_key(size_t i)
{
    if (i < NMSG) return catalogue[i].key;
    i -= NMSG;
    return i < ms_report_nmessages ? ms_report_messages[i].key : NULL;
}

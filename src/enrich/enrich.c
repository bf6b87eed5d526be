/*
 * enrich: post + matches -> polarity, priority, respond_by and the event
 * JSON (schema and scoring rules in enrich.h).
 *
 * Priority is computed exactly, in integer tenths, then rounded to the
 * nearest integer with halves going up. Every term is a multiple of 0.1
 * except reach, and only floor(10 * reach) can change the rounded sum, so
 * reach is taken from a table of follower counts where 40 * log10(f + 1)
 * crosses each integer. Why not double arithmetic: 30 * 0.3 is
 * 8.999999999999998 in doubles, so truncation would be wrong and rounding
 * would depend on the platform's log10 at ties; and libm is not needed.
 *
 * Strings that come from the post go through jbuf_str_bytes() (a post
 * parser bug must not turn into invalid JSON downstream); strings from the
 * rule set are valid UTF-8 (jansson checked them) and use jbuf_str().
 *
 * Cost: ~one pass over the post text for the shouting signals, then
 * appending the event; no allocation once the jbuf has grown.
 */
#include "enrich/enrich.h"
#include "model/model.h"

#include <string.h>

#include "base/base_time.h"
#include "text/text.h"

/*
 * An event is ~40 appends of a few bytes; through jbuf_raw() each is a call
 * plus a reserve check, ~15% of the event's cost. The literal's length is a
 * constant here, so with room already there the copy is a few moves.
 */
static inline int enrich_raw(jbuf *b, const char *s, size_t n) {
    if (b->cap - b->len >= n) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return 0;
    }
    return jbuf_raw(b, s, n);
}

#define ENRICH_LIT(b, s) enrich_raw((b), (s), sizeof(s) - 1)
#define ENRICH_STR(x) #x
#define ENRICH_XSTR(x) ENRICH_STR(x)

/*
 * ENRICH_REACH_AT[j - 1] is the smallest follower count + 1 for which
 * 40 * log10(followers + 1) >= j, i.e. the smallest x with x^40 >= 10^j,
 * for j = 1..200 (200 tenths = the 20-point cap). Made with exact integer
 * arithmetic (Python: min x such that x**40 >= 10**j).
 */
static const int32_t ENRICH_REACH_AT[200] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5,
    5, 5, 6, 6, 6, 6, 7, 7, 8, 8, 8, 9, 9, 10, 10, 11, 12, 12, 13, 14, 15, 15,
    16, 17, 18, 19, 20, 22, 23, 24, 26, 27, 29, 30, 32, 34, 36, 38, 40, 43,
    45, 48, 51, 54, 57, 60, 64, 67, 71, 75, 80, 85, 90, 95, 100, 106, 113,
    119, 126, 134, 142, 150, 159, 168, 178, 189, 200, 212, 224, 238, 252, 267,
    282, 299, 317, 335, 355, 376, 399, 422, 447, 474, 502, 531, 563, 596, 631,
    669, 708, 750, 795, 842, 892, 945, 1000, 1060, 1123, 1189, 1259, 1334,
    1413, 1497, 1585, 1679, 1779, 1884, 1996, 2114, 2239, 2372, 2512, 2661,
    2819, 2986, 3163, 3350, 3549, 3759, 3982, 4217, 4467, 4732, 5012, 5309,
    5624, 5957, 6310, 6684, 7080, 7499, 7944, 8414, 8913, 9441, 10000, 10593,
    11221, 11886, 12590, 13336, 14126, 14963, 15849, 16789, 17783, 18837,
    19953, 21135, 22388, 23714, 25119, 26608, 28184, 29854, 31623, 33497,
    35482, 37584, 39811, 42170, 44669, 47316, 50119, 53089, 56235, 59567,
    63096, 66835, 70795, 74990, 79433, 84140, 89126, 94407, 100000,
};

/* floor(10 * min(20, 4 * log10(followers + 1))), exactly. */
static int enrich_reach_tenths(int64_t followers) {
    if (followers <= 0)
        return 0;
    if (followers >= 100000 - 1)
        return 200;
    int32_t x = (int32_t)followers + 1;
    /* Count the thresholds <= x: first index whose threshold exceeds x. */
    int lo = 0, hi = 200;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ENRICH_REACH_AT[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void enrich_config_default(enrich_config *cfg) {
    static const enrich_target defaults[] = {
        {80, 15}, {50, 30}, {20, 60}, {0, 240},
    };
    memset(cfg, 0, sizeof *cfg);
    memcpy(cfg->targets, defaults, sizeof defaults);
    cfg->n_targets = (int)(sizeof defaults / sizeof defaults[0]);
}

polarity enrich_polarity(const ruleset *rs, const match_result *m) {
    /* Indexed by the polarity enum: neutral, praise, question, complaint. */
    int64_t score[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < m->n_rules && i < MATCH_MAX_RULES; i++) {
        const rules_rule *r = ruleset_rule(rs, m->rules[i]);
        if (!r || r->polarity <= POLARITY_NEUTRAL ||
            r->polarity > POLARITY_COMPLAINT)
            continue;
        score[r->polarity] += (int64_t)r->severity + 1;
    }
    /* A trained model decides where no explicit complaint or praise rule
     * did: the rules say what the analyst knows for sure, the model what
     * the team's own labels taught it, and it replaces the lexicon. */
    /* A complaint needs someone to complain to: with the lexicon's
     * complaint_needs_target, a post that names no brand and @-mentions no
     * account (sports, politics, a bad day) is not one, whoever says so. */
    const rules_lexicon *lx = ruleset_lexicon(rs);
    bool untargeted = lx->complaint_needs_target && m->n_brands == 0 && !m->addressed;
    bool model_says_not_complaint = false;
    if (m->model_class >= 0 && ruleset_model(rs) && score[POLARITY_COMPLAINT] == 0 &&
        score[POLARITY_PRAISE] == 0) {
        polarity p = ruleset_model_polarity(rs, (uint32_t)m->model_class);
        if (p == POLARITY_COMPLAINT && untargeted)
            p = POLARITY_NEUTRAL;
        if (p != POLARITY_NEUTRAL || ruleset_model_has_praise(rs))
            return p == POLARITY_NEUTRAL && score[POLARITY_QUESTION] > 0
                       ? POLARITY_QUESTION : p;
        /* A complaint-only model (complaint / not_complaint, the shipped
         * one) settles whether a post is a complaint, not whether it is
         * praise: the lexicon's positive side still decides that. */
        model_says_not_complaint = true;
    }
    /* The lexicon is evidence beside the rules, in the same unit: a
     * valence of -3 with weight 10 weighs like a severity-29 complaint
     * rule, so a strong explicit rule still outweighs faint sentiment. */
    double v = m->valence;
    if (model_says_not_complaint && v < 0)
        v = 0;
    if (lx->present && (v >= lx->threshold || -v >= lx->threshold)) {
        int64_t pts = (int64_t)((v < 0 ? -v : v) * lx->weight + 0.5);
        score[v < 0 ? POLARITY_COMPLAINT : POLARITY_PRAISE] += pts;
    }
    if (untargeted)
        score[POLARITY_COMPLAINT] = 0;
    /* Ties go to complaint, then question, then praise: scan in that
     * order and only a strictly larger score wins. */
    polarity best = POLARITY_NEUTRAL;
    int64_t best_score = 0;
    static const polarity order[] = {POLARITY_COMPLAINT, POLARITY_QUESTION,
                                     POLARITY_PRAISE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (score[order[i]] > best_score) {
            best = order[i];
            best_score = score[order[i]];
        }
    }
    return best;
}

int enrich_priority(const ruleset *rs, const post *p, const match_result *m,
                    polarity pol) {
    int tenths;
    switch (pol) {
    case POLARITY_COMPLAINT: tenths = 400; break;
    case POLARITY_QUESTION: tenths = 250; break;
    case POLARITY_PRAISE: tenths = 50; break;
    default: tenths = 0; break;
    }

    int max_sev = 0;
    for (uint32_t i = 0; i < m->n_rules && i < MATCH_MAX_RULES; i++) {
        const rules_rule *r = ruleset_rule(rs, m->rules[i]);
        if (r && r->severity > max_sev)
            max_sev = r->severity;
    }
    if (max_sev > 100)
        max_sev = 100;
    tenths += 3 * max_sev; /* severity * 0.3, in tenths */

    tenths += enrich_reach_tenths(p->followers);
    if (p->verified)
        tenths += 100;

    text_shout ts = m->shout_known ? m->shout : text_shouting(p->text.ptr, p->text.len);
    if (ts.caps_ratio >= 0.6)
        tenths += 100;
    if (ts.max_bang_run >= 3)
        tenths += 50;

    int priority = (tenths + 5) / 10;
    return priority > 100 ? 100 : priority;
}

int enrich_respond_by(const enrich_config *cfg, const post *p, int priority,
                      int64_t now, int64_t *at) {
    int64_t base = p->has_created_at ? p->created_at_epoch : now;
    int n = cfg->n_targets < ENRICH_MAX_TARGETS ? cfg->n_targets
                                                : ENRICH_MAX_TARGETS;
    for (int i = 0; i < n; i++) {
        const enrich_target *t = &cfg->targets[i];
        if (priority >= t->min_priority) {
            *at = base + (int64_t)t->respond_minutes * 60;
            return 1;
        }
    }
    return 0;
}

/* A post field as a JSON string, or null when empty. */
static int enrich_str_or_null(jbuf *out, strview v) {
    if (v.len == 0)
        return ENRICH_LIT(out, "null");
    return jbuf_str_bytes(out, v.ptr, v.len);
}

static int enrich_rule_str(jbuf *out, const char *s) {
    return s ? jbuf_str(out, s, strlen(s)) : ENRICH_LIT(out, "\"\"");
}

/* True when rule i of m has the same tag as an earlier matched rule: labels
 * list each tag once. O(n^2) over at most MATCH_MAX_RULES short strings. */
static int enrich_tag_seen(const ruleset *rs, const match_result *m,
                           uint32_t i, const char *tag) {
    for (uint32_t k = 0; k < i; k++) {
        const rules_rule *r = ruleset_rule(rs, m->rules[k]);
        if (r && r->tag && strcmp(r->tag, tag) == 0)
            return 1;
    }
    return 0;
}

/* ,"key":"value" for a link the post states; nothing when it does not. */
static int enrich_link(jbuf *out, const char *key, size_t key_len, strview v) {
    if (v.len == 0)
        return 0;
    return enrich_raw(out, key, key_len) | jbuf_str_bytes(out, v.ptr, v.len);
}

/* v with two decimals ("-3.25", "0.00"), without printf on the hot path. */
static int enrich_fixed2(jbuf *out, double v) {
    int64_t c = (int64_t)(v * 100 + (v < 0 ? -0.5 : 0.5));
    int rc = 0;
    if (c < 0) {
        rc |= ENRICH_LIT(out, "-");
        c = -c;
    }
    rc |= jbuf_int(out, c / 100);
    char frac[3] = {(char)('.'), (char)('0' + c % 100 / 10), (char)('0' + c % 10)};
    rc |= jbuf_raw(out, frac, 3);
    return rc;
}

int enrich_event(const enrich_config *cfg, const ruleset *rs, const post *p,
                 const match_result *m, int64_t now, jbuf *out,
                 enrich_summary *sum) {
    size_t start = out->len;
    uint32_t n_rules = m->n_rules < MATCH_MAX_RULES ? m->n_rules : MATCH_MAX_RULES;
    uint32_t n_brands =
        m->n_brands < MATCH_MAX_BRANDS ? m->n_brands : MATCH_MAX_BRANDS;
    int rc = 0;

    polarity pol = enrich_polarity(rs, m);
    int priority = enrich_priority(rs, p, m, pol);
    /* a flag, not a -1 sentinel: posts before 1970 have negative times */
    int64_t respond_by = 0;
    int has_respond_by = 0;
    if (pol == POLARITY_COMPLAINT || pol == POLARITY_QUESTION)
        has_respond_by = enrich_respond_by(cfg, p, priority, now, &respond_by);

    /* A failed append leaves the buffer as it was, so the calls below can
     * run on and the event is cut off once, at the end. */
    rc |= ENRICH_LIT(out, "{\"schema_version\":" ENRICH_XSTR(ENRICH_SCHEMA_VERSION) ",\"id\":");
    rc |= jbuf_str_bytes(out, p->id.ptr, p->id.len);
    rc |= ENRICH_LIT(out, ",\"platform\":");
    rc |= jbuf_str_bytes(out, p->platform.ptr, p->platform.len);
    rc |= ENRICH_LIT(out, ",\"created_at\":");
    rc |= enrich_str_or_null(out, p->created_at);
    rc |= ENRICH_LIT(out, ",\"author\":{\"handle\":");
    rc |= jbuf_str_bytes(out, p->handle.ptr, p->handle.len);
    rc |= ENRICH_LIT(out, ",\"followers\":");
    rc |= jbuf_int(out, p->followers);
    rc |= ENRICH_LIT(out, ",\"verified\":");
    rc |= jbuf_bool(out, p->verified);
    rc |= ENRICH_LIT(out, "},\"lang\":");
    rc |= enrich_str_or_null(out, p->lang);
    rc |= ENRICH_LIT(out, ",\"text\":");
    rc |= jbuf_str_bytes(out, p->text.ptr, p->text.len);
    rc |= ENRICH_LIT(out, ",\"is_retweet\":");
    rc |= jbuf_bool(out, p->is_retweet);
    rc |= ENRICH_LIT(out, ",\"is_reply\":");
    rc |= jbuf_bool(out, p->is_reply);
    rc |= enrich_link(out, ",\"url\":", sizeof(",\"url\":") - 1, p->url);
    rc |= enrich_link(out, ",\"conversation_id\":", sizeof(",\"conversation_id\":") - 1,
                      p->conversation_id);
    rc |= enrich_link(out, ",\"reply_to\":", sizeof(",\"reply_to\":") - 1, p->reply_to);

    rc |= ENRICH_LIT(out, ",\"brands\":[");
    int first = 1;
    for (uint32_t i = 0; i < n_brands; i++) {
        const rules_brand *b = ruleset_brand(rs, m->brands[i]);
        if (!b)
            continue;
        rc |= first ? ENRICH_LIT(out, "{\"id\":") : ENRICH_LIT(out, ",{\"id\":");
        rc |= enrich_rule_str(out, b->id);
        rc |= ENRICH_LIT(out, ",\"name\":");
        rc |= enrich_rule_str(out, b->name);
        rc |= ENRICH_LIT(out, "}");
        first = 0;
    }

    rc |= ENRICH_LIT(out, "],\"polarity\":\"");
    rc |= jbuf_cstr(out, polarity_name(pol));
    rc |= ENRICH_LIT(out, "\"");
    if (ruleset_lexicon(rs)->present) {
        rc |= ENRICH_LIT(out, ",\"valence\":");
        rc |= enrich_fixed2(out, m->valence);
    }
    if (m->model_class >= 0 && ruleset_model(rs)) {
        const struct model *md = ruleset_model(rs);
        rc |= ENRICH_LIT(out, ",\"model\":{\"version\":\"");
        rc |= jbuf_cstr(out, model_version(md));
        rc |= ENRICH_LIT(out, "\",\"class\":");
        rc |= enrich_rule_str(out, model_class(md, (size_t)m->model_class));
        rc |= ENRICH_LIT(out, ",\"score\":");
        rc |= enrich_fixed2(out, m->model_prob);
        rc |= ENRICH_LIT(out, "}");
    }
    rc |= ENRICH_LIT(out, ",\"labels\":[");
    first = 1;
    for (uint32_t i = 0; i < n_rules; i++) {
        const rules_rule *r = ruleset_rule(rs, m->rules[i]);
        if (!r || !r->tag || enrich_tag_seen(rs, m, i, r->tag))
            continue;
        if (!first)
            rc |= ENRICH_LIT(out, ",");
        rc |= enrich_rule_str(out, r->tag);
        first = 0;
    }

    rc |= ENRICH_LIT(out, "],\"matched_rules\":[");
    first = 1;
    for (uint32_t i = 0; i < n_rules; i++) {
        const rules_rule *r = ruleset_rule(rs, m->rules[i]);
        if (!r)
            continue;
        rc |= first ? ENRICH_LIT(out, "{\"id\":") : ENRICH_LIT(out, ",{\"id\":");
        rc |= enrich_rule_str(out, r->id);
        rc |= ENRICH_LIT(out, ",\"tag\":");
        rc |= enrich_rule_str(out, r->tag);
        rc |= ENRICH_LIT(out, "}");
        first = 0;
    }

    rc |= ENRICH_LIT(out, "],\"priority\":");
    rc |= jbuf_int(out, priority);
    if (has_respond_by) {
        char ts[BASE_TIME_ISO_LEN];
        base_time_iso8601(ts, respond_by, -1);
        rc |= ENRICH_LIT(out, ",\"respond_by\":\"");
        rc |= jbuf_raw(out, ts, sizeof ts);
        rc |= ENRICH_LIT(out, "\"");
    }
    rc |= ENRICH_LIT(out, ",\"rules_version\":");
    rc |= enrich_rule_str(out, ruleset_version(rs));
    {
        char ts[BASE_TIME_ISO_LEN];
        base_time_iso8601(ts, now, -1);
        rc |= ENRICH_LIT(out, ",\"processed_at\":\"");
        rc |= jbuf_raw(out, ts, sizeof ts);
    }
    rc |= ENRICH_LIT(out, "\"}");

    if (rc != 0) {
        out->len = start;
        return -1;
    }
    if (sum) {
        sum->polarity = pol;
        sum->priority = priority;
        sum->respond_by = respond_by;
        sum->has_respond_by = has_respond_by != 0;
        sum->first_brand = n_brands > 0 ? (int)m->brands[0] : -1;
        sum->n_brands = n_brands;
        sum->created_at = p->has_created_at ? p->created_at_epoch : 0;
        sum->has_created_at = p->has_created_at;
    }
    return 0;
}

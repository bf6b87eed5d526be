/*
 * gen_author: the people who post. An author is a pure function of (salt,
 * index), so the generator keeps no table: a pool of a million authors costs
 * nothing, and one who posts twice has the same name, bio and reach both
 * times.
 *
 * Reach is heavy-tailed as on real networks: most accounts under 500
 * followers, a few percent in the 10k-1M range, one in a thousand above
 * 10M; about 2% verified, mostly among the large ones. No libm: tiers and
 * integer skew keep the bytes identical on every machine.
 */
#include "gen/gen_int.h"

typedef struct gen_name {
    const char *display; /* as shown, any script */
    const char *ascii;   /* for the username */
} gen_name;

static const gen_name gen_names_en[] = {
    {"Jenny", "jenny"}, {"Mike", "mike"}, {"Sarah", "sarah"}, {"Chris", "chris"},
    {"Jessica", "jess"}, {"David", "david"}, {"Ashley", "ashley"}, {"Brian", "brian"},
    {"Megan", "megan"}, {"Tyler", "tyler"}, {"Lauren", "lauren"}, {"Marcus", "marcus"},
    {"Olivia", "olivia"}, {"Ethan", "ethan"}, {"Nicole", "nicole"}, {"Ryan", "ryan"},
    {"Kayla", "kayla"}, {"Andre", "andre"}, {"Rachel", "rachel"}, {"Kevin", "kevin"},
    {"Priya", "priya"}, {"Wei", "wei"}, {"Aisha", "aisha"}, {"Tom", "tom"},
};
static const gen_name gen_names_es[] = {
    {"Carlos", "carlos"}, {"Lucía", "lucia"}, {"Javier", "javi"}, {"Sofía", "sofia"},
    {"Miguel", "miguel"}, {"Valentina", "vale"}, {"Alejandro", "alex"}, {"Camila", "cami"},
};
static const gen_name gen_names_pt[] = {
    {"João", "joao"}, {"Ana", "ana"}, {"Pedro", "pedro"}, {"Beatriz", "bia"},
};
static const gen_name gen_names_fr[] = {
    {"Léa", "lea"}, {"Étienne", "etienne"}, {"Chloé", "chloe"}, {"Julien", "julien"},
};
static const gen_name gen_names_ja[] = {
    {"さくら", "sakura"}, {"田中 太郎", "tanaka"}, {"ゆうき", "yuki"},
    {"はると", "haruto"}, {"佐藤 花子", "hanako"}, {"けんた", "kenta"},
};
static const gen_name gen_names_ar[] = {
    {"محمد", "mohammed"}, {"فاطمة", "fatima"}, {"أحمد", "ahmed"},
    {"نور", "noor"}, {"Omar Al-Farsi", "omar"}, {"ليلى", "layla"},
};
static const gen_name gen_surnames[] = {
    {"Kowalski", "kowalski"}, {"Nguyen", "nguyen"}, {"Smith", "smith"},
    {"Johnson", "johnson"}, {"Patel", "patel"}, {"Garcia", "garcia"},
    {"Williams", "williams"}, {"Brown", "brown"}, {"Lee", "lee"},
    {"Martínez", "martinez"}, {"O'Brien", "obrien"}, {"Rossi", "rossi"},
    {"Müller", "muller"}, {"Kim", "kim"}, {"Cohen", "cohen"}, {"Okafor", "okafor"},
};
static const char *const gen_name_flair[] = {
    " 🌻", " ✨", " 🏳️‍🌈", " 🇺🇸", " ☕", " 🐶", " ⚽", " 🎧",
};

static const char *const gen_bio_bits[] = {
    "dad of 3", "mom of 2", "coffee addict", "Eagles fan", "software engineer",
    "opinions my own", "she/her", "he/him", "runner 🏃", "Philly born and raised",
    "dog mom 🐶", "photographer 📷", "living my best life", "views are my own",
    "teacher", "nurse", "gamer 🎮", "foodie", "travel ✈️", "music lover 🎶",
    "Tweets about tech and tacos", "small business owner", "RTs are not endorsements",
    "Go Birds", "plant parent 🌱", "grad student", "retired and loving it",
    "sports, coffee, repeat", "amateur chef", "Chicago ➡️ Denver", "UX designer",
    "proud veteran", "cat person 🐱", "bookworm 📚", "marketing @ a startup",
};
static const char *const gen_locations[] = {
    "Philadelphia, PA", "Chicago, IL", "Brooklyn, NY", "Denver, CO", "Austin, TX",
    "Seattle, WA", "Atlanta, GA", "Los Angeles, CA", "somewhere", "Boston, MA",
    "Madrid, España", "東京", "Dubai", "São Paulo", "Paris, France", "Miami, FL",
    "the internet", "Toronto, Ontario", "",
};

static size_t gen_cat(char *dst, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (at + n >= cap)
        return at;
    memcpy(dst + at, s, n);
    return at + n;
}

/* A skewed draw in [lo, hi): the product of two uniforms leans to lo, as
 * follower counts inside a tier do. Multiply-shift, no division. */
static int64_t gen_skewed(gen_rng *r, int64_t lo, int64_t hi)
{
    uint64_t a = gen_rng_below(r, (uint32_t)(hi - lo)); /* spans fit 32 bits */
    return lo + (int64_t)((a * (gen_rng_next(r) >> 32)) >> 32);
}

void gen_author_make(uint64_t salt, uint64_t idx, gen_author *a)
{
    gen_rng r = {salt ^ (idx * 0xD1B54A32D192ED03ull)};
    uint32_t u;
    const gen_name *first, *last;
    size_t n;

    gen_rng_next(&r);
    a->seed = gen_rng_next(&r);

    u = gen_rng_below(&r, 1000);
    a->lang = u < 850 ? GEN_LANG_EN : u < 900 ? GEN_LANG_ES : u < 935 ? GEN_LANG_JA
            : u < 960 ? GEN_LANG_AR : u < 980 ? GEN_LANG_PT : GEN_LANG_FR;

    /* Account age: 2007..2017, before the generator's clock starts (2018),
     * so no author posts before they exist. Old accounts carry Twitter's old
     * small ids, newer ones snowflake ids of their creation time. */
    a->created_s = 1167609600 + (int64_t)gen_rng_below(&r, 11u * 365u * 86400u);
    if (a->created_s < 1420070400) /* before 2015 */
        a->id = 10000000ull + idx * 2600ull + gen_rng_below(&r, 2600);
    else
        a->id = ((uint64_t)(a->created_s * 1000 - 1288834974657ll) << 22) |
                (idx & 0x3fffffull);

    /* Reach, heavy-tailed by tier. */
    u = gen_rng_below(&r, 1000);
    if (u < 550) {
        a->followers = gen_skewed(&r, 0, 500);
        a->verified = gen_rng_below(&r, 1000) < 5;
    } else if (u < 800) {
        a->followers = gen_skewed(&r, 500, 3000);
        a->verified = gen_rng_below(&r, 1000) < 5;
    } else if (u < 920) {
        a->followers = gen_skewed(&r, 3000, 10000);
        a->verified = gen_rng_below(&r, 1000) < 5;
    } else if (u < 980) {
        a->followers = gen_skewed(&r, 10000, 100000);
        a->verified = gen_rng_below(&r, 100) < 10;
    } else if (u < 997) {
        a->followers = gen_skewed(&r, 100000, 1000000);
        a->verified = gen_rng_below(&r, 100) < 40;
    } else if (u < 999) {
        a->followers = gen_skewed(&r, 1000000, 10000000);
        a->verified = gen_rng_below(&r, 100) < 80;
    } else {
        a->followers = gen_skewed(&r, 10000000, 60000000);
        a->verified = gen_rng_below(&r, 100) < 95;
    }
    a->following = gen_skewed(&r, 20, 2500);
    a->posts = gen_skewed(&r, 30, 120000);
    a->listed = a->followers / (50 + gen_rng_below(&r, 200));
    a->likes = gen_skewed(&r, 0, 90000);

    switch (a->lang) {
    case GEN_LANG_ES: first = &GEN_PICK(&r, gen_names_es); break;
    case GEN_LANG_PT: first = &GEN_PICK(&r, gen_names_pt); break;
    case GEN_LANG_FR: first = &GEN_PICK(&r, gen_names_fr); break;
    case GEN_LANG_JA: first = &GEN_PICK(&r, gen_names_ja); break;
    case GEN_LANG_AR: first = &GEN_PICK(&r, gen_names_ar); break;
    default: first = &GEN_PICK(&r, gen_names_en); break;
    }
    last = &GEN_PICK(&r, gen_surnames);

    /* Display name. */
    n = gen_cat(a->name, 0, sizeof(a->name), first->display);
    u = gen_rng_below(&r, 10);
    if (a->lang != GEN_LANG_JA && a->lang != GEN_LANG_AR && u < 6) {
        n = gen_cat(a->name, n, sizeof(a->name), " ");
        n = gen_cat(a->name, n, sizeof(a->name), last->display);
    } else if (u < 8) {
        n = gen_cat(a->name, n, sizeof(a->name), GEN_PICK(&r, gen_name_flair));
    }
    a->name[n] = '\0';
    a->name_len = (uint8_t)n;

    /* Username: [A-Za-z0-9_], at most 15 characters. */
    {
        char *un = a->username;
        size_t cap = 16, k = 0;
        u = gen_rng_below(&r, 6);
        if (u == 0)
            k = gen_cat(un, k, cap, "the_real_");
        k = gen_cat(un, k, cap, first->ascii);
        if (u == 1 || u == 2) {
            if (u == 2)
                k = gen_cat(un, k, cap, "_");
            k = gen_cat(un, k, cap, last->ascii);
        }
        if (u >= 3 || k < 6) {
            uint32_t d = gen_rng_below(&r, u == 5 ? 10000 : 100);
            char digits[8];
            size_t dn = 0;
            do {
                digits[dn++] = (char)('0' + d % 10);
                d /= 10;
            } while (d && dn < sizeof(digits));
            while (dn && k < cap - 1)
                un[k++] = digits[--dn];
        }
        if (k > 15)
            k = 15;
        un[k] = '\0';
        a->username_len = (uint8_t)k;
    }
}

size_t gen_author_bio(const gen_author *a, char *buf, size_t cap, size_t budget)
{
    gen_rng r = {a->seed};
    uint32_t parts = gen_rng_below(&r, 6); /* 0..5, a sixth have no bio */
    size_t n = 0;

    if (budget > 160)
        budget = 160; /* Twitter's limit on bios */
    if (budget + 1 > cap)
        budget = cap - 1;
    for (uint32_t i = 0; i < parts; i++) {
        const char *bit = GEN_PICK(&r, gen_bio_bits);
        size_t len = strlen(bit), sep = n ? 3 : 0;
        if (n + sep + len > budget)
            break;
        if (sep) {
            memcpy(buf + n, " | ", 3);
            n += 3;
        }
        memcpy(buf + n, bit, len);
        n += len;
    }
    buf[n] = '\0';
    return n;
}

const char *gen_author_location(const gen_author *a)
{
    gen_rng r = {a->seed ^ 0x5bd1e995ull};
    return GEN_PICK(&r, gen_locations);
}

/*
 * gen_text: the words of a post. Templates with one-letter slots ({b} a
 * brand as people write it, {d} a wait, {a} an amount, ...) filled from
 * small tables; openers, tails, emoji and shouting on top give the
 * combinations that make 1M posts read as many different ones.
 *
 * The tables are the corpus: complaints use the phrasing of real customer
 * care posts (on hold for an hour, worst automated customer service ever, overcharged, down
 * again, never arrived, cancelling, "!!!!!!!!"), praise and questions their
 * usual forms, and chatter carries near-misses a naive rule would take for a
 * brand ("sprint planning", "gm everyone", "Kodak Black", "whole foods
 * diet") or for a complaint without a brand ("on hold with the dentist").
 *
 * Cost: a template is copied once with its slots; no allocation, no printf.
 */
#include "gen/gen_int.h"

enum {
    C_TELCO = 1 << 0,
    C_TECH = 1 << 1,
    C_RETAIL = 1 << 2,
    C_AIR = 1 << 3,
    C_AUTO = 1 << 4,
    C_TAX = 1 << 5,
    C_FOOD = 1 << 6,
    C_ALL = 0x7f,
    C_SHIPS = C_TECH | C_RETAIL | C_FOOD, /* things that get delivered */
    C_STORE = C_TELCO | C_TECH | C_RETAIL | C_AUTO | C_TAX | C_FOOD,
};

/* Indices into gen_brands, for the templates that fit one brand only. */
enum {
    B_COMCAST, B_DELL, B_ZAPPOS, B_TMOBILE, B_SPRINT, B_JETBLUE, B_SOUTHWEST,
    B_WHOLEFOODS, B_KODAK, B_GM, B_HRBLOCK, B_PIZZAHUT,
};

/* The brands people write about, as the generator writes them. This is
 * deliberately not read from rules/brands.json, though the twelve brands
 * are the same: the generator is the benchmarks' and tests' fixed input,
 * and a corpus that changed whenever an analyst edited a brand's terms
 * could not measure those edits (or compare runs). It also holds what a
 * rule file has no place for: care handles, user ids, products, accented
 * and misspelt spellings. (tests/unit/test_gen.c's list is a third,
 * different thing: the unambiguous names chatter must never contain.) */
typedef struct gen_brand {
    const char *name;          /* canonical spelling */
    const char *handle;        /* care account, no '@' */
    uint64_t user_id;
    unsigned cat;
    const char *aliases[8];    /* other ways people write it, NULL-ended */
    const char *products[6];   /* NULL-ended */
    const char *accented;      /* a diacritic variant the normaliser folds */
    const char *misspelled;
} gen_brand;

static const gen_brand gen_brands[] = {
    [B_COMCAST] = {"Comcast", "comcastcares", 15641567u, C_TELCO,
     {"Xfinity", "comcast", "@comcast", "@XfinitySupport", "Comcast Xfinity", NULL},
     {"internet", "cable", "wifi", "Xfinity box", "DVR", NULL}, "Comcást", "Comcats"},
    [B_DELL] = {"Dell", "dellcares", 18620537u, C_TECH,
     {"@Dell", "dell", "Dell Support", "Dell Technologies", NULL},
     {"laptop", "XPS 13", "monitor", "Inspiron", "docking station", NULL}, "Déll", "Del computers"},
    [B_ZAPPOS] = {"Zappos", "zappos_service", 7040932u, C_RETAIL,
     {"@Zappos", "zappos", "Zappos.com", NULL},
     {"shoes", "boots", "order", "sneakers", "return", NULL}, "Zappós", "Zapos"},
    [B_TMOBILE] = {"T-Mobile", "TMobileHelp", 185628160u, C_TELCO,
     {"tmobile", "T Mobile", "@TMobile", "TMobile", "#TMobile", NULL},
     {"phone", "data plan", "signal", "5G", "bill", NULL}, "T-Móbile", "T-Moble"},
    [B_SPRINT] = {"Sprint", "sprintcare", 19291823u, C_TELCO,
     {"@sprint", "sprint", "Sprint PCS", "SPRINT", NULL},
     {"phone", "signal", "4G", "plan", "hotspot", NULL}, "Sprínt", "Spirnt"},
    [B_JETBLUE] = {"JetBlue", "JetBlue", 6449282u, C_AIR,
     {"Jet Blue", "jetblue", "#jetblue", "@JetBlue", NULL},
     {"flight", "bag", "seat", "TrueBlue points", NULL}, "JetBlüe", "Jetblu"},
    [B_SOUTHWEST] = {"Southwest Airlines", "SouthwestAir", 7212562u, C_AIR,
     {"Southwest", "@SouthwestAir", "southwest air", "SWA", NULL},
     {"flight", "bag", "boarding pass", "Rapid Rewards", NULL}, "Southwest Aírlines", "South West airlines"},
    [B_WHOLEFOODS] = {"Whole Foods", "WholeFoods", 15131310u, C_RETAIL,
     {"Whole Foods Market", "@WholeFoods", "whole foods", "WFM", NULL},
     {"groceries", "order", "delivery", "produce", NULL}, "Whole Fóods", "Wholefoods"},
    [B_KODAK] = {"Kodak", "Kodak", 14871581u, C_TECH,
     {"KODAK", "kodak", "@Kodak", "Kodak Alaris", NULL},
     {"printer", "camera", "ink cartridge", "scanner", NULL}, "Kodák", "Kodac"},
    [B_GM] = {"General Motors", "GM", 14287474u, C_AUTO,
     {"GM", "@GM", "General Motors Co", "#GM", NULL},
     {"car", "truck", "Chevy", "recall", "warranty", NULL}, "General Mótors", "Genral Motors"},
    [B_HRBLOCK] = {"H&R Block", "HRBlock", 14390155u, C_TAX,
     {"HR Block", "H & R Block", "@HRBlock", "hrblock", NULL},
     {"tax return", "refund", "appointment", "tax software", NULL}, "H&R Blóck", "HR Blok"},
    [B_PIZZAHUT] = {"Pizza Hut", "pizzahut", 14174353u, C_FOOD,
     {"PizzaHut", "@pizzahut", "pizza hut", "PIZZA HUT", "#pizzahut", NULL},
     {"pizza", "order", "delivery", "wings", "stuffed crust", NULL}, "Pizza Hüt", "Piza Hut"},
};

#define GEN_NBRANDS GEN_NELEM(gen_brands)

size_t gen_brand_count(void) { return GEN_NBRANDS; }
const char *gen_brand_handle(int brand) { return gen_brands[brand].handle; }
const char *gen_brand_name(int brand) { return gen_brands[brand].name; }
uint64_t gen_brand_user_id(int brand) { return gen_brands[brand].user_id; }

typedef struct gen_tpl {
    unsigned cat;     /* categories it fits */
    const char *text;
} gen_tpl;

/* ---- complaints, English ---- */
static const gen_tpl gen_complaints[] = {
    /* waiting */
    {C_ALL, "been on hold with {b} for {d}. that is time I will never get back"},
    {C_ALL, "{d} on hold with {b} and still no answer"},
    {C_ALL, "on hold for an hour with {b}. AN HOUR."},
    {C_ALL, "just wasted 2 1/2 hours of my life on the phone with {b}"},
    {C_ALL, "{b} customer service has had me on hold for {d}"},
    {C_ALL, "still waiting for {b} to call me back. day {z}."},
    {C_TELCO, "waited {d} at the {b} store just to be told to call the 800 number"},
    {C_ALL, "{b} put me on hold {z} times and then hung up on me"},
    {C_ALL, "on hold with {b} for {d} now. the hold music is burned into my brain"},
    /* automated phone */
    {C_ALL, "worst automated customer service ever. thanks {b}"},
    {C_ALL, "{b} your phone robot does not understand the word REPRESENTATIVE"},
    {C_ALL, "pressing 0 over and over trying to reach a human at {b}"},
    {C_ALL, "the {b} automated system hung up on me. twice."},
    {C_ALL, "why does the {b} phone menu have 14 options and none of them is talk to a person"},
    /* billing */
    {C_ALL, "{b} overcharged me {a} this month and nobody can explain why"},
    {C_ALL, "just got double charged by {b} for my {p}"},
    {C_TELCO, "why is my {b} bill {a} higher than last month??"},
    {C_TELCO | C_TAX, "{b} charged me a {a} fee for paying my bill. what"},
    {C_TELCO, "hidden fees on my {b} bill again. {a} for what exactly?"},
    {C_ALL, "{b} billed me twice for the same {p} and now wants me to wait 10 business days"},
    /* outage */
    {C_TELCO, "my {p} is down again. thanks {b}"},
    {C_TELCO, "{b} internet is down again for the third time this week"},
    {C_TELCO, "no signal AGAIN {b}. paying for a service I don't get"},
    {C_TELCO, "{b} outage in {c} again? nothing works"},
    {C_TELCO, "dropped calls all day with {b}. every single call"},
    {C_TELCO, "working from home with no internet because {b} can't keep it up for one day"},
    {C_TECH, "my brand new {b} {p} died after {z} days"},
    /* delivery */
    {C_SHIPS, "where is my package {b}? it said delivered {z} days ago"},
    {C_SHIPS, "my {b} order never arrived and now they want me to wait another week"},
    {C_FOOD, "{b} delivery was {d} late and the {p} was cold"},
    {C_SHIPS, "ordered a {p} from {b} {z} weeks ago. still nothing"},
    {C_SHIPS, "tracking for my {b} order hasn't moved in {z} days"},
    {C_FOOD, "{b} got my order wrong for the third time in a row"},
    /* rude staff */
    {C_ALL, "the rep at {b} literally laughed at me"},
    {C_STORE, "{b} store manager was so rude to my mom today"},
    {C_ALL, "worst customer service experience I've had in years, {b}. your agent hung up on me"},
    {C_ALL, "bad customer service is my pet peeve. UGH! looking at you {b}"},
    {C_AIR, "the {b} gate agent was incredibly rude to a family with a baby"},
    /* refund */
    {C_ALL, "{b} still hasn't processed my refund. it's been {z} weeks"},
    {C_SHIPS, "where is my refund {b}? returned the {p} a month ago"},
    {C_ALL, "{b} denied my refund for a {p} that never worked"},
    /* cancel / churn */
    {C_TELCO, "I'm cancelling my service with {b}. done."},
    {C_ALL, "{b} you just lost a customer. switching to {o}"},
    {C_ALL, "switching to {o} tomorrow. bye {b}"},
    {C_TELCO, "if {b} doesn't fix my {p} by friday I'm cancelling"},
    {C_ALL, "10 years a customer and {b} treats me like this. cancelling."},
    {C_ALL, "never using {b} again. going with {o} from now on"},
    /* domain specific */
    {C_AIR, "flight delayed {d} and {b} won't tell us why"},
    {C_AIR, "{b} lost my bag. again."},
    {C_AIR, "stuck on the tarmac for {d}, {b}. no water, no updates"},
    {C_AIR, "{b} cancelled my flight and rebooked me for TWO DAYS later"},
    {C_AUTO, "{b} recall notice for my {p} and the dealer says no parts for {z} months"},
    {C_AUTO, "my {b} {p} has been in the shop {z} times this year"},
    {C_TAX, "{b} messed up my tax return and now I owe the IRS {a}"},
    {C_TAX, "{b} charged me {a} to file a return that took 10 minutes"},
    /* general */
    {C_ALL, "{b} is the worst. just the worst"},
    {C_ALL, "{b} has the worst customer service on the planet"},
    {C_ALL, "{b} fix your {p}!!!"},
    {C_ALL, "I hate {b} so much right now"},
    {C_ALL, "Dear {b},\nyour {p} is broken.\nyour support is broken.\nsincerely, everyone"},
};

static const char *const gen_openers[] = {
    "Ugh. ", "Seriously? ", "Unreal. ", "Wow. ", "PSA: ", "So ", "Great. ",
    "Can't believe this. ", "Day 3 of this: ", "Every. Single. Time. ",
};
static const char *const gen_tails[] = {
    " #fail", " #customerservice", " never again", " Thanks for nothing.",
    " UGH!", " smh", " #worstcustomerservice", " so done", " unacceptable",
    " @BBB_Help", " #neveragain",
};
static const char *const gen_emoji_neg[] = {
    "😡", "😤", "🙄", "🤬", "😩", "😠", "👎", "💀", "😒",
};
static const char *const gen_emoji_pos[] = {
    "😊", "❤️", "🙌", "👍", "🎉", "😍", "💯", "✨", "🙏",
};

/* ---- praise, questions, neutral mentions, English ---- */
static const gen_tpl gen_praise[] = {
    {C_ALL, "customer service by {b} rules"},
    {C_ALL, "shoutout to {b} for fixing my {p} in 10 minutes"},
    {C_ALL, "{b} A+"},
    {C_ALL, "AWESOME!!! Thanks {b}"},
    {C_ALL, "wow {b} actually called me back within an hour. impressed"},
    {C_ALL, "love my new {p} from {b}"},
    {C_ALL, "{b} support was super helpful today, thank you!"},
    {C_ALL, "best customer service ever {b}"},
    {C_ALL, "props to {b} for the refund, no questions asked"},
    {C_AIR, "{b} upgraded my seat for free"},
    {C_ALL, "the {b} rep (shoutout {k}) was amazing"},
    {C_ALL, "thanks {b} for the quick reply, all sorted"},
    {C_ALL, "{b} just made my day"},
    {C_FOOD, "{b} delivers again 🍕"},
    {C_STORE, "had a great experience at {b} today"},
    {C_AIR, "smooth flight with {b}, on time and friendly crew"},
    {C_SHIPS, "my {b} order arrived a day early, love it"},
};

static const gen_tpl gen_questions[] = {
    {C_ALL, "how do I cancel my {b} {p}?"},
    {C_TELCO | C_TECH, "how do I reset my {b} {p}?"},
    {C_ALL, "does anyone know if {b} is down right now?"},
    {C_ALL, "does anyone know if {b} has a student discount?"},
    {C_STORE, "{b} what are your hours on {w}?"},
    {C_ALL, "{b} can I change my {p} online or do I have to call?"},
    {C_ALL, "is there a phone number for {b} that actually reaches a person?"},
    {C_ALL, "{b} how long does a refund usually take?"},
    {C_TELCO, "hey {b}, is there an outage in {c}?"},
    {C_ALL, "anyone tried {b} recently? worth it?"},
    {C_RETAIL, "{b} do you ship to Canada?"},
    {C_AIR, "can I bring a stroller on {b}?"},
    {C_AIR, "{b} is my flight to {c} still on time?"},
    {C_ALL, "{b} where do I send a complaint about my {p}?"},
    {C_TAX, "{b} when will my refund be deposited?"},
};

static const gen_tpl gen_neutral[] = {
    {C_ALL, "{b} stock up {z}% today"},
    {C_ALL, "reading about {b}'s new CEO"},
    {C_ALL, "{b} commercial during the game again"},
    {C_STORE, "new {b} store opened in {c}"},
    {C_ALL, "my brother works at {b}"},
    {C_ALL, "interview at {b} tomorrow, wish me luck"},
    {C_ALL, "{b} announced {z}00 new jobs in {c}"},
    {C_STORE, "walking past {b} on my way to work"},
    {C_AIR, "boarding {b} to {c}"},
    {C_AIR, "flying {b} to {c} tomorrow"},
    {C_ALL, "{b} just posted their quarterly results"},
};

/* Neutral mentions that only fit one brand. */
typedef struct gen_brand_tpl {
    int brand;
    const char *text;
} gen_brand_tpl;

static const gen_brand_tpl gen_neutral_brand[] = {
    {B_COMCAST, "at the Comcast Center tonight for the Flyers game"},
    {B_COMCAST, "watching the game on Xfinity"},
    {B_DELL, "presenting at Dell Technologies World next week"},
    {B_KODAK, "that was a real Kodak moment"},
    {B_PIZZAHUT, "remember the Pizza Hut BOOK IT program? best part of school"},
    {B_WHOLEFOODS, "grabbing lunch at Whole Foods"},
    {B_GM, "GM unveils a new electric truck"},
    {B_HRBLOCK, "tax season again, appointment at H&R Block on {w}"},
    {B_ZAPPOS, "Zappos has a podcast now?"},
    {B_TMOBILE, "T-Mobile Arena is packed tonight"},
};

/* ---- spam ---- */
static const char *const gen_spam[] = {
    "click here to win a free iPhone 15!!! {u}",
    "FREE FOLLOWERS 🔥🔥 get 10k followers in 24h {u}",
    "Make $500/day working from home, DM me {u}",
    "🚀🚀 {g} airdrop is LIVE claim now {u}",
    "you've been selected! claim your {a} gift card {u}",
    "{b} is giving away $500 gift cards! click here to win {u}",
    "follow back? #teamfollowback #f4f {u}",
    "cheap rayban sunglasses 90% off {u}",
    "hot singles in {c} {u}",
    "RT to win!!! {b} $1000 giveaway, click here {u}",
    "buy 1000 followers for $5 {u} #followers",
};

/* ---- chatter, English ---- */
static const char *const gen_chatter_en[] = {
    "good morning everyone ☀️",
    "happy {w} everyone",
    "{w} again. need coffee",
    "can't sleep",
    "this meeting could have been an email",
    "my dog just ate my sock 🐶",
    "watching the game with {k}",
    "lol",
    "happy birthday {q}!! 🎉",
    "{q} haha exactly",
    "traffic in {c} is insane today",
    "anyone know a good dentist in {c}?",
    "the office is freezing again",
    "finally finished my taxes",
    "pizza night 🍕",
    "{t} win again!!! what a game",
    "can't believe the {t} lost like that",
    "it's {z}0 degrees in {c} today",
    "rain rain go away 🌧️",
    "snow day!!! ❄️",
    "best {f} in {c}? asking for a friend",
    "just made {f} from scratch, nailed it",
    "listening to {m} on repeat",
    "{m} concert tonight!!!",
    "new blog post: {g} {u}",
    "why is it so hard to find good {f} around here",
    "3 day weekend let's gooo",
    "my package finally arrived!!",
    "the new season is so good, no spoilers please",
    "who else is watching the {t} game",
    "week {z} of learning to cook: {f}",
    "when the wifi at the coffee shop is faster than at home",
    "reading a great book, can't put it down 📚",
    "road trip to {c} this weekend 🚗",
    "I need a vacation from my vacation",
    "just ran {z} miles 🏃",
};

/* Chatter built from parts: [lead] activity [when] [reaction], thousands of
 * combinations so a million posts do not repeat a few dozen lines. */
static const char *const gen_chat_leads[] = {
    "", "", "", "ok so ", "honestly ", "not gonna lie, ", "lowkey ", "me: ",
    "update: ", "currently ", "just ", "another day, another ",
};
static const char *const gen_chat_acts[] = {
    "{f} for dinner", "watching {t} highlights", "stuck in traffic on the way to {c}",
    "making {f} with {k}", "cleaning the whole apartment", "binge watching that new show",
    "studying for finals", "walking the dog in the rain", "trying a new {f} place",
    "fixing my bike", "painting the kitchen", "reorganizing my bookshelf",
    "learning guitar", "at the airport people watching", "working late",
    "coffee with {k}", "playing fetch with the cat", "reading about space",
    "waiting for the bus", "at the farmers market", "hiking outside {c}",
    "planning a trip to {c}", "decorating for the holidays", "doing laundry",
    "listening to {m}", "at my kid's soccer game", "meal prepping {f}",
    "moving apartments", "at the {t} game", "baking cookies",
};
static const char *const gen_chat_whens[] = {
    "", "", " tonight", " again", " this morning", " before work", " all weekend",
    " on a {w}", " at 2am", " for the third day in a row",
};
static const char *const gen_chat_reacts[] = {
    "", "", "", " 😂", " lol", " and I regret nothing", " best decision ever",
    " send help", " highly recommend", " 10/10", " why am I like this", " 🙃",
    ". life is good", "!!",
};

/* Near-misses: brand words or care phrasing, but no brand and no care need. */
static const char *const gen_chatter_tricky[] = {
    "gm everyone, coffee first ☕",
    "gm gm ☕",
    "sprint planning at work all morning. send help",
    "sprint review went well, the demo gods were kind",
    "new PR in the 100m sprint today 🏃",
    "heading southwest for the weekend, road trip!",
    "trying to eat more whole foods and less junk this year",
    "block party on our street saturday",
    "jet lag is brutal",
    "my cousin Dell is visiting this weekend",
    "the Kodak Black album is fire",
    "on hold with the doctor's office for an hour. why is this so hard",
    "internet is down at the library again",
    "mobile game addiction is real",
    "final sprint of the semester, {z} exams to go",
    "the sky was so blue over the harbor today",
    "pizza from the hut down the street is the best",
    "where is my package? oh wait, it's at the neighbor's",
};

static const char *const gen_chatter_es[] = {
    "buenos días a todos ☀️",
    "qué calor hace hoy",
    "vamos Real Madrid!!! ⚽",
    "no puedo dormir",
    "feliz viernes 🎉",
    "el partido de hoy estuvo increíble",
    "tengo hambre, ¿tacos o pizza?",
    "por fin es fin de semana",
    "escuchando {m} todo el día",
};
static const char *const gen_chatter_ja[] = {
    "おはようございます☀️",
    "今日は雨ですね☔",
    "ラーメン食べたい🍜",
    "明日から仕事だ…",
    "このアニメ最高すぎる",
    "週末は京都に行きます",
    "コーヒー飲みながら作業中☕",
};
static const char *const gen_chatter_ar[] = {
    "صباح الخير ☀️",
    "الجو حار جدا اليوم",
    "جمعة مباركة",
    "ما أجمل هذا اليوم",
    "مباراة رائعة الليلة ⚽",
};
static const char *const gen_chatter_pt[] = {
    "bom dia! ☕",
    "que jogo incrível ontem",
    "sextou 🎉",
    "saudade da praia",
};
static const char *const gen_chatter_fr[] = {
    "bonjour tout le monde",
    "il pleut encore à Paris 🌧️",
    "enfin le week-end",
    "quel match hier soir !",
};
static const char *const gen_chatter_und[] = {
    "😂😂😂", "🔥🔥🔥", "❤️", "👀", "🙌🙌", "😭😭😭 {u}",
};

/* Brand posts outside English (the first of each list fits every brand). */
static const gen_tpl gen_complaint_es[] = {
    {C_ALL, "llevo una hora en espera con {b}. pésimo servicio 😡"},
    {C_ALL, "{b} me cobró dos veces este mes"},
    {C_TELCO, "se cayó el internet otra vez, gracias {b}"},
    {C_ALL, "{b} el peor servicio al cliente, voy a cancelar"},
    {C_SHIPS, "mi pedido de {b} nunca llegó"},
};
static const gen_tpl gen_praise_es[] = {
    {C_ALL, "excelente servicio de {b}, gracias!"},
    {C_ALL, "{b} me resolvió todo en 5 minutos 👏"},
};
static const gen_tpl gen_question_es[] = {
    {C_ALL, "¿alguien sabe si {b} tiene servicio en español?"},
    {C_TELCO, "{b} ¿cómo cancelo mi plan?"},
};
static const gen_tpl gen_complaint_ja[] = {
    {C_ALL, "{b}のサポートに1時間待たされた…最悪"},
    {C_TECH | C_TELCO, "{b}の{p}、また壊れた😡"},
    {C_ALL, "{b}の請求が二重になってる。返金して"},
    {C_SHIPS, "{b}の注文がまだ届かない"},
};
static const gen_tpl gen_praise_ja[] = {
    {C_ALL, "{b}のカスタマーサービス最高！ありがとう"},
};
static const gen_tpl gen_complaint_ar[] = {
    {C_ALL, "خدمة العملاء في {b} سيئة جدا، انتظرت ساعة كاملة"},
    {C_ALL, "{b} خصم مني مرتين هذا الشهر"},
};
static const gen_tpl gen_praise_ar[] = {
    {C_ALL, "شكرا {b} على الخدمة الممتازة"},
};

/* ---- slot fillers ---- */
static const char *const gen_durations[] = {
    "an hour", "45 minutes", "2 1/2 hours", "3 hours", "90 minutes",
    "over an hour", "two hours", "40 minutes", "4 hours",
};
static const char *const gen_amounts[] = {
    "$12.99", "$47", "$89.50", "$120", "$200", "$35", "$9.99", "$310", "$64.15",
};
static const char *const gen_cities[] = {
    "Philadelphia", "Chicago", "Denver", "Atlanta", "Houston", "Seattle",
    "Boston", "Austin", "Miami", "Portland", "Nashville", "San Diego",
};
static const char *const gen_teams[] = {
    "Eagles", "Cubs", "Celtics", "Lakers", "Yankees", "Warriors", "Packers",
    "Mets", "Sixers", "Chiefs",
};
static const char *const gen_foods[] = {
    "tacos", "pho", "ramen", "bbq", "pancakes", "sushi", "lasagna",
    "banana bread", "chili", "jollof rice",
};
static const char *const gen_music[] = {
    "Taylor Swift", "Kendrick", "Beyoncé", "Bad Bunny", "Fleetwood Mac",
    "the new Drake album", "Phoebe Bridgers", "Rosalía",
};
static const char *const gen_first_names[] = {
    "Maria", "James", "Priya", "Chen", "Sam", "Alex", "Jordan", "Fatima",
    "Diego", "Emily", "Kevin", "Aisha", "Tom", "Keisha", "Luis", "Hannah",
};
static const char *const gen_weekdays[] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};
static const char *const gen_hashtags[] = {
    "#MondayMotivation", "#tbt", "#nowplaying", "#blessed", "#WorkFromHome",
    "#foodie", "#NFL", "#photography", "#crypto",
};
static const char *const gen_bangs[] = {
    "!", "!!", "!!!", "!!!!", "!!!!!!!!", "!!!!!!!!!!!!",
};
static const char *const gen_competitors[7][4] = {
    {"Verizon", "AT&T", "Spectrum", "Google Fiber"}, /* telco */
    {"HP", "Lenovo", "Apple", "Canon"},              /* tech */
    {"Amazon", "Nordstrom", "Trader Joe's", "Target"},
    {"Delta", "United", "American", "Alaska"},       /* air */
    {"Ford", "Toyota", "Tesla", "Honda"},            /* auto */
    {"TurboTax", "a real accountant", "FreeTaxUSA", "TurboTax"},
    {"Domino's", "Papa John's", "the local place", "Little Caesars"},
};
static const char gen_alnum[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static const char *const gen_lang_codes[GEN_LANG_COUNT] = {
    "en", "es", "ja", "ar", "pt", "fr", "und",
};

const char *gen_lang_code(gen_lang lang) { return gen_lang_codes[lang]; }

/* ---- writing ---- */

static inline void gt_put(gen_text *t, const char *s, size_t n)
{
    /* Whole pieces only: every piece is valid UTF-8, so the text stays valid
     * even when a pathological combination would not fit. */
    if (t->len + n < GEN_TEXT_MAX) {
        memcpy(t->buf + t->len, s, n);
        t->len += n;
    }
}

static inline void gt_cstr(gen_text *t, const char *s) { gt_put(t, s, strlen(s)); }

static void gt_ascii_case(gen_text *t, size_t from, int upper)
{
    for (size_t i = from; i < t->len; i++) {
        unsigned char c = (unsigned char)t->buf[i];
        if (upper && c >= 'a' && c <= 'z')
            t->buf[i] = (char)(c - 32);
        else if (!upper && c >= 'A' && c <= 'Z')
            t->buf[i] = (char)(c + 32);
    }
}

/* ＣＯＭＣＡＳＴ: printable ASCII to the full-width block, space to U+3000. */
static void gt_fullwidth(gen_text *t, const char *s)
{
    for (; *s; s++) {
        unsigned c = (unsigned char)*s;
        char u[3];
        if (c == ' ') {
            gt_put(t, "\xe3\x80\x80", 3);
        } else if (c > 0x20 && c < 0x7f) {
            unsigned cp = c + 0xFEE0u;
            u[0] = (char)(0xE0 | (cp >> 12));
            u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            gt_put(t, u, 3);
        } else {
            gt_put(t, s, 1);
        }
    }
}

/* #pizzahut: letters and digits of the name, lower case. */
static void gt_hashtag(gen_text *t, const char *s)
{
    char tag[48];
    size_t n = 0;

    tag[n++] = '#';
    for (; *s && n < sizeof(tag); s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            tag[n++] = (char)c;
        else if (c >= 'A' && c <= 'Z')
            tag[n++] = (char)(c + 32);
    }
    gt_put(t, tag, n);
}

static size_t gen_alias_count(const gen_brand *b)
{
    size_t n = 0;
    while (n < GEN_NELEM(b->aliases) && b->aliases[n])
        n++;
    return n;
}

/* The brand as people write it: mostly the plain name or the care handle,
 * then the other aliases, odd casing, hashtags, and rarely full-width,
 * accented or misspelled forms. */
static void gt_brand(gen_text *t, gen_rng *r, const gen_brand *b)
{
    uint32_t u = gen_rng_below(r, 1000);
    size_t from = t->len;

    if (u < 400) {
        gt_cstr(t, b->name);
    } else if (u < 600) {
        gt_put(t, "@", 1);
        gt_cstr(t, b->handle);
    } else if (u < 850) {
        gt_cstr(t, b->aliases[gen_rng_below(r, (uint32_t)gen_alias_count(b))]);
    } else if (u < 900) {
        gt_cstr(t, b->name);
        gt_ascii_case(t, from, 0);
    } else if (u < 930) {
        gt_cstr(t, b->name);
        gt_ascii_case(t, from, 1);
    } else if (u < 965) {
        gt_hashtag(t, b->name);
    } else if (u < 978) {
        gt_fullwidth(t, b->name);
    } else if (u < 992) {
        gt_cstr(t, b->accented);
    } else {
        gt_cstr(t, b->misspelled);
    }
}

static size_t gen_product_count(const gen_brand *b)
{
    size_t n = 0;
    while (n < GEN_NELEM(b->products) && b->products[n])
        n++;
    return n;
}

static int gen_cat_index(unsigned cat)
{
    int i = 0;
    while (!(cat & 1u) && i < 6) {
        cat >>= 1;
        i++;
    }
    return i;
}

static void gt_username(gen_text *t, gen_rng *r)
{
    gen_author a;
    uint64_t salt = gen_rng_next(r); /* draws in their own statements: */
    uint32_t idx = gen_rng_below(r, 1u << 20); /* argument order is open */

    gen_author_make(salt, idx, &a);
    gt_put(t, "@", 1);
    gt_put(t, a.username, a.username_len);
}

static void gt_expand(gen_text *t, gen_rng *r, const char *tpl, int brand)
{
    const gen_brand *b = brand >= 0 ? &gen_brands[brand] : &gen_brands[0];
    const char *p = tpl;

    for (;;) {
        const char *open = strchr(p, '{');
        if (!open) {
            gt_cstr(t, p);
            return;
        }
        gt_put(t, p, (size_t)(open - p));
        if (!open[1] || open[2] != '}') {
            gt_put(t, open, 1);
            p = open + 1;
            continue;
        }
        switch (open[1]) {
        case 'b': gt_brand(t, r, b); break;
        case 'p': gt_cstr(t, b->products[gen_rng_below(r, (uint32_t)gen_product_count(b))]); break;
        case 'o': gt_cstr(t, gen_competitors[gen_cat_index(b->cat)][gen_rng_below(r, 4)]); break;
        case 'd': gt_cstr(t, GEN_PICK(r, gen_durations)); break;
        case 'a': gt_cstr(t, GEN_PICK(r, gen_amounts)); break;
        case 'c': gt_cstr(t, GEN_PICK(r, gen_cities)); break;
        case 't': gt_cstr(t, GEN_PICK(r, gen_teams)); break;
        case 'f': gt_cstr(t, GEN_PICK(r, gen_foods)); break;
        case 'm': gt_cstr(t, GEN_PICK(r, gen_music)); break;
        case 'k': gt_cstr(t, GEN_PICK(r, gen_first_names)); break;
        case 'w': gt_cstr(t, GEN_PICK(r, gen_weekdays)); break;
        case 'g': gt_cstr(t, GEN_PICK(r, gen_hashtags)); break;
        case 'q': gt_username(t, r); break;
        case 'z': {
            char d = (char)('2' + gen_rng_below(r, 8));
            gt_put(t, &d, 1);
            break;
        }
        case 'u': {
            char url[23] = "https://t.co/";
            for (int i = 13; i < 23; i++)
                url[i] = gen_alnum[gen_rng_below(r, 62)];
            gt_put(t, url, sizeof(url));
            break;
        }
        default:
            gt_put(t, open, 3);
            break;
        }
        p = open + 3;
    }
}

#define GEN_TPL(r, list, cat) gen_pick_tpl((r), (list), GEN_NELEM(list), (cat))

/* A template that fits the brand's category; most fit all, so a few tries
 * almost always land, and the first entry (C_ALL) is the fallback. */
static const char *gen_pick_tpl(gen_rng *r, const gen_tpl *tpls, size_t n, unsigned cat)
{
    for (int tries = 0; tries < 8; tries++) {
        const gen_tpl *tp = &tpls[gen_rng_below(r, (uint32_t)n)];
        if (tp->cat & cat)
            return tp->text;
    }
    return tpls[0].text;
}

static void gen_text_complaint(gen_text *t, gen_rng *r, gen_lang lang)
{
    const gen_brand *b = &gen_brands[t->brand];
    size_t from = t->len;

    if (lang == GEN_LANG_ES && gen_rng_pct(r, 70)) {
        gt_expand(t, r, GEN_TPL(r, gen_complaint_es, b->cat), t->brand);
        return;
    }
    if (lang == GEN_LANG_JA && gen_rng_pct(r, 70)) {
        gt_expand(t, r, GEN_TPL(r, gen_complaint_ja, b->cat), t->brand);
        return;
    }
    if (lang == GEN_LANG_AR && gen_rng_pct(r, 60)) {
        gt_expand(t, r, GEN_TPL(r, gen_complaint_ar, b->cat), t->brand);
        return;
    }
    t->lang = GEN_LANG_EN;
    if (gen_rng_pct(r, 20))
        gt_cstr(t, GEN_PICK(r, gen_openers));
    gt_expand(t, r, GEN_TPL(r, gen_complaints, b->cat), t->brand);
    if (gen_rng_pct(r, 25))
        gt_cstr(t, GEN_PICK(r, gen_tails));
    if (gen_rng_pct(r, 12)) {
        /* Shouting: the whole post in capitals and a run of bangs. */
        gt_ascii_case(t, from, 1);
        gt_cstr(t, GEN_PICK(r, gen_bangs));
    }
    if (gen_rng_pct(r, 20)) {
        gt_put(t, " ", 1);
        gt_cstr(t, GEN_PICK(r, gen_emoji_neg));
    }
}

static void gen_text_praise(gen_text *t, gen_rng *r, gen_lang lang)
{
    const gen_brand *b = &gen_brands[t->brand];

    if (lang == GEN_LANG_ES && gen_rng_pct(r, 70)) {
        gt_expand(t, r, GEN_TPL(r, gen_praise_es, b->cat), t->brand);
        return;
    }
    if (lang == GEN_LANG_JA && gen_rng_pct(r, 70)) {
        gt_expand(t, r, GEN_TPL(r, gen_praise_ja, b->cat), t->brand);
        return;
    }
    if (lang == GEN_LANG_AR && gen_rng_pct(r, 60)) {
        gt_expand(t, r, GEN_TPL(r, gen_praise_ar, b->cat), t->brand);
        return;
    }
    t->lang = GEN_LANG_EN;
    gt_expand(t, r, GEN_TPL(r, gen_praise, b->cat), t->brand);
    if (gen_rng_pct(r, 40)) {
        gt_put(t, " ", 1);
        gt_cstr(t, GEN_PICK(r, gen_emoji_pos));
    }
}

static void gen_text_question(gen_text *t, gen_rng *r, gen_lang lang)
{
    const gen_brand *b = &gen_brands[t->brand];

    if (lang == GEN_LANG_ES && gen_rng_pct(r, 70)) {
        gt_expand(t, r, GEN_TPL(r, gen_question_es, b->cat), t->brand);
        return;
    }
    t->lang = GEN_LANG_EN;
    gt_expand(t, r, GEN_TPL(r, gen_questions, b->cat), t->brand);
    if (gen_rng_pct(r, 10))
        gt_cstr(t, " thanks!");
}

static void gen_text_mention(gen_text *t, gen_rng *r)
{
    t->lang = GEN_LANG_EN;
    if (gen_rng_pct(r, 30)) {
        const gen_brand_tpl *bt = &GEN_PICK(r, gen_neutral_brand);
        t->brand = bt->brand;
        gt_expand(t, r, bt->text, t->brand);
        return;
    }
    gt_expand(t, r, GEN_TPL(r, gen_neutral, gen_brands[t->brand].cat), t->brand);
}

static void gen_text_chatter(gen_text *t, gen_rng *r, gen_lang lang)
{
    const char *tpl;

    switch (lang) {
    case GEN_LANG_ES: tpl = GEN_PICK(r, gen_chatter_es); break;
    case GEN_LANG_JA: tpl = GEN_PICK(r, gen_chatter_ja); break;
    case GEN_LANG_AR: tpl = GEN_PICK(r, gen_chatter_ar); break;
    case GEN_LANG_PT: tpl = GEN_PICK(r, gen_chatter_pt); break;
    case GEN_LANG_FR: tpl = GEN_PICK(r, gen_chatter_fr); break;
    default:
        if (gen_rng_pct(r, 3)) {
            t->lang = GEN_LANG_UND;
            tpl = GEN_PICK(r, gen_chatter_und);
        } else if (gen_rng_pct(r, 15)) {
            tpl = GEN_PICK(r, gen_chatter_tricky);
        } else if (gen_rng_pct(r, 50)) {
            gt_cstr(t, GEN_PICK(r, gen_chat_leads));
            gt_expand(t, r, GEN_PICK(r, gen_chat_acts), -1);
            gt_expand(t, r, GEN_PICK(r, gen_chat_whens), -1);
            tpl = GEN_PICK(r, gen_chat_reacts);
        } else {
            tpl = GEN_PICK(r, gen_chatter_en);
        }
        break;
    }
    gt_expand(t, r, tpl, -1);
    if (t->lang == GEN_LANG_EN) {
        if (gen_rng_pct(r, 10)) {
            gt_put(t, " ", 1);
            gt_cstr(t, GEN_PICK(r, gen_hashtags));
        }
        if (gen_rng_pct(r, 15)) {
            gt_put(t, " ", 1);
            gt_cstr(t, gen_rng_pct(r, 70) ? GEN_PICK(r, gen_emoji_pos)
                                          : GEN_PICK(r, gen_emoji_neg));
        }
    }
}

void gen_text_build(gen_rng *r, gen_kind kind, gen_lang lang, gen_text *t)
{
    t->len = 0;
    t->brand = -1;
    t->lang = lang;
    switch (kind) {
    case GEN_KIND_COMPLAINT:
        t->brand = (int)gen_rng_below(r, GEN_NBRANDS);
        gen_text_complaint(t, r, lang);
        break;
    case GEN_KIND_PRAISE:
        t->brand = (int)gen_rng_below(r, GEN_NBRANDS);
        gen_text_praise(t, r, lang);
        break;
    case GEN_KIND_QUESTION:
        t->brand = (int)gen_rng_below(r, GEN_NBRANDS);
        gen_text_question(t, r, lang);
        break;
    case GEN_KIND_MENTION:
        t->brand = (int)gen_rng_below(r, GEN_NBRANDS);
        gen_text_mention(t, r);
        break;
    case GEN_KIND_SPAM:
        /* Spam borrows brand names to look legitimate; it still is spam. */
        {
            const char *tpl = GEN_PICK(r, gen_spam);
            t->brand = strstr(tpl, "{b}") ? (int)gen_rng_below(r, GEN_NBRANDS) : -1;
            t->lang = GEN_LANG_EN;
            gt_expand(t, r, tpl, t->brand);
        }
        break;
    case GEN_KIND_CHATTER:
    default:
        gen_text_chatter(t, r, lang);
        break;
    }
}

bool gen_text_prefix(gen_text *t, const char *a, size_t alen, const char *b,
                     size_t blen, const char *c, size_t clen)
{
    size_t add = alen + blen + clen;

    if (t->len + add >= GEN_TEXT_MAX)
        return false;
    memmove(t->buf + add, t->buf, t->len);
    memcpy(t->buf, a, alen);
    memcpy(t->buf + alen, b, blen);
    memcpy(t->buf + alen + blen, c, clen);
    t->len += add;
    return true;
}

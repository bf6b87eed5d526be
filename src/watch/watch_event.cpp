/*
 * watch_event.cpp: an enriched event's fields for the aggregator, with
 * simdjson's DOM parser, falling back to jansson where the two could
 * differ. See watch_event.h for the contract.
 *
 * Why DOM and not On-Demand: the answer must be jansson's, and jansson
 * rejects a document for a bad byte anywhere in it, read or not. The DOM
 * parse validates the whole document in one pass (stage 2 builds the tape
 * anyway); On-Demand would need the rest skipped-but-checked, which
 * src/post does with its own checker at about the same cost. The tape is
 * then walked once, both to read the fields and to find numbers jansson
 * treats differently (integers beyond int64: jansson rejects them).
 *
 * Why the byte scan: simdjson accepts "\u0000" and may accept lone
 * surrogate escapes, which jansson rejects; a scan of the escapes finds
 * both (and the valid pairs with them: those go to jansson too, rarely
 * enough not to matter).
 *
 * No exception crosses into C: simdjson is used through error codes and
 * std::vector's bad_alloc is caught (the answer is then UNSURE, and jansson
 * reports the memory shortage its own way).
 */
#include "watch/watch_event.h"

#include <simdjson.h>

#include <jansson.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace dom = simdjson::dom;
using simdjson::error_code;

struct watch_event_parser {
    dom::parser parser;
    std::vector<char> buf; /* the input plus simdjson's padding */
    std::vector<watch_event_brand> brands;
    std::vector<const char *> labels;
};

namespace {

/* Escapes jansson and simdjson may read differently: \u0000 (jansson
 * rejects a NUL in a string) and \uD800-\uDFFF (pairs and lone halves).
 * Walks backslash to backslash; an escaped backslash is stepped over, so
 * "\\u0000" (a backslash, then text) is not one. */
bool has_risky_escape(const char *s, size_t len) {
    const char *end = s + len;
    while (s < end) {
        const char *b = static_cast<const char *>(std::memchr(s, '\\', (size_t)(end - s)));
        if (!b || b + 1 >= end)
            return false;
        if (b[1] == 'u' && end - b >= 6) {
            if ((b[2] == 'd' || b[2] == 'D') ||
                (b[2] == '0' && b[3] == '0' && b[4] == '0' && b[5] == '0'))
                return true;
        }
        s = b + 2;
    }
    return false;
}

/* 2^63 as a double: a DOUBLE this large may have been an integer token
 * jansson rejects ("too big integer"). Conservative: a real that large goes
 * to jansson too. */
constexpr double kInt64Edge = 9223372036854775808.0;

/* Every number in v's subtree is one jansson reads the same way. */
bool numbers_safe(dom::element v) {
    switch (v.type()) {
    case dom::element_type::UINT64:
        return false; /* > INT64_MAX: jansson says "too big integer" */
    case dom::element_type::DOUBLE: {
        double d = 0;
        if (v.get_double().get(d))
            return false;
        return d < kInt64Edge && d > -kInt64Edge;
    }
    case dom::element_type::ARRAY: {
        dom::array a;
        if (v.get_array().get(a))
            return false;
        for (dom::element x : a)
            if (!numbers_safe(x))
                return false;
        return true;
    }
    case dom::element_type::OBJECT: {
        dom::object o;
        if (v.get_object().get(o))
            return false;
        for (dom::key_value_pair kv : o)
            if (!numbers_safe(kv.value))
                return false;
        return true;
    }
    default:
        return true;
    }
}

const char *str_or_null(dom::element v) {
    const char *s = nullptr;
    if (v.type() != dom::element_type::STRING || v.get_c_str().get(s))
        return nullptr;
    return s;
}

bool is_true(dom::element v) {
    bool b = false;
    return v.type() == dom::element_type::BOOL && !v.get_bool().get(b) && b;
}

int64_t int_or_zero(dom::element v) {
    int64_t i = 0;
    if (v.type() != dom::element_type::INT64 || v.get_int64().get(i))
        return 0;
    return i;
}

void clear(watch_event *ev) {
    std::memset(ev, 0, sizeof(*ev));
}

/* Reads the root object's fields; false when a label is not a string (an
 * influencer alert repeats the array as it was: jansson keeps it). */
bool read_fields(watch_event_parser *p, dom::object root, watch_event *ev) {
    dom::element brands, labels;
    bool have_brands = false, have_labels = false;

    for (dom::key_value_pair kv : root) {
        std::string_view k = kv.key;
        dom::element v = kv.value;
        /* Every match assigns: a repeated key's last value wins, as in
         * jansson's object. */
        if (k == "id") {
            ev->id = str_or_null(v);
        } else if (k == "created_at") {
            ev->created_at = str_or_null(v);
        } else if (k == "polarity") {
            ev->polarity = str_or_null(v);
        } else if (k == "respond_by") {
            ev->respond_by = str_or_null(v);
        } else if (k == "text") {
            ev->text = str_or_null(v);
        } else if (k == "priority") {
            ev->priority = int_or_zero(v);
        } else if (k == "is_retweet") {
            ev->retweet = is_true(v);
        } else if (k == "brands") {
            brands = v;
            have_brands = true;
        } else if (k == "labels") {
            labels = v;
            have_labels = true;
        } else if (k == "author") {
            dom::object a;
            ev->handle = nullptr;
            ev->followers = 0;
            ev->verified = 0;
            if (v.get_object().get(a))
                continue;
            for (dom::key_value_pair f : a) {
                std::string_view fk = f.key;
                if (fk == "handle")
                    ev->handle = str_or_null(f.value);
                else if (fk == "followers")
                    ev->followers = int_or_zero(f.value);
                else if (fk == "verified")
                    ev->verified = is_true(f.value);
            }
        }
    }

    p->brands.clear();
    p->labels.clear();
    dom::array arr;
    if (have_brands && !brands.get_array().get(arr)) {
        for (dom::element b : arr) {
            dom::object o;
            watch_event_brand wb = {nullptr, nullptr};
            if (b.get_object().get(o))
                continue;
            for (dom::key_value_pair f : o) {
                std::string_view fk = f.key;
                if (fk == "id")
                    wb.id = str_or_null(f.value);
                else if (fk == "name")
                    wb.name = str_or_null(f.value);
            }
            if (wb.id)
                p->brands.push_back(wb);
        }
    }
    if (have_labels && !labels.get_array().get(arr)) {
        for (dom::element l : arr) {
            const char *s = str_or_null(l);
            if (!s)
                return false;
            p->labels.push_back(s);
        }
    }
    ev->brands = p->brands.data();
    ev->n_brands = p->brands.size();
    ev->labels = p->labels.data();
    ev->n_labels = p->labels.size();
    return true;
}

} // namespace

extern "C" {

watch_event_parser *watch_event_parser_new(void) {
    try {
        return new watch_event_parser();
    } catch (...) {
        return nullptr;
    }
}

void watch_event_parser_free(watch_event_parser *p) {
    delete p;
}

watch_event_status watch_event_parse(watch_event_parser *p, const char *json, size_t len,
                                     watch_event *ev) {
    clear(ev);
    try {
        dom::element root;
        dom::object obj;

        /* A byte-order mark: simdjson skips it, jansson does not. */
        if (len >= 3 && (unsigned char)json[0] == 0xEF && (unsigned char)json[1] == 0xBB &&
            (unsigned char)json[2] == 0xBF)
            return WATCH_EVENT_UNSURE;
        if (has_risky_escape(json, len))
            return WATCH_EVENT_UNSURE;
        if (p->buf.size() < len + simdjson::SIMDJSON_PADDING)
            p->buf.resize(len + simdjson::SIMDJSON_PADDING);
        std::memcpy(p->buf.data(), json, len);
        std::memset(p->buf.data() + len, 0, simdjson::SIMDJSON_PADDING);
        if (p->parser.parse(p->buf.data(), len, false).get(root))
            return WATCH_EVENT_UNSURE; /* jansson says why, or reads it after all */
        if (!numbers_safe(root))
            return WATCH_EVENT_UNSURE;
        if (root.get_object().get(obj))
            return WATCH_EVENT_INVALID; /* valid JSON, not an object */
        if (!read_fields(p, obj, ev)) {
            clear(ev);
            return WATCH_EVENT_UNSURE;
        }
        if (!ev->id) {
            clear(ev);
            return WATCH_EVENT_INVALID;
        }
        return WATCH_EVENT_OK;
    } catch (...) {
        clear(ev);
        return WATCH_EVENT_UNSURE;
    }
}

watch_event_status watch_event_from_json(watch_event_parser *p, void *root_v, watch_event *ev) {
    json_t *root = static_cast<json_t *>(root_v), *v, *a, *br, *l;
    size_t i;

    clear(ev);
    ev->id = json_string_value(json_object_get(root, "id"));
    if (!json_is_object(root) || !ev->id) {
        ev->id = nullptr;
        return WATCH_EVENT_INVALID;
    }
    try {
        ev->created_at = json_string_value(json_object_get(root, "created_at"));
        ev->polarity = json_string_value(json_object_get(root, "polarity"));
        ev->respond_by = json_string_value(json_object_get(root, "respond_by"));
        ev->text = json_string_value(json_object_get(root, "text"));
        ev->priority = (int64_t)json_integer_value(json_object_get(root, "priority"));
        ev->retweet = json_is_true(json_object_get(root, "is_retweet"));
        if (json_is_object(a = json_object_get(root, "author"))) {
            ev->handle = json_string_value(json_object_get(a, "handle"));
            ev->followers = (int64_t)json_integer_value(json_object_get(a, "followers"));
            ev->verified = json_is_true(json_object_get(a, "verified"));
        }
        p->brands.clear();
        p->labels.clear();
        json_array_foreach(json_object_get(root, "brands"), i, br) {
            const char *id = json_string_value(json_object_get(br, "id"));
            if (id)
                p->brands.push_back({id, json_string_value(json_object_get(br, "name"))});
        }
        v = json_object_get(root, "labels");
        json_array_foreach(v, i, l) {
            if (json_is_string(l))
                p->labels.push_back(json_string_value(l));
        }
        ev->labels_json = json_is_array(v) ? v : nullptr;
    } catch (...) {
        clear(ev);
        return WATCH_EVENT_UNSURE;
    }
    ev->brands = p->brands.data();
    ev->n_brands = p->brands.size();
    ev->labels = p->labels.data();
    ev->n_labels = p->labels.size();
    return WATCH_EVENT_OK;
}

} // extern "C"

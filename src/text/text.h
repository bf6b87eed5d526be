/*
 * text: UTF-8 validation and the one normal form that both rule patterns and
 * post text are put into before Hyperscan sees them.
 *
 * The normal form (text_normalize): HTML character references decoded first
 * (&amp; &lt; &gt; &quot; &apos; &nbsp; &#N; &#xH;: Twitter's APIs escape
 * '&', '<' and '>', so "&lt;3" is a "<3" to rules), then compatibility decomposition (NFKD),
 * Unicode case folding, combining marks removed, so that "ＣＯＭＣＡＳＴ",
 * "Comcást" and "comcast" become the same bytes. Also (text.c says why):
 * default-ignorable code points (ZWJ, variation selectors, soft hyphen) are
 * removed, and look-alike punctuation becomes ASCII (utf8proc LUMP: every
 * dash and U+2212 -> '-', U+2019 -> '\'', space separators -> ' ').
 * It is applied per code point (no recomposition is needed because marks
 * are stripped), which keeps it context free: the same function is used on
 * patterns at rule-compile time and on posts at scan time, so they always
 * agree. ASCII takes a table fast
 * path; only non-ASCII code points go through utf8proc. Emoji, right-to-left
 * scripts and unassigned code points pass through (folded where Unicode says
 * so); control characters other than \t \n \r become a space.
 *
 * Contract:
 *   - text_utf8_valid() is a strict validator (no overlongs, no surrogates,
 *     nothing above U+10FFFF).
 *   - text_normalize() requires valid UTF-8 input and always produces valid
 *     UTF-8 output. The output is owned by the text_norm buffer and valid
 *     until the next call on it.
 *
 * Thread-safety: a text_norm is used by one thread at a time (one per worker).
 * Cost: ~1 byte/cycle class for ASCII; non-ASCII via utf8proc per code point.
 */
#ifndef EARSHOT_TEXT_H
#define EARSHOT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct text_norm text_norm;

text_norm *text_norm_new(void);
void text_norm_free(text_norm *tn);

bool text_utf8_valid(const char *s, size_t len);

/* Normalise s[0..len). Returns 0 and sets *out and *out_len, or -1 if s is not
 * valid UTF-8 or memory ran out. */
int text_normalize(text_norm *tn, const char *s, size_t len,
                   const char **out, size_t *out_len);

/* Shouting signals on the original text, for priority: the share of letters
 * that are upper case (0..1, 0 when fewer than 8 letters) and the longest run
 * of '!' characters. */
typedef struct text_shout {
    double caps_ratio;
    unsigned max_bang_run;
} text_shout;

text_shout text_shouting(const char *s, size_t len);

#endif

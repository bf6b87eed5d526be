/*
 * The JSON writer moved to src/base (base/base_json.h) so that modules that
 * only write JSON (the generator) need not link the matcher. This header
 * stays only for the files outside src/enrich that still include it by its
 * old name (src/pipeline/pipeline.c, src/cli/cmd_classify.c); new code
 * includes base/base_json.h.
 */
#ifndef EARSHOT_JBUF_H
#define EARSHOT_JBUF_H
#include "base/base_json.h"
#endif

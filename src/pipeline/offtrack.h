/*
 * offtrack: one input partition's offsets between "consumed" and "every
 * output acknowledged", and the offset that may be committed.
 *
 * Offsets are added in consumption order (strictly increasing; gaps are
 * normal: compaction, transaction markers). They are acknowledged in any
 * order (several workers, several output partitions). The commit position is
 * one past the highest offset whose every predecessor in the tracker is
 * acknowledged too: never past an unacknowledged message.
 *
 * Thread-safety: none; the pipeline guards each tracker with its partition's
 * mutex. Cost: add is amortised O(1); done is O(log n) (binary search over
 * the pending window) plus the entries it retires.
 */
#ifndef EARSHOT_PIPELINE_OFFTRACK_H
#define EARSHOT_PIPELINE_OFFTRACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct offtrack offtrack;

offtrack *offtrack_new(void);
void offtrack_free(offtrack *ot);

/* Records a consumed offset. Returns 0; -1 when offset is not greater than
 * the last one added (a message already seen: the caller skips it); -2 when
 * out of memory. */
int offtrack_add(offtrack *ot, int64_t offset);

/* Marks an added offset acknowledged. Returns the new commit position (the
 * offset to store: last contiguous acknowledged + 1) when it advanced, 0
 * when it did not, -1 when offset is not pending here. */
int64_t offtrack_done(offtrack *ot, int64_t offset);

/* Offsets added and not yet retired (acknowledged ones behind an
 * unacknowledged one count). */
size_t offtrack_pending(const offtrack *ot);

/* The highest offset added, -1 if none yet. */
int64_t offtrack_last_added(const offtrack *ot);

/* The last commit position returned, -1 if none yet. */
int64_t offtrack_committable(const offtrack *ot);

#endif

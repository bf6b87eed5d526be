/*
 * base_file: bounded, non-blocking reads of regular files (rules, cache
 * entries, the config). Used below every module that reads an operator's
 * file, so each refuses FIFOs, devices and endless files the same way.
 *
 * Thread-safety: none needed (no shared state). Cost: one open, one fstat,
 * reads of the file's size.
 */
#ifndef EARSHOT_BASE_FILE_H
#define EARSHOT_BASE_FILE_H

#include <stddef.h>

struct stat;

/* Open path read-only without blocking (O_NONBLOCK: a FIFO opens at once
 * instead of waiting for a writer) and close-on-exec, and fstat it into
 * *st. Returns the descriptor of a regular file; -1 with errno set when it
 * cannot be opened or stat'ed; -2 when it is something else (*st says what;
 * base_file_kind names it), the descriptor already closed. */
int base_file_open(const char *path, struct stat *st);

/* "a FIFO", "a device", "a directory", "a socket", "not a plain file". */
const char *base_file_kind(unsigned mode);

/* Read all of fd (from base_file_open; size_hint: its st_size) into a
 * malloc'd *buf (NUL-terminated, *len bytes before the NUL). 0; -1 with
 * errno set (ENOMEM when out of memory); -2 when it holds more than max
 * bytes, whether its size said so or it grew while being read. */
int base_file_read(int fd, long long size_hint, size_t max, char **buf, size_t *len);

#endif

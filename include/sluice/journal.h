/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal.h - the write-ahead record of every kernel object a topology owns.
 *
 * Before bring-up creates an object it appends one line naming it to
 * <rundir>/<topo>/journal (write(2) on tmpfs: a kill -9 of the daemon cannot
 * lose a line that was written). Undoing the journal, newest line first,
 * removes everything that may exist, whether bring-up finished, failed or
 * was killed half way. A line "commit" marks a finished bring-up; objects
 * made later, at run time, follow it.
 *
 * Lines: "ns <name>", "veth <netns> <ifname>", "pin <dir>", "file <path>",
 * "dir <path>", "cgroup <path>", "proc <pid> <start time>", "commit". Unknown lines are kept and skipped on undo.
 */
#ifndef SLUICE_JOURNAL_H
#define SLUICE_JOURNAL_H

#include <stdbool.h>

#include <sluice/err.h>

struct sl_journal;

/* Opens (creating) for appending. */
struct sl_journal *sl_journal_open(const char *path, struct sl_err *err);
void sl_journal_free(struct sl_journal *j);
/* Appends "<kind> <arg>[ <arg2>]\n" now. */
int sl_journal_add(struct sl_journal *j, const char *kind, const char *arg,
		   const char *arg2, struct sl_err *err);
int sl_journal_commit(struct sl_journal *j, struct sl_err *err);

/* True when the journal at path has its "commit" line (objects made at
 * run time, such as relay processes, are journaled after it). */
bool sl_journal_committed(const char *path);

/*
 * Calls fn(arg, ctx) for each line "<kind> <arg>" of the journal at path,
 * oldest first, arg being the rest of the line; a non-zero return stops
 * the walk and is returned. A missing journal has no lines (returns 0).
 */
int sl_journal_each(const char *path, const char *kind,
		    int (*fn)(const char *arg, void *ctx), void *ctx);

/*
 * Removes every object named in the journal at path, newest first, then the
 * journal itself. Objects already gone are fine. Returns 0 when everything
 * is gone, else the first error (and goes on with the rest).
 * removed, when not NULL, counts the objects removed.
 */
int sl_journal_undo(const char *path, unsigned *removed, struct sl_err *err);

#endif

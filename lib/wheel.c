// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * wheel.c - the timing wheel that wakes channels at their next event
 * (include/sluice/cell.h). One wheel per dataplane thread.
 *
 * A hierarchical wheel with cascading (Varghese and Lauck), 1 us ticks:
 *
 *   level 0: 256 slots of 1 tick          (deadlines < 256 us ahead)
 *   level L: 64 slots of 2^(8+6(L-1)) ticks, L = 1..4 (up to 2^32 us ahead)
 *
 * A timer's tick is its deadline rounded up to the microsecond, so it never
 * fires early. Arm and cancel are O(1): slots are intrusive lists with
 * pprev links. When the clock enters a new block of level L, that block's
 * slot is cascaded: its timers are placed again relative to the new clock,
 * which puts them one level or more lower.
 *
 * Invariants (cur = the first tick not yet processed):
 *  - every timer in level 0 has a tick in [cur, cur + 256), so its slot
 *    gives its tick exactly;
 *  - every timer in level L >= 1 lies in a level-L block in
 *    (block(cur), block(cur) + 64]: the slot of cur's own block holds
 *    only the block 64 ahead, and slots are visited in circular order
 *    from block(cur) + 1;
 *  - timers already due wait on the ready list.
 * The clock jumps over empty ticks (advance() cascades only the slots of
 * the blocks it lands in; the blocks it skips are empty because no timer
 * is earlier than the target), so an idle wheel costs nothing per tick.
 */
#include <stdlib.h>

#include <sluice/cell.h>

#define L0_BITS 8
#define L0_SIZE (1u << L0_BITS)
#define LN_BITS 6
#define LN_SIZE (1u << LN_BITS)
#define N_UPPER 4
#define HORIZON (1ull << (L0_BITS + N_UPPER * LN_BITS)) /* 2^32 ticks */

struct sl_wheel {
	uint64_t cur;
	struct sl_timer *l0[L0_SIZE];
	uint64_t bm0[L0_SIZE / 64];
	struct sl_timer *ln[N_UPPER][LN_SIZE];
	uint64_t bmn[N_UPPER];
	struct sl_timer *ready;
	uint64_t ready_min; /* smallest tick on the ready list */
	unsigned count;
	bool next_valid; /* next_tick caches the smallest tick in the levels */
	uint64_t next_tick;
};

static inline unsigned shift_of(int level) /* level 1..N_UPPER */
{
	return L0_BITS + (unsigned)(level - 1) * LN_BITS;
}

static void list_add(struct sl_timer **head, struct sl_timer *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

/* Clears the bitmap bit of the slot when pprev was its head and it is now
 * empty: the pointer itself says which slot it was. */
static void note_removed(struct sl_wheel *w, struct sl_timer **pprev)
{
	if (*pprev)
		return;
	if (pprev >= &w->l0[0] && pprev < &w->l0[L0_SIZE]) {
		size_t i = (size_t)(pprev - &w->l0[0]);

		w->bm0[i / 64] &= ~(1ull << (i % 64));
	} else if (pprev >= &w->ln[0][0] && pprev < &w->ln[0][0] + N_UPPER * LN_SIZE) {
		size_t i = (size_t)(pprev - &w->ln[0][0]);

		w->bmn[i / LN_SIZE] &= ~(1ull << (i % LN_SIZE));
	}
}

static void unlink_timer(struct sl_wheel *w, struct sl_timer *t)
{
	struct sl_timer **pprev = t->pprev;

	*pprev = t->next;
	if (t->next)
		t->next->pprev = pprev;
	t->next = NULL;
	t->pprev = NULL;
	note_removed(w, pprev);
}

static void place(struct sl_wheel *w, struct sl_timer *t)
{
	uint64_t tick = t->tick, delta;
	unsigned bits, i;
	int level;

	if (tick < w->cur) {
		if (!w->ready || tick < w->ready_min)
			w->ready_min = tick;
		list_add(&w->ready, t);
		return;
	}
	if (w->next_valid && tick < w->next_tick)
		w->next_tick = tick;
	delta = tick - w->cur;
	if (delta < L0_SIZE) {
		i = (unsigned)(tick & (L0_SIZE - 1));
		list_add(&w->l0[i], t);
		w->bm0[i / 64] |= 1ull << (i % 64);
		return;
	}
	bits = 64u - (unsigned)__builtin_clzll(delta);
	level = (int)((bits - L0_BITS + LN_BITS - 1) / LN_BITS);
	i = (unsigned)((tick >> shift_of(level)) & (LN_SIZE - 1));
	list_add(&w->ln[level - 1][i], t);
	w->bmn[level - 1] |= 1ull << i;
}

struct sl_wheel *sl_wheel_new(uint64_t now)
{
	struct sl_wheel *w = calloc(1, sizeof(*w));

	if (w)
		w->cur = now / SL_NSEC_PER_USEC;
	return w;
}

void sl_wheel_free(struct sl_wheel *w)
{
	free(w);
}

unsigned sl_wheel_count(const struct sl_wheel *w)
{
	return w->count;
}

void sl_wheel_cancel(struct sl_wheel *w, struct sl_timer *t)
{
	if (!sl_timer_armed(t))
		return;
	unlink_timer(w, t);
	w->count--;
	if (w->next_valid && t->tick == w->next_tick)
		w->next_valid = false;
}

void sl_wheel_arm(struct sl_wheel *w, struct sl_timer *t, uint64_t expires)
{
	uint64_t tick;

	sl_wheel_cancel(w, t);
	t->expires = expires;
	tick = expires / SL_NSEC_PER_USEC + (expires % SL_NSEC_PER_USEC != 0);
	if (tick >= w->cur && tick - w->cur >= HORIZON)
		tick = w->cur + HORIZON - 1;
	t->tick = tick;
	place(w, t);
	w->count++;
}

static uint64_t min_tick_of(const struct sl_timer *t)
{
	uint64_t m = SL_TIME_NEVER;

	for (; t; t = t->next)
		if (t->tick < m)
			m = t->tick;
	return m;
}

/* Smallest tick among the timers in the levels (not the ready list). */
static uint64_t levels_next(struct sl_wheel *w)
{
	unsigned idx0 = (unsigned)(w->cur & (L0_SIZE - 1)), k, i;
	uint64_t best = SL_TIME_NEVER, word, m;
	int level;

	if (w->next_valid)
		return w->next_tick;
	/* Level 0 from cur to the end of cur's level-1 block: anything found
	 * there is earlier than every upper-level timer. */
	for (k = idx0 / 64; k < L0_SIZE / 64; k++) {
		word = w->bm0[k];
		if (k == idx0 / 64)
			word &= ~0ull << (idx0 % 64);
		if (word) {
			i = k * 64 + (unsigned)__builtin_ctzll(word);
			best = w->cur + (i - idx0);
			goto out;
		}
	}
	/* Level 0 wrapped around: ticks in the next level-1 block. */
	for (k = 0; k <= idx0 / 64; k++) {
		word = w->bm0[k];
		if (k == idx0 / 64)
			word &= (idx0 % 64) ? ~(~0ull << (idx0 % 64)) : 0;
		if (word) {
			i = k * 64 + (unsigned)__builtin_ctzll(word);
			best = w->cur + (i + L0_SIZE - idx0);
			break;
		}
	}
	for (level = 1; level <= N_UPPER; level++) {
		unsigned first;

		word = w->bmn[level - 1];
		if (!word)
			continue;
		first = (unsigned)(((w->cur >> shift_of(level)) + 1) &
				   (LN_SIZE - 1));
		/* rotate so that bit 0 is slot `first` */
		word = first ? (word >> first) | (word << (LN_SIZE - first))
			     : word;
		i = (first + (unsigned)__builtin_ctzll(word)) & (LN_SIZE - 1);
		m = min_tick_of(w->ln[level - 1][i]);
		if (m < best)
			best = m;
	}
out:
	w->next_tick = best;
	w->next_valid = true;
	return best;
}

uint64_t sl_wheel_next(struct sl_wheel *w)
{
	uint64_t tick;

	if (w->ready)
		return w->ready_min * SL_NSEC_PER_USEC;
	tick = levels_next(w);
	if (tick == SL_TIME_NEVER)
		return SL_TIME_NEVER;
	return tick * SL_NSEC_PER_USEC;
}

static void cascade(struct sl_wheel *w, int level, unsigned i)
{
	struct sl_timer *t = w->ln[level - 1][i], *next;

	w->ln[level - 1][i] = NULL;
	w->bmn[level - 1] &= ~(1ull << i);
	for (; t; t = next) {
		next = t->next;
		t->next = NULL;
		t->pprev = NULL;
		place(w, t);
	}
}

/* Moves the clock to `to`; no timer in the levels may be earlier. */
static void advance(struct sl_wheel *w, uint64_t to)
{
	uint64_t from = w->cur;
	int level;

	if (to <= from)
		return;
	w->cur = to;
	for (level = N_UPPER; level >= 1; level--) {
		unsigned s = shift_of(level);

		if ((from >> s) != (to >> s))
			cascade(w, level, (unsigned)((to >> s) & (LN_SIZE - 1)));
	}
}

struct sl_timer *sl_wheel_expire(struct sl_wheel *w, uint64_t now)
{
	uint64_t target = now / SL_NSEC_PER_USEC, n;
	struct sl_timer *t, **slot;
	unsigned i;

	if (!w->ready && target >= w->cur) {
		n = levels_next(w);
		if (n == SL_TIME_NEVER) {
			w->cur = target + 1;
		} else if (n > target) {
			advance(w, target + 1);
		} else {
			advance(w, n);
			i = (unsigned)(n & (L0_SIZE - 1));
			slot = &w->l0[i];
			w->ready = *slot;
			if (w->ready)
				w->ready->pprev = &w->ready;
			w->ready_min = n;
			*slot = NULL;
			w->bm0[i / 64] &= ~(1ull << (i % 64));
			w->next_valid = false;
			advance(w, n + 1);
		}
	}
	t = w->ready;
	if (!t)
		return NULL;
	unlink_timer(w, t);
	w->count--;
	return t;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * An intrusive doubly linked list, after the kernel's list.h: a struct list
 * is both the head of a list and the link embedded in each entry, so adding
 * and removing take no allocation, and an entry removes itself without
 * knowing which list it is on. A head links to itself when the list is empty.
 *
 *	struct session { struct list link; ... };
 *	struct list sessions = LIST_INIT(sessions);
 *	list_add(&sessions, &s->link);
 *	list_for_each_entry(s, &sessions, link) ...
 */

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"

struct list {
	struct list *prev, *next;
};

#define LIST_INIT(name)          \
	{                        \
		&(name), &(name) \
	}

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list *head)
{
	return head->next == head;
}

/* Whether @entry is on a list (it was added and not removed since). */
static inline bool list_linked(const struct list *entry)
{
	return entry->next != NULL && entry->next != entry;
}

static inline void list_insert_between(struct list *entry, struct list *prev, struct list *next)
{
	entry->prev = prev;
	entry->next = next;
	prev->next = entry;
	next->prev = entry;
}

/* Adds @entry first (newest first, when the list is walked forwards). */
static inline void list_add(struct list *head, struct list *entry)
{
	list_insert_between(entry, head, head->next);
}

/* Adds @entry last. */
static inline void list_add_tail(struct list *head, struct list *entry)
{
	list_insert_between(entry, head->prev, head);
}

/* Takes @entry off its list and leaves it linked to itself: removing it again is harmless. */
static inline void list_remove(struct list *entry)
{
	entry->prev->next = entry->next;
	entry->next->prev = entry->prev;
	list_init(entry);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)

/* Walks forwards; the body must not remove @pos (use list_for_each_entry_safe). */
#define list_for_each_entry(pos, head, member)                                                 \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

/* Walks forwards; the body may remove @pos (@n holds the next). */
#define list_for_each_entry_safe(pos, n, head, member)                  \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),  \
	    n = list_entry(pos->member.next, __typeof__(*pos), member); \
	     &pos->member != (head);                                    \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

/* Walks backwards (oldest first, for a list that list_add() fills). */
#define list_for_each_entry_reverse(pos, head, member)                                         \
	for (pos = list_entry((head)->prev, __typeof__(*pos), member); &pos->member != (head); \
	     pos = list_entry(pos->member.prev, __typeof__(*pos), member))

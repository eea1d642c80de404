// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Connection table: entries live in fixed-size chunks (no large realloc,
 * slack bounded by one chunk), addressed by 32-bit index; a chained hash on
 * the cookie; an LRU list of live connections for eviction at the bound; a
 * FIFO of timewait entries, which expire TCP_TIMEWAIT_LEN after handoff.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pure/conntab.h"

#define CHUNK_SHIFT 12
#define CHUNK_SIZE (1u << CHUNK_SHIFT)
#define NIL UINT32_MAX

struct list {
	uint32_t head, tail; /* head: newest */
};

struct conntab {
	struct conn **chunks;
	uint32_t nchunks;
	uint32_t carved;	/* entries taken from chunks so far */
	uint32_t free_head;	/* free entries, linked by hnext */
	uint32_t live, max_live;
	uint32_t *buckets;
	uint32_t nbuckets, bucket_shift;
	struct list lru;	/* live connections, most recently active first */
	struct list tw;		/* timewait entries, newest first */
	uint64_t now_ns;
	struct conntab_stats st;
	struct droptab *drops;
};

static inline struct conn *at(const struct conntab *t, uint32_t i)
{
	return &t->chunks[i >> CHUNK_SHIFT][i & (CHUNK_SIZE - 1)];
}

static inline uint32_t bucket_of(const struct conntab *t, uint64_t cookie)
{
	return (cookie * 0x9e3779b97f4a7c15ULL) >> t->bucket_shift;
}

static void list_unlink(struct conntab *t, struct list *l, uint32_t i)
{
	struct conn *c = at(t, i);

	if (c->lru_prev != NIL)
		at(t, c->lru_prev)->lru_next = c->lru_next;
	else
		l->head = c->lru_next;
	if (c->lru_next != NIL)
		at(t, c->lru_next)->lru_prev = c->lru_prev;
	else
		l->tail = c->lru_prev;
	c->lru_prev = c->lru_next = NIL;
}

static void list_push(struct conntab *t, struct list *l, uint32_t i)
{
	struct conn *c = at(t, i);

	c->lru_prev = NIL;
	c->lru_next = l->head;
	if (l->head != NIL)
		at(t, l->head)->lru_prev = i;
	l->head = i;
	if (l->tail == NIL)
		l->tail = i;
}

static int rehash(struct conntab *t, uint32_t nbuckets)
{
	uint32_t *b = malloc(sizeof(*b) * nbuckets), shift = 64, i;
	struct list *lists[2] = { &t->lru, &t->tw };

	if (!b)
		return -ENOMEM;
	for (i = nbuckets; i > 1; i >>= 1)
		shift--;
	memset(b, 0xff, sizeof(*b) * nbuckets);
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nbuckets;
	t->bucket_shift = shift;
	/* every entry is on one of the two lists */
	for (int l = 0; l < 2; l++)
		for (i = lists[l]->head; i != NIL; i = at(t, i)->lru_next) {
			uint32_t h = bucket_of(t, at(t, i)->cookie);

			at(t, i)->hnext = b[h];
			b[h] = i;
		}
	return 0;
}

struct conntab *conntab__new(uint32_t max_live)
{
	struct conntab *t;

	if (!max_live || max_live >= NIL) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->max_live = max_live;
	t->free_head = NIL;
	t->lru.head = t->lru.tail = NIL;
	t->tw.head = t->tw.tail = NIL;
	t->drops = droptab__new(DROPTAB_MAX_FLOWS);
	if (!t->drops || rehash(t, 1024)) {
		droptab__free(t->drops);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void conntab__free(struct conntab *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->buckets);
	droptab__free(t->drops);
	free(t);
}

void conn_tuple(const struct conn *c, struct drop_tuple *t4)
{
	t4->family = c->family;
	t4->lport = c->sport;
	t4->rport = c->dport;
	memcpy(t4->laddr, c->saddr, 16);
	memcpy(t4->raddr, c->daddr, 16);
}

/* When c was first known to exist (0: unknown). */
static uint64_t conn_since(const struct conn *c)
{
	for (int i = 0; i < c->npath; i++)
		if (c->enter_ns[i])
			return c->enter_ns[i];
	return 0;
}

void conntab__drops(const struct conntab *t, const struct conn *c, bool peer, uint64_t since_ns,
		    struct drop_list *l)
{
	struct drop_tuple t4;

	conn_tuple(c, &t4);
	droptab__collect(t->drops, &t4, c->netns, peer, since_ns, l);
}

struct droptab *conntab__droptab(const struct conntab *t)
{
	return t->drops;
}

/* The drops of an ending connection's segments, for its history (they
 * stay in the table until they expire: an alert's resolution, after this,
 * tells them too). */
static void end_drops(struct conntab *t, const struct conn *c, struct conn_end *end)
{
	struct drop_tuple t4;

	conn_tuple(c, &t4);
	droptab__collect(t->drops, &t4, c->netns, false, conn_since(c), &end->drops);
}

static uint32_t find(const struct conntab *t, uint64_t cookie)
{
	uint32_t i = t->buckets[bucket_of(t, cookie)];

	while (i != NIL && at(t, i)->cookie != cookie)
		i = at(t, i)->hnext;
	return i;
}

const struct conn *conntab__lookup(const struct conntab *t, uint64_t cookie)
{
	uint32_t i = find(t, cookie);

	return i == NIL ? NULL : at(t, i);
}

struct conn *conntab__lookup_mut(struct conntab *t, uint64_t cookie)
{
	uint32_t i = find(t, cookie);

	return i == NIL ? NULL : at(t, i);
}

void conntab__foreach(struct conntab *t, bool (*fn)(void *ctx, struct conn *c), void *ctx)
{
	for (uint32_t i = t->lru.head; i != NIL; i = at(t, i)->lru_next)
		if (!fn(ctx, at(t, i)))
			return;
}

static void hash_remove(struct conntab *t, uint32_t i)
{
	uint32_t *p = &t->buckets[bucket_of(t, at(t, i)->cookie)];

	while (*p != i)
		p = &at(t, *p)->hnext;
	*p = at(t, i)->hnext;
}

/* Drop entry i from the table (it is on list l). */
static void remove_entry(struct conntab *t, struct list *l, uint32_t i)
{
	hash_remove(t, i);
	list_unlink(t, l, i);
	at(t, i)->hnext = t->free_head;
	at(t, i)->cookie = 0;
	t->free_head = i;
	t->live--;
}

static void evict_one(struct conntab *t, conn_emit_fn emit, void *ctx)
{
	uint32_t i;

	/* timewait entries are already reported: they go first */
	if (t->tw.tail != NIL) {
		remove_entry(t, &t->tw, t->tw.tail);
		t->st.timewait_evicted++;
		return;
	}
	t->st.evicted++;
	i = t->lru.tail;
	if (emit) {
		struct conn_end end = { .end_ns = t->now_ns, .reason = END_EVICTED };

		end_drops(t, at(t, i), &end);
		emit(ctx, at(t, i), &end);
	}
	remove_entry(t, &t->lru, i);
}

static int alloc_entry(struct conntab *t, uint32_t *out)
{
	uint32_t i;

	if (t->free_head != NIL) {
		i = t->free_head;
		t->free_head = at(t, i)->hnext;
	} else {
		if ((t->carved & (CHUNK_SIZE - 1)) == 0) {
			struct conn **ch = realloc(t->chunks, sizeof(*ch) * (t->nchunks + 1));

			if (!ch)
				return -ENOMEM;
			t->chunks = ch;
			ch[t->nchunks] = malloc(sizeof(struct conn) * CHUNK_SIZE);
			if (!ch[t->nchunks])
				return -ENOMEM;
			t->nchunks++;
		}
		i = t->carved++;
	}
	*out = i;
	return 0;
}

static int insert(struct conntab *t, const struct tcpfsm_event *e, conn_emit_fn emit, void *ctx,
		  struct conn **out)
{
	uint32_t i, h;
	struct conn *c;
	int err;

	if (t->live >= t->max_live)
		evict_one(t, emit, ctx);
	if (t->live >= t->nbuckets && t->nbuckets < (1u << 31)) {
		err = rehash(t, t->nbuckets * 2);
		if (err)
			return err;
	}
	err = alloc_entry(t, &i);
	if (err)
		return err;
	c = at(t, i);
	memset(c, 0, sizeof(*c));
	c->cookie = e->cookie;
	h = bucket_of(t, e->cookie);
	c->hnext = t->buckets[h];
	t->buckets[h] = i;
	list_push(t, &t->lru, i);
	t->live++;
	*out = c;
	return 0;
}

static void path_push(struct conn *c, uint8_t state, uint64_t enter_ns)
{
	if (c->npath < CONN_PATH_MAX) {
		c->states[c->npath] = state;
		c->enter_ns[c->npath++] = enter_ns;
		return;
	}
	/* keep the first states and the latest: the one it replaces is skipped */
	if (c->skipped < UINT16_MAX)
		c->skipped++;
	c->states[CONN_PATH_MAX - 1] = state;
	c->enter_ns[CONN_PATH_MAX - 1] = enter_ns;
}

/* Identity as of this record: ports and addresses once they are known. */
static void update_identity(struct conn *c, const struct tcpfsm_event *e)
{
	c->family = e->family;
	c->netns = e->netns;
	if (e->sport || !c->sport) {
		c->sport = e->sport;
		memcpy(c->saddr, e->saddr, sizeof(c->saddr));
	}
	if (e->dport || !c->dport) {
		c->dport = e->dport;
		memcpy(c->daddr, e->daddr, sizeof(c->daddr));
	}
	if (e->flags & TCPFSM_F_OWNER) {
		c->pid = e->pid;
		c->cgroup_id = e->cgroup_id;
		memcpy(c->comm, e->comm, sizeof(c->comm));
		c->flags |= CONN_OWNER;
	} else if (e->kind == TCPFSM_KIND_SNAPSHOT && e->cgroup_id) {
		c->cgroup_id = e->cgroup_id;
	}
	c->evidence = e->evidence;
	c->syn_retrans = e->syn_retrans;
	if (e->ino)
		c->ino = e->ino;
}

enum end_reason conn_end_reason(const struct conn *c, const struct tcpfsm_event *last)
{
	uint8_t old = last->oldstate, ev = last->evidence;

	if (old == TCPFSM_SYN_SENT) {
		if (ev & TCPFSM_EV_RST_RECV)
			return END_REFUSED;
		/* the SYN retransmit timer gave up (it runs in softirq) */
		if (last->syn_retrans && (last->flags & TCPFSM_F_SOFTIRQ))
			return END_TIMEOUT;
		return END_ABORTED;
	}
	if (ev & TCPFSM_EV_RST_RECV)
		return END_RESET_RECEIVED;
	if (ev & TCPFSM_EV_RST_SENT)
		return END_RESET_SENT;
	/*
	 * An abortive close() (SO_LINGER 0, unread data) or disconnect moves
	 * these states to CLOSE in the owner's system call and only then sends
	 * the RST, so no evidence can precede the event (tcp_disconnect). In
	 * softirq the same transition is a timer giving up.
	 */
	if (!(last->flags & TCPFSM_F_SOFTIRQ) &&
	    (old == TCPFSM_ESTABLISHED || old == TCPFSM_CLOSE_WAIT || old == TCPFSM_FIN_WAIT1 ||
	     old == TCPFSM_SYN_RECV))
		return END_RESET_SENT;
	/* FIN_WAIT2 -> CLOSE in a system call is mostly close() handing the
	 * socket to a timewait socket (or a FIN taken from the backlog): read
	 * as normal; an abortive close from FIN_WAIT2 is misread (README) */
	switch (old) {
	case TCPFSM_FIN_WAIT2:
	case TCPFSM_CLOSING:
	case TCPFSM_LAST_ACK:
	case TCPFSM_TIME_WAIT:
	case TCPFSM_LISTEN:
		return END_NORMAL;
	default:
		return END_ABORTED;
	}
}

static bool record_valid(const struct tcpfsm_event *e)
{
	return e->kind < TCPFSM_KIND_MAX && e->oldstate > 0 && e->oldstate < TCPFSM_STATE_MAX &&
	       e->newstate > 0 && e->newstate < TCPFSM_STATE_MAX &&
	       (e->family == TCPFSM_AF_INET || e->family == TCPFSM_AF_INET6) && e->cookie;
}

static int apply_snapshot(struct conntab *t, const struct tcpfsm_event *e, conn_emit_fn emit,
			  void *ctx)
{
	struct conn *c;
	uint32_t i;
	int err;

	if (find(t, e->cookie) != NIL)
		return 0; /* seen already (a namespace reached twice) */
	err = insert(t, e, emit, ctx, &c);
	if (err)
		return err;
	update_identity(c, e);
	c->flags |= CONN_SEEDED;
	/* a socket older than us: its age is a lower bound; one the lazy
	 * sweep started tracking: ts_ns is when it entered its state */
	if (e->flags & TCPFSM_F_PREEXISTING)
		c->flags |= CONN_FIRST_LOWER;
	if (e->flags & TCPFSM_F_TIMEWAIT) {
		/* a connection that already ended: only its timewait socket is
		 * left, and it expires at the latest TCP_TIMEWAIT_LEN from now */
		c->state = TCPFSM_TIME_WAIT;
		path_push(c, TCPFSM_TIME_WAIT, e->ts_ns);
		c->flags |= CONN_TIMEWAIT;
		i = find(t, e->cookie);
		list_unlink(t, &t->lru, i);
		list_push(t, &t->tw, i);
	} else {
		c->state = e->newstate;
		path_push(c, e->newstate, e->ts_ns);
	}
	t->st.applied++;
	return 0;
}

/* When the record's socket entered its old state, if the kernel timed it. */
static uint64_t old_state_entered(const struct tcpfsm_event *e)
{
	return e->old_duration_ns != TCPFSM_DURATION_UNKNOWN && e->old_duration_ns <= e->ts_ns ?
		       e->ts_ns - e->old_duration_ns :
		       0;
}

/*
 * A self-transition: the kernel "entered" the state the socket is already
 * in (close() after shutdown() gives FIN_WAIT1 -> FIN_WAIT1, FIN_WAIT2 ->
 * FIN_WAIT2, CLOSING -> CLOSING). The socket stays where it was and its
 * time there goes on: no new path entry, no gap. Its old_duration_ns is the
 * time in the state so far, which places a socket first seen here.
 */
static int apply_same_state(struct conntab *t, const struct tcpfsm_event *e, uint32_t i,
			    conn_emit_fn emit, void *ctx)
{
	struct conn *c;
	int err;

	t->st.same_state++;
	if (i == NIL) {
		/* a closed socket closed again is nothing to follow */
		if (e->newstate == TCPFSM_CLOSE)
			return 0;
		err = insert(t, e, emit, ctx, &c);
		if (err)
			return err;
		c->state = e->newstate;
		path_push(c, e->newstate, old_state_entered(e));
	} else {
		c = at(t, i);
		/* its connection ended: the timewait socket has no state to re-enter */
		if (c->flags & CONN_TIMEWAIT)
			return 0;
		if (c->state != e->oldstate) {
			/* we missed how it got there */
			c->flags |= CONN_GAP;
			c->state = e->newstate;
			path_push(c, e->newstate, old_state_entered(e));
		}
		list_unlink(t, &t->lru, i);
		list_push(t, &t->lru, i);
	}
	update_identity(c, e);
	t->st.applied++;
	return 0;
}

int conntab__apply(struct conntab *t, const struct tcpfsm_event *e, conn_emit_fn emit, void *ctx)
{
	uint32_t i;
	struct conn *c;
	int err;

	/* kept by 4-tuple, tracked connection or not (yet) */
	if (e->kind == TCPFSM_KIND_DROP)
		return droptab__add(t->drops, e);
	if (!record_valid(e))
		return -EINVAL;
	if (e->ts_ns > t->now_ns)
		t->now_ns = e->ts_ns;
	/* half-open requests are not connections yet: the watch engine keeps
	 * them (they end without any event we could see) */
	if (e->newstate == TCPFSM_NEW_SYN_RECV && e->kind != TCPFSM_KIND_TRANSITION)
		return 0;
	if (e->kind == TCPFSM_KIND_SNAPSHOT)
		return apply_snapshot(t, e, emit, ctx);
	if (e->kind == TCPFSM_KIND_EVIDENCE) {
		/* news for a socket we track: keep it for the diagnosis */
		i = find(t, e->cookie);
		/* (a connecting socket's port is known only from here on) */
		if (i != NIL && !(at(t, i)->flags & CONN_TIMEWAIT))
			update_identity(at(t, i), e);
		return 0;
	}

	i = find(t, e->cookie);
	if (i != NIL) {
		c = at(t, i);
		if ((c->flags & CONN_SEEDED) && c->npath == 1 && e->ts_ns <= c->enter_ns[0]) {
			/* happened before the snapshot saw the socket (a timewait
			 * one too: its older transitions led there) */
			t->st.duplicates++;
			return 0;
		}
		if (e->oldstate == e->newstate)
			return apply_same_state(t, e, i, emit, ctx);
		if (c->flags & CONN_TIMEWAIT) {
			/* the cookie is reused only by a new life of the same
			 * socket (reconnect after CLOSE): start afresh */
			remove_entry(t, &t->tw, i);
			i = NIL;
		}
	} else if (e->oldstate == e->newstate) {
		return apply_same_state(t, e, i, emit, ctx);
	}
	if (i == NIL) {
		err = insert(t, e, emit, ctx, &c);
		if (err)
			return err;
		i = find(t, e->cookie);
		if (e->oldstate == TCPFSM_CLOSE ||
		    (e->oldstate == TCPFSM_LISTEN && e->newstate == TCPFSM_SYN_RECV)) {
			/* a new socket, or a new child of a listener */
			c->flags |= CONN_COMPLETE;
		} else {
			/* first seen mid-life: the old state's start is known only
			 * if the kernel timed it */
			path_push(c, e->oldstate, old_state_entered(e));
		}
	} else {
		if (c->state != e->oldstate)
			c->flags |= CONN_GAP;
		list_unlink(t, &t->lru, i);
		list_push(t, &t->lru, i);
	}
	update_identity(c, e);
	t->st.applied++;

	if (e->newstate != TCPFSM_CLOSE) {
		c->state = e->newstate;
		path_push(c, e->newstate, e->ts_ns);
		return 0;
	}

	/* closed: report it */
	{
		struct conn_end end = { .end_ns = e->ts_ns, .reason = conn_end_reason(c, e) };

		end.timewait = end.reason == END_NORMAL &&
			       (e->oldstate == TCPFSM_FIN_WAIT2 || e->oldstate == TCPFSM_CLOSING);
		c->state = end.timewait ? TCPFSM_TIME_WAIT : TCPFSM_CLOSE;
		path_push(c, c->state, e->ts_ns);
		t->st.closed++;
		end_drops(t, c, &end);
		if (emit)
			emit(ctx, c, &end);
		if (end.timewait) {
			/* the kernel keeps a timewait socket with this cookie */
			c->flags |= CONN_TIMEWAIT;
			list_unlink(t, &t->lru, i);
			list_push(t, &t->tw, i);
		} else {
			remove_entry(t, &t->lru, i);
		}
	}
	return 0;
}

void conntab__expire(struct conntab *t, uint64_t now_ns)
{
	if (now_ns > t->now_ns)
		t->now_ns = now_ns;
	droptab__expire(t->drops, t->now_ns);
	while (t->tw.tail != NIL) {
		struct conn *c = at(t, t->tw.tail);

		if (c->enter_ns[c->npath - 1] + CONN_TIMEWAIT_NS > t->now_ns)
			break;
		remove_entry(t, &t->tw, t->tw.tail);
		t->st.timewait_expired++;
	}
}

uint32_t conntab__live(const struct conntab *t)
{
	return t->live;
}

void conntab__count_states(const struct conntab *t, uint32_t counts[TCPFSM_STATE_MAX])
{
	memset(counts, 0, sizeof(uint32_t) * TCPFSM_STATE_MAX);
	for (uint32_t i = t->lru.head; i != NIL; i = at(t, i)->lru_next)
		if (at(t, i)->state < TCPFSM_STATE_MAX)
			counts[at(t, i)->state]++;
	for (uint32_t i = t->tw.head; i != NIL; i = at(t, i)->lru_next)
		counts[TCPFSM_TIME_WAIT]++;
}

size_t conntab__memory(const struct conntab *t)
{
	return sizeof(*t) + (size_t)t->nchunks * (CHUNK_SIZE * sizeof(struct conn) + sizeof(void *)) +
	       (size_t)t->nbuckets * sizeof(uint32_t);
}

const struct conntab_stats *conntab__stats(const struct conntab *t)
{
	return &t->st;
}

static const char *const reason_names[END_REASON_MAX] = {
	[END_NORMAL] = "normal",	 [END_RESET_RECEIVED] = "reset_received",
	[END_RESET_SENT] = "reset_sent", [END_REFUSED] = "refused",
	[END_TIMEOUT] = "timeout",	 [END_ABORTED] = "aborted",
	[END_EVICTED] = "evicted",
};

static const char *const reason_texts[END_REASON_MAX] = {
	[END_NORMAL] = "normal close",	      [END_RESET_RECEIVED] = "reset received",
	[END_RESET_SENT] = "reset sent",      [END_REFUSED] = "connect refused",
	[END_TIMEOUT] = "connect timed out", [END_ABORTED] = "aborted",
	[END_EVICTED] = "evicted (table full)",
};

const char *end_reason_name(enum end_reason r)
{
	return r < END_REASON_MAX ? reason_names[r] : "unknown";
}

const char *end_reason_text(enum end_reason r)
{
	return r < END_REASON_MAX ? reason_texts[r] : "unknown";
}

/* pattern_index — a trie of pattern prefixes and the walk over folded text (see
 * pattern_index.h). The trie is built with sibling links, then frozen into a compact
 * layout: contiguous children, and a direct table for nodes with many children. */
#include "autoconf.h"
#include "engine/pattern_index.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define LETTER_SLOTS 37         /* a-z, 0-9, space */

struct pattern_index_entry {
	const char *prefix;     /* points into the set's prefix storage */
	uint32_t len;
	uint32_t index;         /* pattern->index and pattern->owner, copied here so that */
	int32_t owner;          /* skipping an entry touches no other memory */
	bool requirement;       /* a word the pattern needs further on, not where it starts */
	bool full_scope;        /* copied from the pattern */
	void *payload;          /* the caller's pattern */
};

struct dispatch_list {
	struct pattern_index_entry *entries;
	size_t count, cap;
};

/* A trie over the prefixes: walking the text from a word start letter by letter meets
 * every prefix found there, without hashing or comparing strings. Nodes are small (first child,
 * next sibling) so that the whole trie stays in the processor's cache. */

struct trie_node {
	uint32_t first_child;   /* node index, 0 = none (node 0 is unused) */
	uint32_t next_sibling;  /* node index, 0 = none */
	int32_t list;           /* index in lists of the prefixes whose first word ends here, or -1 */
	unsigned char c;        /* the letter leading to this node */
};

/* Patterns of one scope (the question, or the full message), indexed by their prefixes:
 * "mot de passe" (of "\bmot de passe (?:oubli\w*|perdu)"), "oubli" (of "\boubli\w*"). */
struct pattern_index {
	uint32_t root[LETTER_SLOTS];    /* first-letter nodes by letter_slot(), 0 = none */
	/* Once built, the walk reads a compact copy: per node, its list and its children,
	 * which are contiguous, so that a step touches one or two cache lines. */
	struct walk_node {
		uint32_t child_start;   /* first of its children in walk_children */
		int32_t list;           /* as trie_node.list */
		uint32_t child_count;
		int32_t table;          /* a node with many children: its row in walk_tables, else -1 */
	} *walk_nodes;
	uint32_t *walk_tables;          /* rows of LETTER_SLOTS child nodes, 0 = none */
	struct walk_child {
		uint32_t node;
		unsigned char c;
	} *walk_children;
	struct trie_node *nodes;        /* nodes[0] is unused */
	size_t node_count, node_cap;
	struct dispatch_list *lists;    /* owned */
	size_t list_count, list_cap;
};


struct pattern_index *
pattern_index_new(void)
{
	struct pattern_index *ix = xcalloc(1, sizeof(*ix));
	return ix;
}

void
pattern_index_free(struct pattern_index **ixp)
{
	struct pattern_index *d = *ixp;
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->list_count; i++) {
		for (size_t k = 0; k < d->lists[i].count; k++)
			free((char *)d->lists[i].entries[k].prefix);
		free(d->lists[i].entries);
	}
	free(d->lists);
	free(d->nodes);
	free(d->walk_nodes);
	free(d->walk_tables);
	free(d->walk_children);
	free(d);
	*ixp = NULL;
}

/* Where letter c goes in a row of children: a-z, 0-9, then space; -1 for any other byte
 * (such children are found by scanning). */
static inline int
letter_slot(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '0' && c <= '9')
		return 26 + (c - '0');
	return c == ' ' ? 36 : -1;
}

/* The first-letter node of c, or 0. Prefixes start with a letter or a digit. */
static inline uint32_t
root_child(const struct pattern_index *d, unsigned char c)
{
	int slot = letter_slot(c);
	return slot < 0 ? 0 : d->root[slot];
}

static uint32_t
trie_new_node(struct pattern_index *d, unsigned char c)
{
	if (d->node_count == 0)
		d->node_count = 1;  /* index 0 means "none" */
	if (d->node_count >= d->node_cap) {
		d->node_cap = d->node_cap ? d->node_cap * 2 : 256;
		d->nodes = xrealloc(d->nodes, d->node_cap * sizeof(*d->nodes));
	}
	d->nodes[d->node_count] = (struct trie_node){ 0, 0, -1, c };
	return (uint32_t)d->node_count++;
}

/* The child of node (0: the root) reached by letter c, or 0. */
static inline uint32_t
trie_child(const struct pattern_index *d, uint32_t node, unsigned char c)
{
	if (node == 0)
		return root_child(d, c);
	for (uint32_t k = d->nodes[node].first_child; k != 0; k = d->nodes[k].next_sibling)
		if (d->nodes[k].c == c)
			return k;
	return 0;
}

/* Nodes with at least this many children get a direct table (one load per step instead
 * of a scan); the others keep a short contiguous list. */
#define WALK_TABLE_MIN_CHILDREN 4


/* Lays each node's children out contiguously, so that the walk reads one short run of
 * bytes per letter instead of following sibling links across memory. */
void
pattern_index_freeze(struct pattern_index *d)
{
	if (d->node_count == 0)
		return;
	d->walk_nodes = xcalloc(d->node_count, sizeof(*d->walk_nodes));
	d->walk_children = xcalloc(d->node_count, sizeof(*d->walk_children));
	uint32_t next = 0;
	size_t rows = 0;
	for (size_t n = 1; n < d->node_count; n++) {
		struct walk_node *w = &d->walk_nodes[n];
		w->child_start = next;
		w->list = d->nodes[n].list;
		bool tabulable = true;
		for (uint32_t k = d->nodes[n].first_child; k != 0; k = d->nodes[k].next_sibling) {
			d->walk_children[next++] = (struct walk_child){ k, d->nodes[k].c };
			w->child_count++;
			tabulable &= letter_slot(d->nodes[k].c) >= 0;
		}
		w->table = -1;
		if (tabulable && w->child_count >= WALK_TABLE_MIN_CHILDREN) {
			d->walk_tables = xrealloc(d->walk_tables, (rows + 1) * LETTER_SLOTS * sizeof(*d->walk_tables));
			uint32_t *row = d->walk_tables + rows * LETTER_SLOTS;
			memset(row, 0, LETTER_SLOTS * sizeof(*row));
			for (uint32_t k = 0; k < w->child_count; k++) {
				const struct walk_child *ch = &d->walk_children[w->child_start + k];
				row[letter_slot(ch->c)] = ch->node;
			}
			w->table = (int32_t)rows++;
		}
	}
}

/* The walk's step (after pattern_index_freeze): the child of node reached by letter c, or 0. */
static inline uint32_t
trie_step(const struct pattern_index *d, uint32_t node, unsigned char c)
{
	if (node == 0)
		return root_child(d, c);
	const struct walk_node *w = &d->walk_nodes[node];
	if (w->table >= 0) {
		int slot = letter_slot(c);
		return slot < 0 ? 0 : d->walk_tables[(size_t)w->table * LETTER_SLOTS + (size_t)slot];
	}
	const struct walk_child *ch = d->walk_children + w->child_start;
	for (uint32_t k = 0; k < w->child_count; k++)
		if (ch[k].c == c)
			return ch[k].node;
	return 0;
}

static struct dispatch_list *
dispatch_list_for(struct pattern_index *d, const char *key, size_t n)
{
	uint32_t node = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		if (node == 0 && (letter_slot(c) < 0 || c == ' '))
			return NULL;  /* keys start with a letter or a digit (see sequence_prefixes) */
		uint32_t next = trie_child(d, node, c);
		if (next == 0) {
			next = trie_new_node(d, c);
			if (node == 0) {
				d->root[letter_slot(c)] = next;
			} else {
				d->nodes[next].next_sibling = d->nodes[node].first_child;
				d->nodes[node].first_child = next;
			}
		}
		node = next;
	}
	if (d->nodes[node].list < 0) {
		if (d->list_count == d->list_cap) {
			d->list_cap = d->list_cap ? d->list_cap * 2 : 64;
			d->lists = xrealloc(d->lists, d->list_cap * sizeof(*d->lists));
		}
		memset(&d->lists[d->list_count], 0, sizeof(*d->lists));
		d->nodes[node].list = (int32_t)d->list_count++;
	}
	return &d->lists[d->nodes[node].list];
}

void
pattern_index_add(struct pattern_index *ix, const char *prefix, uint32_t index, int32_t owner,
		  bool requirement, bool full_scope, void *payload)
{
	size_t n = strlen(prefix);
	struct dispatch_list *l = dispatch_list_for(ix, prefix, n);
	if (l == NULL)
		abort();  /* pattern_prefix only returns prefixes starting with a letter or a digit */
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->entries = xrealloc(l->entries, l->cap * sizeof(*l->entries));
	}
	l->entries[l->count++] = (struct pattern_index_entry){ xstrdup(prefix), (uint32_t)n, index, owner,
								requirement, full_scope, payload };
}

void
pattern_index_walk(const struct pattern_index *d, const char *text, size_t len, int scopes,
		   const unsigned char *restrict active, unsigned char *restrict required_seen,
		   struct pattern_candidates *restrict out)
{
	if (d->node_count == 0)
		return;
	for (size_t pos = 0; pos < len; pos++) {
		if (pos > 0 && text[pos - 1] != ' ')
			continue;  /* folded text: words start at 0 or after a space */
		/* The trie holds whole prefixes, spaces included: every node met on the way
		 * ends a prefix that the text has at pos. */
		uint32_t node = 0;
		for (size_t i = pos; i < len; i++) {
			node = trie_step(d, node, (unsigned char)text[i]);
			if (node == 0)
				break;
			int32_t list = d->walk_nodes[node].list;
			if (list < 0)
				continue;
			const struct dispatch_list *l = &d->lists[list];
			for (size_t k = 0; k < l->count; k++) {
				const struct pattern_index_entry *e = &l->entries[k];
				if (!(scopes & (e->full_scope ? PATTERN_INDEX_FULL : PATTERN_INDEX_QUESTION)) ||
				    (e->owner >= 0 && !active[e->owner]))
					continue;
				if (e->requirement) {
					required_seen[e->index] = 1;
					continue;
				}
				if (out->count == out->cap) {
					out->cap = out->cap ? out->cap * 2 : 64;
					out->items = xrealloc(out->items, out->cap * sizeof(*out->items));
				}
				out->items[out->count++] =
					(struct pattern_candidate){ e->index, (uint32_t)pos, text, len, e->payload };
			}
		}
	}
}


/* config/tree.c - the YAML text as a tree (see private.h).
 *
 * Owns the node tree: libyaml's events turned into nodes that remember their
 * line, column and byte range (so every error can name the line, and saving
 * can splice the original text), the limits on hostile input, the lookups in
 * a mapping and the line arithmetic of splicing. */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* ---- the node tree ------------------------------------------------------- */

void cfgtree_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		cfgtree_free(n->kids[i]);
	free(n->kids);
	if (n->str)
		explicit_bzero(n->str, n->len);  /* may be an inline secret */
	free(n->str);
	free(n);
}

static void node_add(struct node *parent, struct node *kid)
{
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->kids = mw_xrealloc(parent->kids, parent->cap * sizeof(*parent->kids));
	}
	parent->kids[parent->nkids++] = kid;
}

/* libyaml counts characters, not bytes: walk the UTF-8 text to convert. The
 * marks arrive almost in order, so the walk is incremental. */
struct offmap {
	const unsigned char *t;
	size_t len, base, ci, bi;
};

static size_t offmap_byte(struct offmap *m, size_t ci)
{
	while (m->ci < ci && m->bi < m->len) {
		m->bi++;
		while (m->bi < m->len && (m->t[m->bi] & 0xC0) == 0x80)
			m->bi++;
		m->ci++;
	}
	while (m->ci > ci && m->bi > m->base) {
		m->bi--;
		while (m->bi > m->base && (m->t[m->bi] & 0xC0) == 0x80)
			m->bi--;
		m->ci--;
	}
	return m->bi;
}

static int line_of_offset(const char *t, size_t len, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		line += t[i] == '\n';
	return line;
}

static int tree_fail(mw_err *e, const char *file, int line, const char *what)
{
	mw_err_set(e, "%s:%d: %s", file, line, what);
	return -1;
}

/* Parses text into a tree. *rootp is NULL for an empty document. */
int cfgtree_parse(const char *file, const char *text, size_t len, struct node **rootp,
		  mw_err *e)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct node *stack[CFG_MAX_DEPTH + 1];
	struct node *root = NULL;
	struct offmap om;
	size_t nnodes = 0;
	int depth = 0, docs = 0, rc = -1;

	*rootp = NULL;
	if (len > CFG_MAX_BYTES) {
		mw_err_set(e, "%s: %zu bytes is more than a config may hold (1 MiB); "
			      "remove what is not config", file, len);
		return -1;
	}
	if (len >= 2 && (((unsigned char)text[0] == 0xFE && (unsigned char)text[1] == 0xFF) ||
			 ((unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE))) {
		mw_err_set(e, "%s:1: the file is UTF-16; save it as UTF-8", file);
		return -1;
	}
	om.t = (const unsigned char *)text;
	om.len = len;
	/* libyaml drops a UTF-8 byte order mark before counting */
	om.base = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	om.ci = 0;
	om.bi = om.base;

	if (!yaml_parser_initialize(&p)) {
		mw_err_set(e, "%s: out of memory starting the YAML parser", file);
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		struct node *n = NULL;
		const unsigned char *anchor = NULL;
		int line, done;
		char msg[512];

		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_READER_ERROR) {
				snprintf(msg, sizeof(msg), "%s (byte %zu); save the file as UTF-8 "
					 "text without control characters",
					 p.problem ? p.problem : "unreadable text",
					 p.problem_offset);
				tree_fail(e, file, line_of_offset(text, len, p.problem_offset), msg);
			} else if (p.error == YAML_MEMORY_ERROR) {
				mw_err_set(e, "%s: out of memory parsing YAML", file);
			} else {
				mw_err_set(e, "%s:%zu:%zu: YAML syntax error: %s%s%s; check the "
					      "indentation (spaces only) and quote values that "
					      "contain ': ' or ' #'", file,
					   p.problem_mark.line + 1, p.problem_mark.column + 1,
					   p.problem ? p.problem : "bad syntax",
					   p.context ? " " : "", p.context ? p.context : "");
			}
			goto out;
		}
		line = (int)ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				tree_fail(e, file, line, "a second YAML document ('---'); keep one "
					  "document per config file");
				goto fail_ev;
			}
			break;
		case YAML_ALIAS_EVENT:
			tree_fail(e, file, line, "YAML aliases (*name) are not allowed; write "
				  "the value out in full");
			goto fail_ev;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			break;
		default:
			break;
		}
		if (anchor) {
			tree_fail(e, file, line, "YAML anchors (&name) are not allowed; write "
				  "each value out in full");
			goto fail_ev;
		}
		if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			if (++nnodes > CFG_MAX_NODES) {
				tree_fail(e, file, line, "too many values; a config holds at "
					  "most 1000 integrations");
				goto fail_ev;
			}
			n = mw_xcalloc(1, sizeof(*n));
			n->line = line;
			n->col = (int)ev.start_mark.column + 1;
			n->start = offmap_byte(&om, ev.start_mark.index);
			if (ev.type == YAML_SCALAR_EVENT) {
				const char *v = (const char *)ev.data.scalar.value;
				size_t vl = ev.data.scalar.length;

				n->kind = NODE_SCALAR;
				n->end = offmap_byte(&om, ev.end_mark.index);
				if (memchr(v, '\0', vl)) {
					free(n);
					tree_fail(e, file, line, "a value contains a NUL character "
						  "(\\0); remove it");
					goto fail_ev;
				}
				n->str = mw_xstrndup(v, vl);
				n->len = vl;
				n->is_null = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
					     (vl == 0 || strcmp(v, "~") == 0 ||
					      strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
					      strcmp(v, "NULL") == 0);
			} else {
				n->kind = ev.type == YAML_SEQUENCE_START_EVENT ? NODE_SEQ : NODE_MAP;
				n->block = ev.type == YAML_SEQUENCE_START_EVENT
						   ? ev.data.sequence_start.style != YAML_FLOW_SEQUENCE_STYLE
						   : ev.data.mapping_start.style != YAML_FLOW_MAPPING_STYLE;
				n->end = n->start;
			}
			if (depth > 0)
				node_add(stack[depth - 1], n);
			else
				root = n;
			if (n->kind != NODE_SCALAR) {
				if (depth >= CFG_MAX_DEPTH) {
					tree_fail(e, file, line, "values nested more than 16 deep; "
						  "a config needs at most 4 levels");
					goto fail_ev;
				}
				stack[depth++] = n;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			if (depth > 0) {
				struct node *c = stack[--depth];

				/* a block collection ends where its last value ends; libyaml
				 * puts the end mark at the next token, past any comments */
				if (!c->block)
					c->end = offmap_byte(&om, ev.end_mark.index);
				else if (c->nkids > 0)
					c->end = c->kids[c->nkids - 1]->end;
				if (depth > 0 && c->end > stack[depth - 1]->end)
					stack[depth - 1]->end = c->end;
			}
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (done)
			break;
		continue;
fail_ev:
		yaml_event_delete(&ev);
		goto out;
	}
	*rootp = root;
	root = NULL;
	rc = 0;
out:
	cfgtree_free(root);
	yaml_parser_delete(&p);
	return rc;
}

/* ---- lookups, and lines for splicing ------------------------------------- */

/* The value of key in mapping m, or NULL. */
const struct node *cfgtree_map_get(const struct node *m, const char *key)
{
	for (size_t i = 0; i + 1 < m->nkids; i += 2)
		if (m->kids[i]->kind == NODE_SCALAR && strcmp(m->kids[i]->str, key) == 0)
			return m->kids[i + 1];
	return NULL;
}

size_t cfgtree_line_start(const char *t, size_t off)
{
	while (off > 0 && t[off - 1] != '\n')
		off--;
	return off;
}

/* The offset just past the line holding the byte before off. */
size_t cfgtree_line_end(const char *t, size_t len, size_t off)
{
	const char *nl;

	if (off > len)
		off = len;
	if (off > 0 && t[off - 1] == '\n')
		return off;
	nl = memchr(t + off, '\n', len - off);
	return nl ? (size_t)(nl - t) + 1 : len;
}

int cfgtree_only_spaces(const char *t, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (t[i] != ' ')
			return 0;
	return 1;
}

/* An entry of a block sequence as whole lines: from the start of the line of
 * its '-' to the end of its last line. -1 when it does not sit on lines of
 * its own (then it cannot be spliced). */
int cfgtree_item_range(const char *t, size_t len, const struct node *it, size_t floor,
		       size_t *start, size_t *end, int *indent)
{
	size_t d = it->start, ls;

	if (d > len || it->end > len)
		return -1;
	/* back from the entry's first value to its '-' */
	while (d > 0 && (t[d - 1] == ' ' || t[d - 1] == '\t' || t[d - 1] == '\n' ||
			 t[d - 1] == '\r'))
		d--;
	if (d == 0 || t[d - 1] != '-')
		return -1;
	d--;
	ls = cfgtree_line_start(t, d);
	if (!cfgtree_only_spaces(t, ls, d) || ls < floor)
		return -1;
	*indent = (int)(d - ls);
	*start = ls;
	*end = cfgtree_line_end(t, len, it->end);
	return 0;
}

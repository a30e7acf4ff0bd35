/* html_text — HTML mail parts turned into readable text, for mail_parse (mime → text).
 * gumbo builds the HTML5 tree (entities decoded, broken markup repaired); this file walks
 * it without recursion and lays the text out as a mail client would show it: blocks and
 * <br> as line breaks, at most one blank line.
 * gumbo's work grows with the square of the nesting depth (every tag checks the stack of
 * open elements, every parse error copies it: 20,000 unclosed <div> took 16 s and 3 GB),
 * so the input first goes through a linear pass that drops the tags nested deeper than
 * HTML_DEPTH_MAX (their text stays), and gumbo records no errors. */
#include "autoconf.h"
#include "formats/html_text.h"
#include "core/util.h"

#include <gumbo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

struct html_out {
	struct strbuf sb;
	int newlines;           /* line breaks asked for before the next visible character (0..2) */
	bool space;             /* a space is owed before the next visible character */
	int pre;                /* depth of <pre>: whitespace kept */
};

static void
want_newlines(struct html_out *out, int n)
{
	if (out->newlines < n)
		out->newlines = n;
}

static void
add_newline(struct html_out *out)
{
	if (out->newlines < 2)
		out->newlines++;
}

/* Emits the line breaks and space owed before visible text; never more than one blank
 * line in a row. */
static void
flush_pending(struct html_out *out)
{
	if (out->sb.len > 0) {
		if (out->newlines > 0) {
			int trailing = 0;
			while (trailing < 2 && (size_t)trailing < out->sb.len &&
			       out->sb.data[out->sb.len - 1 - (size_t)trailing] == '\n')
				trailing++;
			int n = out->newlines + trailing > 2 ? 2 - trailing : out->newlines;
			if (n > 0)
				strbuf_add(&out->sb, "\n\n", (size_t)n);
		} else if (out->space) {
			strbuf_addc(&out->sb, ' ');
		}
	}
	out->newlines = 0;
	out->space = false;
}

static void
emit_text(struct html_out *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v') {
			if (*p == '\n' && out->pre > 0)
				add_newline(out);
			else
				out->space = true;
			p++;
			continue;
		}
		if (p[0] == 0xC2 && p[1] == 0xA0) {
			/* a no-break space is a space, but like a browser it makes a line of its
			 * own exist: Word writes blank lines as <p>&nbsp;</p> */
			flush_pending(out);
			out->space = true;
			p += 2;
			continue;
		}
		flush_pending(out);
		const unsigned char *start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\f' &&
		       *p != '\v' && !(p[0] == 0xC2 && p[1] == 0xA0))
			p++;
		strbuf_add(&out->sb, (const char *)start, (size_t)(p - start));
	}
}

static bool
tag_is_hidden(GumboTag tag)
{
	switch (tag) {
	case GUMBO_TAG_HEAD: case GUMBO_TAG_TITLE: case GUMBO_TAG_STYLE: case GUMBO_TAG_SCRIPT:
	case GUMBO_TAG_TEMPLATE:
		return true;
	default:
		return false;
	}
}

static bool
tag_is_block(GumboTag tag)
{
	switch (tag) {
	case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_BLOCKQUOTE:
	case GUMBO_TAG_CENTER: case GUMBO_TAG_DD: case GUMBO_TAG_DIV: case GUMBO_TAG_DL: case GUMBO_TAG_DT:
	case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FOOTER:
	case GUMBO_TAG_FORM: case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4:
	case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_HEADER: case GUMBO_TAG_HR: case GUMBO_TAG_LI:
	case GUMBO_TAG_MAIN: case GUMBO_TAG_NAV: case GUMBO_TAG_OL: case GUMBO_TAG_PRE: case GUMBO_TAG_SECTION:
	case GUMBO_TAG_TABLE: case GUMBO_TAG_TR: case GUMBO_TAG_UL: case GUMBO_TAG_CAPTION: case GUMBO_TAG_BODY:
	case GUMBO_TAG_HTML:
		return true;
	default:
		return false;
	}
}

/* A paragraph is set off by a blank line, except Word's: Outlook writes every line as a
 * <p class="MsoNormal"> and blank lines as empty paragraphs. */
static int
paragraph_breaks(const GumboElement *el)
{
	const GumboAttribute *cls = gumbo_get_attribute(&el->attributes, "class");
	if (cls != NULL && strstr(cls->value, "Mso") != NULL)
		return 1;
	return 2;
}

static void
element_open(struct html_out *out, const GumboElement *el)
{
	if (el->tag == GUMBO_TAG_BR)
		add_newline(out);
	else if (el->tag == GUMBO_TAG_P)
		want_newlines(out, paragraph_breaks(el));
	else if (el->tag == GUMBO_TAG_TD || el->tag == GUMBO_TAG_TH)
		out->space = true;
	else if (tag_is_block(el->tag))
		want_newlines(out, 1);
	if (el->tag == GUMBO_TAG_PRE)
		out->pre++;
}

static void
element_close(struct html_out *out, const GumboElement *el)
{
	if (el->tag == GUMBO_TAG_P)
		want_newlines(out, paragraph_breaks(el));
	else if (el->tag == GUMBO_TAG_TD || el->tag == GUMBO_TAG_TH)
		out->space = true;
	else if (tag_is_block(el->tag))
		want_newlines(out, 1);
	if (el->tag == GUMBO_TAG_PRE && out->pre > 0)
		out->pre--;
}

static const GumboVector *
node_children(const GumboNode *node)
{
	if (node->type == GUMBO_NODE_DOCUMENT)
		return &node->v.document.children;
	if (node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE)
		return &node->v.element.children;
	return NULL;
}

/* No mail a person writes nests this deep (Outlook's deepest replies: about 60). */
#define HTML_DEPTH_MAX 256

/* Whether name[0..n) is one of names (case-insensitive, as HTML tag names are). */
static bool
tag_in(const char *const *names, size_t count, const char *name, size_t n)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
			return true;
	return false;
}

/* Elements without content, and those a sibling closes by itself (<p><p>, <li><li>):
 * neither deepens the tree. */
static bool
tag_never_nests(const char *name, size_t n)
{
	static const char *const names[] = {
		"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
		"source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
		"rb", "rt", "rp", "!doctype",
	};
	return tag_in(names, sizeof(names) / sizeof(*names), name, n);
}

/* Elements whose content is text up to their end tag, never markup. */
static bool
tag_is_raw_text(const char *name, size_t n)
{
	static const char *const names[] = { "script", "style", "textarea", "title", "xmp", "iframe",
					      "noembed", "noframes", "plaintext" };
	return tag_in(names, sizeof(names) / sizeof(*names), name, n);
}

/* Where the tag starting at p (on '<') ends, just after its '>' (quotes in attribute
 * values honoured), or end when it never does. */
static const char *
tag_end(const char *p, const char *end)
{
	char quote = 0;
	for (p++; p < end; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '>') {
			return p + 1;
		}
	}
	return end;
}

/* html[0..len) with every start tag deeper than HTML_DEPTH_MAX open elements, and its
 * end tag, replaced by a space: one pass, the text kept. NULL when nothing is that deep
 * (the input is used as it is). The depth counted is an upper bound of gumbo's (it
 * closes some elements by itself), so what gumbo sees never nests deeper. */
static char *
html_flatten(const char *html, size_t len, size_t *len_r)
{
	const char *p = html, *end = html + len, *copied = html;
	size_t depth = 0, dropped = 0;  /* open elements kept; start tags dropped still open */
	struct strbuf sb = {0};
	bool any = false;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		if (lt == NULL)
			break;
		if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
			const char *close = memmem(lt + 4, (size_t)(end - lt - 4), "-->", 3);
			p = close ? close + 3 : end;
			continue;
		}
		bool closing = lt + 1 < end && lt[1] == '/';
		const char *name = lt + (closing ? 2 : 1);
		size_t n = 0;
		while (name + n < end && (isalnum((unsigned char)name[n]) || (n == 0 && name[n] == '!')))
			n++;
		if (n == 0 || !(isalpha((unsigned char)name[0]) || name[0] == '!')) {
			p = lt + 1;  /* a '<' of the text */
			continue;
		}
		const char *after = tag_end(lt, end);
		/* A raw-text element holds text only: one level at most, never dropped (its
		 * text would then be read as markup). */
		bool raw = tag_is_raw_text(name, n);
		bool nests = name[0] != '!' && !raw && !tag_never_nests(name, n);
		bool drop = false;
		if (closing && nests) {
			if (dropped > 0) {
				dropped--;
				drop = true;
			} else if (depth > 0) {
				depth--;
			}
		} else if (nests) {
			if (depth >= HTML_DEPTH_MAX) {
				dropped++;
				drop = true;
			} else {
				depth++;
			}
		}
		if (drop) {
			strbuf_add(&sb, copied, (size_t)(lt - copied));
			strbuf_addc(&sb, ' ');
			copied = after;
			any = true;
		}
		p = after;
		if (!closing && raw) {
			/* Up to its end tag: what looks like markup inside is text. */
			char *close = xasprintf("</%.*s", (int)n, name);
			const char *q = p;
			while (q < end && (q = memchr(q, '<', (size_t)(end - q))) != NULL &&
			       !((size_t)(end - q) >= n + 2 && strncasecmp(q, close, n + 2) == 0))
				q++;
			free(close);
			p = q != NULL ? q : end;
		}
	}
	if (!any) {
		strbuf_free(&sb);
		return NULL;
	}
	strbuf_add(&sb, copied, (size_t)(end - copied));
	*len_r = sb.len;
	return strbuf_detach(&sb);
}

struct walk_frame {
	const GumboNode *node;
	unsigned int next;      /* index of the next child to visit */
};

char *
html_text(const char *html, size_t len, bool *flattened_r)
{
	struct html_out out = { 0 };
	size_t flat_len = 0;
	char *flat = html_flatten(html, len, &flat_len);
	if (flattened_r != NULL)
		*flattened_r = flat != NULL;
	/* No parse errors kept: each would copy the stack of open elements. */
	GumboOptions options = kGumboDefaultOptions;
	options.max_errors = 0;
	GumboOutput *doc = gumbo_parse_with_options(&options, flat ? flat : html, flat ? flat_len : len);
	size_t depth = 0, cap = 64;
	struct walk_frame *stack = xmalloc(cap * sizeof(*stack));
	stack[depth++] = (struct walk_frame){ doc->document, 0 };
	while (depth > 0) {
		struct walk_frame *f = &stack[depth - 1];
		const GumboVector *children = node_children(f->node);
		if (children == NULL || f->next >= children->length) {
			if (f->node->type == GUMBO_NODE_ELEMENT || f->node->type == GUMBO_NODE_TEMPLATE)
				element_close(&out, &f->node->v.element);
			depth--;
			continue;
		}
		const GumboNode *child = children->data[f->next++];
		switch (child->type) {
		case GUMBO_NODE_TEXT:
		case GUMBO_NODE_CDATA:
		case GUMBO_NODE_WHITESPACE:
			emit_text(&out, child->v.text.text);
			break;
		case GUMBO_NODE_ELEMENT:
		case GUMBO_NODE_TEMPLATE:
			if (tag_is_hidden(child->v.element.tag))
				break;
			element_open(&out, &child->v.element);
			if (depth == cap) {
				cap *= 2;
				stack = xrealloc(stack, cap * sizeof(*stack));
			}
			stack[depth++] = (struct walk_frame){ child, 0 };
			break;
		default:        /* comments, document */
			break;
		}
	}
	free(stack);
	gumbo_destroy_output(&options, doc);
	free(flat);
	while (out.sb.len > 0 && out.sb.data[out.sb.len - 1] == '\n')
		out.sb.data[--out.sb.len] = '\0';
	if (out.sb.len > 0)
		strbuf_addc(&out.sb, '\n');
	return strbuf_detach(&out.sb);
}

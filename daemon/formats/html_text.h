/* html_text — an HTML mail part (already in UTF-8) turned into the text a reader sees.
 * Used by mail_parse when a message has no text/plain part. Parsing by gumbo (HTML5
 * tree building, entities decoded); the content of <head>, <title>, <style>, <script>
 * is dropped; block elements, <br> and <li> become line breaks, never more than one
 * blank line in a row; no-break spaces become spaces. Lower layer: never logs.
 * Threads: any (no shared state). */
#ifndef DIALOGD_HTML_TEXT_H
#define DIALOGD_HTML_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Returns the text of html[0..len) (UTF-8, LF line endings, ends with one '\n' unless
 * empty). Invalid UTF-8 in the input comes out as U+FFFD. Work and memory are linear in
 * len whatever the markup: tags nested deeper than 256 elements are ignored (their text
 * is kept), and *flattened_r (when not NULL) says whether any was. Caller frees. */
char *html_text(const char *html, size_t len, bool *flattened_r);

#endif

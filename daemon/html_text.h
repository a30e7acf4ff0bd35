/* html_text — an HTML mail part (already in UTF-8) turned into the text a reader sees.
 * Used by mail_parse when a message has no text/plain part. Parsing by gumbo (HTML5
 * tree building, entities decoded); the content of <head>, <title>, <style>, <script>
 * is dropped; block elements, <br> and <li> become line breaks, never more than one
 * blank line in a row; no-break spaces become spaces. Lower layer: never logs. */
#ifndef DIALOGD_HTML_TEXT_H
#define DIALOGD_HTML_TEXT_H

#include <stddef.h>

/* Returns the text of html[0..len) (UTF-8, LF line endings, ends with one '\n' unless
 * empty). Invalid UTF-8 in the input comes out as U+FFFD. Caller frees. */
char *html_text(const char *html, size_t len);

#endif

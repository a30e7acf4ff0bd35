/* mail_part — one MIME part as libetpan parsed it (RFC 2045-2046): its type, charset,
 * format=flowed and disposition, its file name (RFC 2231 parameters or RFC 2047 words),
 * and its transfer-decoded bytes. Part of mail_parse, which walks the tree. */
#include "autoconf.h"
#include "formats/mail_parse_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

static void
add_param(struct part_info *info, const char *name, const char *value)
{
	if (name != NULL && value != NULL && info->param_count < sizeof(info->params) / sizeof(*info->params))
		info->params[info->param_count++] = (struct param){ name, value };
}

static const char *
param_get(const struct part_info *info, const char *name)
{
	for (size_t i = 0; i < info->param_count; i++)
		if (strcasecmp(info->params[i].name, name) == 0)
			return info->params[i].value;
	return NULL;
}

static void
lower_copy(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	for (; src != NULL && src[n] != '\0' && n + 1 < size; n++)
		dst[n] = (char)tolower((unsigned char)src[n]);
	dst[n] = '\0';
}

void
mail_part_info_read(struct mailmime *mime, struct part_info *info)
{
	memset(info, 0, sizeof(*info));
	struct mailmime_content *ct = mime->mm_content_type;
	if (ct == NULL || ct->ct_type == NULL) {
		strcpy(info->type, "text/plain");
	} else {
		const char *major = "application";
		if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
			struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;
			switch (d->dt_type) {
			case MAILMIME_DISCRETE_TYPE_TEXT: major = "text"; break;
			case MAILMIME_DISCRETE_TYPE_IMAGE: major = "image"; break;
			case MAILMIME_DISCRETE_TYPE_AUDIO: major = "audio"; break;
			case MAILMIME_DISCRETE_TYPE_VIDEO: major = "video"; break;
			case MAILMIME_DISCRETE_TYPE_EXTENSION: major = d->dt_extension ? d->dt_extension : "x-unknown"; break;
			default: break;
			}
		} else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
			struct mailmime_composite_type *c = ct->ct_type->tp_data.tp_composite_type;
			major = c->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE ? "message" :
				c->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart" :
				c->ct_token ? c->ct_token : "x-unknown";
		}
		char buf[128];
		snprintf(buf, sizeof(buf), "%s/%s", major, ct->ct_subtype ? ct->ct_subtype : "octet-stream");
		lower_copy(info->type, sizeof(info->type), buf);
		for (clistiter *it = ct->ct_parameters ? clist_begin(ct->ct_parameters) : NULL; it; it = clist_next(it)) {
			struct mailmime_parameter *p = clist_content(it);
			add_param(info, p->pa_name, p->pa_value);
		}
	}
	info->charset = param_get(info, "charset");
	const char *format = param_get(info, "format");
	const char *delsp = param_get(info, "delsp");
	info->flowed = format != NULL && strcasecmp(format, "flowed") == 0;
	info->delsp = delsp != NULL && strcasecmp(delsp, "yes") == 0;
	struct mailmime_fields *fields = mime->mm_mime_fields;
	for (clistiter *it = fields && fields->fld_list ? clist_begin(fields->fld_list) : NULL; it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type != MAILMIME_FIELD_DISPOSITION || f->fld_data.fld_disposition == NULL)
			continue;
		struct mailmime_disposition *d = f->fld_data.fld_disposition;
		if (d->dsp_type != NULL && d->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			info->attachment = true;
		for (clistiter *pt = d->dsp_parms ? clist_begin(d->dsp_parms) : NULL; pt; pt = clist_next(pt)) {
			struct mailmime_disposition_parm *p = clist_content(pt);
			if (p->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME)
				add_param(info, "filename", p->pa_data.pa_filename);
			else if (p->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER && p->pa_data.pa_parameter != NULL)
				add_param(info, p->pa_data.pa_parameter->pa_name, p->pa_data.pa_parameter->pa_value);
		}
	}
}

/* Decodes an RFC 2231 extended value "charset'lang'%XX..." (or a later continuation
 * segment, without the prefix) into bytes; sets *charset_r for the first. */
static void
rfc2231_bytes(struct strbuf *out, const char *value, bool first, char *charset, size_t charset_size)
{
	const char *p = value;
	if (first) {
		const char *q1 = strchr(value, '\'');
		const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
		if (q1 != NULL && q2 != NULL) {
			size_t n = (size_t)(q1 - value);
			if (n >= charset_size)
				n = charset_size - 1;
			memcpy(charset, value, n);
			charset[n] = '\0';
			p = q2 + 1;
		}
	}
	for (; *p != '\0'; p++) {
		if (*p == '%' && hex_digit_value(p[1]) >= 0 && hex_digit_value(p[2]) >= 0) {
			strbuf_addc(out, (char)(hex_digit_value(p[1]) * 16 + hex_digit_value(p[2])));
			p += 2;
		} else {
			strbuf_addc(out, *p);
		}
	}
}

/* The name of a part from base ("filename" or "name"): RFC 2231 (base*, base*0*, ...)
 * first, else the plain parameter with RFC 2047 words decoded. NULL when none. */
char *
mail_part_filename(struct parse_ctx *ctx, const struct part_info *info, const char *base)
{
	char key[32], charset[64] = "";
	struct strbuf bytes = { 0 };
	bool found = false;
	snprintf(key, sizeof(key), "%s*", base);
	const char *v = param_get(info, key);
	if (v != NULL) {
		rfc2231_bytes(&bytes, v, true, charset, sizeof(charset));
		found = true;
	} else {
		for (int n = 0; n < 100; n++) {
			snprintf(key, sizeof(key), "%s*%d*", base, n);
			if ((v = param_get(info, key)) != NULL) {
				rfc2231_bytes(&bytes, v, n == 0, charset, sizeof(charset));
			} else {
				snprintf(key, sizeof(key), "%s*%d", base, n);
				if ((v = param_get(info, key)) == NULL)
					break;
				strbuf_adds(&bytes, v);
			}
			found = true;
		}
	}
	char *name = NULL;
	if (found) {
		struct strbuf text = { 0 };
		mail_decode_add(ctx, &text, bytes.data ? bytes.data : "", bytes.len, charset, "a file name");
		char *t = strbuf_detach(&text);
		name = mail_decode_one_line(t);
		free(t);
	} else if ((v = param_get(info, base)) != NULL) {
		struct strbuf raw = { 0 };
		mail_decode_add_header_bytes(&raw, v, strlen(v));
		char *r = strbuf_detach(&raw);
		name = mail_decode_header_line(ctx, r);
		free(r);
	}
	strbuf_free(&bytes);
	if (name != NULL) {
		/* Apple Mail sends decomposed accents */
		char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)name);
		if (nfc != NULL) {
			free(name);
			name = nfc;
		}
	}
	return name;
}

/* Transfer-decodes a single part. Returns 0 and the bytes (free with mmap_string_unref)
 * or -1. The data lies inside the NUL-terminated copy of the message. */
int
mail_part_decode(struct parse_ctx *ctx, struct mailmime_data *data, char **out_r, size_t *len_r)
{
	if (data == NULL || data->dt_type != MAILMIME_DATA_TEXT)
		return -1;
	size_t idx = 0;
	int encoding = data->dt_encoded ? data->dt_encoding : MAILMIME_MECHANISM_8BIT;
	if (mailmime_part_parse(data->dt_data.dt_text.dt_data, data->dt_data.dt_text.dt_length, &idx,
				encoding, out_r, len_r) != MAILIMF_NO_ERROR) {
		mail_parse_note(ctx->mail, "a part could not be decoded");
		return -1;
	}
	return 0;
}


// Package httpcache rewrites Cache-Control for responses that must not be
// stored by shared caches.
package httpcache

import "strings"

// Private returns the Cache-Control value cc made private for a response
// whose header field carries a session token: "public" and "private" are
// replaced by "private", which forbids shared caches to store it, and
// field joins the fields of a no-cache="..." directive, which forbids any
// cache to reuse that header without asking the server again. A bare
// no-cache already covers every field and is kept as it is; the other
// directives of cc are kept in their order, so that several Managers may
// each add their own field. public reports whether cc had "public".
func Private(cc, field string) (value string, public bool) {
	if cc == "" {
		// What nearly every response that sets a session cookie has:
		// no Cache-Control of the handler's. No parsing, no allocation.
		if field == "Set-Cookie" {
			return `private, no-cache="Set-Cookie"`, false
		}
		return `private, no-cache="` + field + `"`, false
	}
	var out, fields []string
	bareNoCache := false
	for _, d := range directives(cc) {
		name, arg, _ := strings.Cut(d, "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "public":
			public = true
		case "private":
		case "no-cache":
			if arg == "" {
				bareNoCache = true
				out = append(out, d)
				continue
			}
			for f := range strings.SplitSeq(strings.Trim(arg, `"`), ",") {
				fields = addField(fields, strings.TrimSpace(f))
			}
		default:
			out = append(out, d)
		}
	}
	out = append(out, "private")
	if !bareNoCache {
		fields = addField(fields, field)
		out = append(out, `no-cache="`+strings.Join(fields, ", ")+`"`)
	}
	return strings.Join(out, ", "), public
}

// directives splits cc at the commas that are not inside a quoted string,
// such as no-cache="Set-Cookie, X-Session-Token", and trims each part.
func directives(cc string) []string {
	var ds []string
	quoted, start := false, 0
	for i := 0; i <= len(cc); i++ {
		if i < len(cc) && cc[i] == '"' {
			quoted = !quoted
		}
		if i == len(cc) || cc[i] == ',' && !quoted {
			if d := strings.TrimSpace(cc[start:i]); d != "" {
				ds = append(ds, d)
			}
			start = i + 1
		}
	}
	return ds
}

// addField appends f to fields unless it is empty or already there; field
// names are case-insensitive.
func addField(fields []string, f string) []string {
	if f == "" {
		return fields
	}
	for _, have := range fields {
		if strings.EqualFold(have, f) {
			return fields
		}
	}
	return append(fields, f)
}

// Package headers sets the response headers a session adds without an
// allocation for each: adapters over net/http's Header keep a Values in
// their per-request value.
package headers

import (
	"net/http"
	"strings"
)

// Values holds the first value of the few headers one request's session
// sets (Vary, Cache-Control, Set-Cookie): the header's slice points into
// it instead of being allocated. Its zero value is ready; it must not be
// copied after use.
type Values struct {
	vals [3]string
	used int
}

// Set sets h's header name to value, as http.Header.Set does. The name
// must be canonical, as the core passes every name (core.Exchange).
func (v *Values) Set(h http.Header, name, value string) {
	if v.used == len(v.vals) {
		h.Set(name, value)
		return
	}
	v.hold(h, name, value)
}

// Add adds value to h's header name, as http.Header.Add does. The name
// must be canonical.
func (v *Values) Add(h http.Header, name, value string) {
	if len(h[name]) > 0 || v.used == len(v.vals) {
		h.Add(name, value)
		return
	}
	v.hold(h, name, value)
}

// hold makes value the header's one value, kept in v. The slice has no
// spare capacity, so that a later Add by anyone copies it out rather than
// writing into v.
func (v *Values) hold(h http.Header, name, value string) {
	v.vals[v.used] = value
	h[name] = v.vals[v.used : v.used+1 : v.used+1]
	v.used++
}

// Get returns the values of h's header name joined by sep, as
// core.Exchange's RequestHeader and ResponseHeader want them. The name
// must be canonical: looking it up as it is spares canonicalising it on
// every call.
func Get(h http.Header, name, sep string) string {
	return strings.Join(h[name], sep)
}

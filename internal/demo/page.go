package demo

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

//go:embed templates/index.html
var templates embed.FS

//go:embed static
var staticFiles embed.FS

// StaticFS is the static folder, for frameworks that serve a folder under
// a prefix.
func StaticFS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the folder is embedded: it exists
	}
	return sub
}

func parsePage() *template.Template {
	return template.Must(template.ParseFS(templates, "templates/index.html"))
}

type pageData struct {
	Visits  int64
	Clicks  int64 // the counter that concurrent tabs increment
	User    string
	Entries []entry
	// Examples are values to type into the form, one per type.
	Examples []example
	// Framework, Backend and Cookie describe what serves the page.
	Framework, Backend, Cookie string
	Flashes                    []core.Flash
	Devices                    []Device // the user's sessions, when logged in
	Notice                     string   // why the session is new, when it replaced one
	IDHint                     string   // the id's first characters: enough to see it change at login
	Error                      string
	Expiry                     *expiry // nil for a session this request created
}

// expiry is when the session ends, and how long the browser keeps its
// cookie, so that a user sees what "remember me" changed.
type expiry struct {
	At time.Time // when the session ends if no request comes after this one
	In string    // At from now, rounded as people say it
	// KeptFor is how long the browser keeps the cookie after this request;
	// empty when the cookie ends with the browser session.
	KeptFor string
}

// Notice says why a request's session is new, when it replaced another;
// it is empty when there is nothing to tell.
func Notice(r core.Reason) string {
	switch r {
	case core.Expired:
		return "Your session expired; please log in again."
	case core.Revoked:
		return "You were logged out from another device."
	case core.InvalidToken:
		return "Your session could not be read; you have a new one."
	}
	return ""
}

// index renders the page: it counts the visit, shows the session and
// consumes the flash messages.
func (a *App) index(ctx context.Context, r Request) Reply {
	d := pageData{Examples: examples, Framework: a.Framework, Backend: a.Backend, Cookie: a.cookie}
	s, err := r.Session()
	if err != nil {
		a.log.ErrorContext(ctx, "session unavailable", "path", r.Path, "err", err)
		d.Error = "The session store is unavailable; try again shortly."
	} else {
		d.Visits, _ = s.Incr("visits", 1)
		d.Clicks, _ = s.GetInt("clicks")
		d.Flashes = s.Flashes()
		d.User, _ = s.GetString("user")
		d.Notice = Notice(s.Reason())
		if owner := s.Owner(); owner != "" {
			if d.Devices, err = a.userDevices(ctx, s, owner); err != nil && !errors.Is(err, core.ErrNoBackend) {
				a.log.ErrorContext(ctx, "list sessions", "err", err)
			}
		}
		if !s.IsNew() {
			// A session this request created has nothing to expire yet, and
			// on the first visit would only add noise.
			d.Expiry = a.describeExpiry(s)
		}
		if id := s.ID(); len(id) > 8 {
			d.IDHint = id[:8] + "…"
		}
		for k, v := range s.All() { // in key order
			if !core.Reserved(k) { // the flashes and the owner have their own places
				d.Entries = append(d.Entries, newEntry(k, v))
			}
		}
	}
	var buf bytes.Buffer
	if err := a.page.Execute(&buf, d); err != nil {
		a.log.ErrorContext(ctx, "render page", "err", err)
		return text(http.StatusInternalServerError, "could not render the page")
	}
	status := http.StatusOK
	if d.Error != "" {
		status = http.StatusServiceUnavailable
	}
	return Reply{Status: status, ContentType: "text/html; charset=utf-8", Body: buf.Bytes()}
}

// describeExpiry tells s's end as this request leaves it (its visit counted).
func (a *App) describeExpiry(s *core.Session) *expiry {
	at := s.ExpiresAt()
	e := &expiry{At: at.UTC(), In: roughly(time.Until(at))}
	if s.Permanent() {
		// The cookie's Max-Age: the session's own lifetime, which the demo
		// keeps within its MaxLifetime, or the Manager's.
		e.KeptFor = roughly(cmp.Or(s.Expiry().Lifetime, a.m.Lifetime))
	}
	return e
}

// roughly writes d in the largest unit that keeps it readable, rounded:
// the page is read by people, and a test run takes milliseconds off 30
// days.
func roughly(d time.Duration) string {
	d = max(d, 0)
	unit, name := time.Second, "second"
	switch {
	case d >= 36*time.Hour:
		unit, name = 24*time.Hour, "day"
	case d >= 90*time.Minute:
		unit, name = time.Hour, "hour"
	case d >= 90*time.Second:
		unit, name = time.Minute, "minute"
	}
	n := d.Round(unit) / unit
	if n == 1 {
		return "1 " + name
	}
	return fmt.Sprintf("%d %ss", n, name)
}

// describeCookie tells how m's session token travels: the cookie's name
// and attributes, as the browser's developer tools would show them.
func describeCookie(m *core.Manager, transport string) string {
	switch transport {
	case "header", "bearer":
		return "a request header, with no cookie (-transport " + transport + ")"
	}
	c := m.Cookie
	attrs := []string{"Path=" + cmp.Or(c.Path, "/")}
	if c.Domain != "" {
		attrs = append(attrs, "Domain="+c.Domain)
	}
	if c.HTTPOnly {
		attrs = append(attrs, "HttpOnly (scripts cannot read it)")
	}
	if c.Secure {
		attrs = append(attrs, "Secure (HTTPS only)")
	}
	switch c.SameSite {
	case http.SameSiteLaxMode:
		attrs = append(attrs, "SameSite=Lax")
	case http.SameSiteStrictMode:
		attrs = append(attrs, "SameSite=Strict")
	case http.SameSiteNoneMode:
		attrs = append(attrs, "SameSite=None")
	}
	return fmt.Sprintf("a cookie named %s (%s)", c.Name, strings.Join(attrs, "; "))
}

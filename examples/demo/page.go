package main

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
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

//go:embed templates/index.html
var templates embed.FS

//go:embed static
var staticFiles embed.FS

// staticRoot is the static folder, for frameworks that serve a folder
// under a prefix.
func staticRoot() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the folder is embedded: it exists
	}
	return sub
}

func parsePage() *template.Template {
	return template.Must(template.ParseFS(templates, "templates/index.html"))
}

// entry is one session key on the page, its value shown in tagged JSON.
type entry struct{ Key, Value string }

type pageData struct {
	Visits  int64
	User    string
	Entries []entry
	Flashes []core.Flash
	Devices []device // the user's sessions, when logged in
	Notice  string   // why the session is new, when it replaced one
	IDHint  string   // the id's first characters: enough to see it change at login
	Error   string
	Expiry  *expiry // nil for a session this request created
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

// notices say why a request's session is new, when it replaced another.
var notices = map[core.Reason]string{
	core.Expired:      "Your session expired; please log in again.",
	core.Revoked:      "You were logged out from another device.",
	core.InvalidToken: "Your session could not be read; you have a new one.",
}

// index renders the page: it counts the visit, shows the session and
// consumes the flash messages.
func (a *app) index(ctx context.Context, r request) reply {
	var d pageData
	s, err := r.session()
	if err != nil {
		a.log.ErrorContext(ctx, "session unavailable", "path", r.path, "err", err)
		d.Error = "The session store is unavailable; try again shortly."
	} else {
		d.Visits, _ = s.Incr("visits", 1)
		d.Flashes = s.Flashes()
		d.User, _ = s.GetString("user")
		d.Notice = notices[s.Reason()]
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
		for k, v := range s.All() {
			b, err := codec.MarshalTagged(v)
			if err != nil {
				b = []byte("(not representable)")
			}
			d.Entries = append(d.Entries, entry{Key: k, Value: string(b)})
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
	return reply{status: status, contentType: "text/html; charset=utf-8", body: buf.Bytes()}
}

// describeExpiry tells s's end as this request leaves it (its visit counted).
func (a *app) describeExpiry(s *core.Session) *expiry {
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

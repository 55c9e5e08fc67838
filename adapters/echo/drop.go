package echosession

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// notSaved is the message of the response that replaces the handler's when
// the session could not be saved.
const notSaved = "session could not be saved"

// dropWriter replaces the response's writer once the session failed to
// save. Echo calls its WriteHeader right after the Before hooks: it sends a
// 500 with a plain-text explanation instead of the handler's status, and
// every later write of the handler's body goes nowhere.
type dropWriter struct {
	w      http.ResponseWriter
	res    *echo.Response
	status int
	wrote  bool
}

func (d *dropWriter) Header() http.Header { return d.w.Header() }

// WriteHeader ignores the handler's code: the response is the error.
func (d *dropWriter) WriteHeader(int) {
	if d.wrote {
		return
	}
	d.wrote = true
	h := d.w.Header()
	// Headers that describe the handler's body or redirect, which the
	// client is not getting. Content-Encoding stays: a compressing
	// middleware may have set it for the writer it wraps.
	for _, k := range [...]string{"Content-Length", "Content-Range", "Content-Disposition", "Location", "ETag", "Last-Modified"} {
		h.Del(k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	d.w.WriteHeader(d.status)
	n, _ := io.WriteString(d.w, notSaved+"\n")
	d.res.Size += int64(n) // what was really sent, for access logs
}

// Write drops the handler's body.
func (d *dropWriter) Write([]byte) (int, error) {
	d.WriteHeader(0)
	return 0, ErrResponseDropped
}

// Flush flushes the error response out; without it Echo's Response.Flush would panic.
func (d *dropWriter) Flush() {
	d.WriteHeader(0)
	_ = http.NewResponseController(d.w).Flush()
}

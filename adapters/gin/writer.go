package ginsession

import (
	"bufio"
	"errors"
	"net"
	"net/http"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/headers"
	"github.com/gin-gonic/gin"
)

// errNotSaved is what writes return after the session failed to save and
// the response was replaced by an error.
var errNotSaved = errors.New("ginsession: response dropped: the session could not be saved")

// sessionWriter wraps c.Writer so that the session is committed before the
// status line goes out. gin's own writer only records WriteHeader and sends
// the status at WriteHeaderNow or at the first Write, WriteString, Flush or
// Hijack, so the commit happens at exactly those points. Status, Size,
// Written, Header, CloseNotify and Pusher pass through to the embedded
// writer.
type sessionWriter struct {
	gin.ResponseWriter
	c         *gin.Context
	session   core.Request   // held here, which spares an allocation per request
	headers   headers.Values // the session's headers cost no allocation of their own
	committed bool
	failed    bool
}

// commit saves the session once. When that fails and nothing has been
// sent yet, the handler's response is replaced by an error (503 when the
// backend failed, else 500): answering success
// for a change that was lost would mislead the client.
func (w *sessionWriter) commit() {
	if w.committed {
		return
	}
	w.committed = true
	if err := w.session.Commit(w.c.Request.Context()); err != nil {
		w.failed = true
		if !w.ResponseWriter.Written() {
			http.Error(w.ResponseWriter, "session could not be saved", core.HTTPStatus(err))
		}
	}
}

// release hands c.Writer back to gin's writer when the middleware returns.
// After a panic, a recovery middleware's error response then goes out
// without saving the session of the handler that failed.
func (w *sessionWriter) release() { w.c.Writer = w.ResponseWriter }

// WriteHeader records the status, as gin's writer does; nothing is sent.
func (w *sessionWriter) WriteHeader(code int) {
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

// WriteHeaderNow commits, then sends the status line and headers.
func (w *sessionWriter) WriteHeaderNow() {
	w.commit()
	if !w.failed {
		w.ResponseWriter.WriteHeaderNow()
	}
}

// Write commits before the first byte of the body.
func (w *sessionWriter) Write(p []byte) (int, error) {
	w.commit()
	if w.failed {
		return 0, errNotSaved
	}
	return w.ResponseWriter.Write(p)
}

// WriteString commits before the first byte of the body.
func (w *sessionWriter) WriteString(s string) (int, error) {
	w.commit()
	if w.failed {
		return 0, errNotSaved
	}
	return w.ResponseWriter.WriteString(s)
}

// Flush commits and flushes, for streaming handlers (c.Stream, SSE).
func (w *sessionWriter) Flush() {
	w.commit()
	if !w.failed {
		w.ResponseWriter.Flush()
	}
}

// Hijack commits before handing the connection over, so that a websocket
// upgrade keeps the session it was given.
func (w *sessionWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.commit()
	if w.failed {
		return nil, nil, errNotSaved
	}
	return w.ResponseWriter.Hijack()
}

// Unwrap lets http.ResponseController reach gin's writer.
func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

package echosession

import (
	"io"

	"github.com/labstack/echo/v5"

	"github.com/cloakroom/cloakroom/core"
)

// notSaved is the message of the response that replaces the handler's when
// the session could not be saved.
const notSaved = "session could not be saved"

// replace sends, instead of the handler's response, the failure's status
// with a plain-text explanation. Everything the handler writes afterwards
// goes nowhere.
func (s *state) replace() {
	h := s.w.Header()
	// Headers that describe the handler's body or redirect, which the
	// client is not getting. Content-Encoding goes too: s sits below the
	// compressing writers Echo's middleware puts above the Response, so
	// the replacement's bytes go out as they are.
	for _, k := range [...]string{"Content-Length", "Content-Range", "Content-Disposition",
		"Content-Encoding", "Location", "ETag", "Last-Modified"} {
		h.Del(k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	s.res.Status = s.failed // what access logs report
	s.w.WriteHeader(s.failed)
	n, _ := io.WriteString(s.w, notSaved+"\n")
	s.res.Size += int64(n) // what was really sent
}

// finish commits the session of a handler that wrote nothing. When that
// fails it sends the replacement at once, rather than leave the status to
// whoever writes next (a Gzip middleware sending a held-back 204, net/http
// an empty 200), and returns the failure as an *echo.HTTPError for the
// HTTPErrorHandler and logging middleware.
func (s *state) finish() error {
	err := s.req.Commit(s.commitContext())
	if err == nil {
		return nil
	}
	s.failed = core.HTTPStatus(err)
	s.sendStatus(s.failed)
	return echo.NewHTTPError(s.failed, notSaved).Wrap(err)
}

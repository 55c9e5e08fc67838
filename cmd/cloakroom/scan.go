package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// env is what a command works with: the opened store, its Manager, the
// command line and where output goes.
type env struct {
	cfg     config
	backend core.Backend
	m       *core.Manager
	stdout  io.Writer
	stderr  io.Writer
	prog    *progress
	// skipped counts the sessions a scan could not read, reported on
	// stderr as they come; a command that skipped any fails at the end.
	skipped int
}

// errStop ends a scan early without an error.
var errStop = errors.New("stop")

// scan calls fn with each live session of -user, or every one when -user
// is empty, and with the error of one that could not be read; fn returns
// errStop to end the scan. A backend that cannot list its keys, or fails,
// ends it with an error.
func (e *env) scan(ctx context.Context, fn func(core.Stored, error) error) error {
	e.prog.begin()
	defer e.prog.clear()
	n := 0
	for st, err := range e.m.Scan(ctx, e.cfg.user) {
		switch {
		case errors.Is(err, core.ErrNoLister):
			return fmt.Errorf("%s cannot list its keys: name a user with -user NAME to go through their index", e.cfg.backend)
		case errors.Is(err, core.ErrBackend):
			return err
		}
		n++
		e.prog.tick(n)
		if err := fn(st, err); errors.Is(err, errStop) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// skip reports on stderr a session that could not be read.
func (e *env) skip(st core.Stored, err error) {
	e.skipped++
	e.prog.clear()
	fmt.Fprintf(e.stderr, "cloakroom: skipped session %s: %v\n", orDash(st.Handle), err)
}

// skippedErr is the error of a command that skipped sessions.
func (e *env) skippedErr() error {
	if e.skipped == 0 {
		return nil
	}
	return fmt.Errorf("%d session(s) could not be read (see above)", e.skipped)
}

// found is a session that find found, with the error of reading it if it
// could not be read (revoke ends it all the same).
type found struct {
	core.Stored
	readErr error
}

// find returns the live session whose handle is handle.
func (e *env) find(ctx context.Context, handle string) (found, error) {
	if handle == "" || handle == "-" {
		return found{}, usagef("name the session by its handle, as list prints it: a session listed without one is known only through its owner's index (-user NAME)")
	}
	var f *found
	err := e.scan(ctx, func(st core.Stored, err error) error {
		if st.Handle != handle {
			return nil
		}
		f = &found{st, err}
		return errStop
	})
	switch {
	case err != nil:
		return found{}, err
	case f != nil:
		return *f, nil
	case e.cfg.user != "":
		return found{}, fmt.Errorf("%s has no live session with handle %s", safe(e.cfg.user), safe(handle))
	case e.cfg.hashKeys:
		return found{}, fmt.Errorf("no live session with handle %s: under -hash-keys only a user's index knows handles, add -user NAME", safe(handle))
	}
	return found{}, fmt.Errorf("no live session with handle %s", safe(handle))
}

// out writes one line of output, erasing the progress line first.
func (e *env) out(format string, args ...any) error {
	e.prog.clear()
	_, err := fmt.Fprintf(e.stdout, format, args...)
	return err
}

// outJSON writes v as one line of JSON.
func (e *env) outJSON(v any) error {
	e.prog.clear()
	return json.NewEncoder(e.stdout).Encode(v)
}

// summary is how list and show give a session in JSON.
type summary struct {
	Handle  *string `json:"handle"` // null under -hash-keys without -user
	Owner   *string `json:"owner"`  // null for an anonymous session
	Size    int     `json:"size"`
	Expires *string `json:"expires"` // RFC 3339 UTC; null when unknown or never
}

func summarize(st core.Stored) summary {
	s := summary{Handle: orNull(st.Handle), Owner: orNull(st.Owner), Size: st.Size}
	if !st.Expires.IsZero() {
		t := expires(st)
		s.Expires = &t
	}
	return s
}

// expires gives when the backend drops a session, "-" when it never does
// or cannot tell.
func expires(st core.Stored) string {
	if st.Expires.IsZero() {
		return "-"
	}
	return st.Expires.UTC().Format(time.RFC3339)
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return safe(s)
}

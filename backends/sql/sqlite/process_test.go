package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/core"
)

// The test binary runs as a child process of TestProcessesStartTogether
// when these variables are set: processEnv names the database file,
// processIDEnv the child's number.
const (
	processEnv   = "CLOAKROOM_SQLITE_PROCESS_DB"
	processIDEnv = "CLOAKROOM_SQLITE_PROCESS_ID"
	// readyLine is what a child prints on its standard output once it
	// has started and waits for the signal to go.
	readyLine = "cloakroom-sqlite-child-ready"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(processEnv); path != "" {
		if err := runProcess(path, os.Getenv(processIDEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runProcess is one child of TestProcessesStartTogether: it waits until
// its standard input closes, then starts up as an application would
// (Open, CreateTable) on the file at path, makes a conditional write of its
// own key and adds one to a shared counter by read-modify-write
// (GetVersion, SetIf with the version).
func runProcess(path, id string) error {
	fmt.Println(readyLine)
	// The parent closes every child's standard input at once: the
	// children start up together.
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, path, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.CreateTable(ctx); err != nil {
		return err
	}
	if err := s.SetIf(ctx, "child-"+id, nil, []byte(id), time.Hour); err != nil {
		return err
	}
	for {
		n, version := 0, core.Version(nil)
		v, ver, err := s.GetVersion(ctx, "counter")
		switch {
		case errors.Is(err, core.ErrNotFound):
		case err != nil:
			return err
		default:
			if n, err = strconv.Atoi(string(v)); err != nil {
				return err
			}
			version = ver
		}
		err = s.SetIf(ctx, "counter", version, []byte(strconv.Itoa(n+1)), time.Hour)
		if errors.Is(err, core.ErrConflict) || errors.Is(err, core.ErrNotFound) {
			continue // another child came first: read again
		}
		return err
	}
}

// TestProcessesStartTogether starts several processes on one new SQLite
// file at the same moment, each of which opens it with Open, creates the
// table and writes: all must succeed. Before CreateTable took the write
// lock first, two of them deadlocked in SQLite and one failed with
// "database is locked" in most rounds.
func TestProcessesStartTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable to start:", err)
	}
	const rounds, children = 10, 3
	failed := 0
	for round := range rounds {
		path := filepath.Join(t.TempDir(), "s.db")
		if !startTogether(t, exe, path, children) {
			t.Errorf("round %d of %d failed", round+1, rounds)
			failed++
			continue
		}
		s := open(t, path)
		ctx := context.Background()
		for i := range children {
			if v, err := s.Get(ctx, "child-"+strconv.Itoa(i)); err != nil || string(v) != strconv.Itoa(i) {
				t.Errorf("round %d: child %d's key = %q, %v", round+1, i, v, err)
			}
		}
		if v, err := s.Get(ctx, "counter"); err != nil || string(v) != strconv.Itoa(children) {
			t.Errorf("round %d: counter = %q, %v; want %d", round+1, v, err, children)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d rounds failed", failed, rounds)
	}
}

// startTogether runs n children on path, lets them all go at once when
// all have started (it closes their standard input one after the other,
// within microseconds), and reports whether all exited 0.
func startTogether(t *testing.T, exe, path string, n int) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel() // kills children left behind
	type child struct {
		cmd    *exec.Cmd
		out    *readyWriter
		stdin  io.WriteCloser
		ready  chan struct{}
		exited chan error
	}
	kids := make([]*child, n)
	for i := range kids {
		c := &child{ready: make(chan struct{}), exited: make(chan error, 1)}
		c.cmd = exec.CommandContext(ctx, exe)
		c.cmd.Env = append(os.Environ(), processEnv+"="+path, processIDEnv+"="+strconv.Itoa(i),
			// A binary built with -race sleeps a second before it exits
			// unless told otherwise.
			"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
		c.out = &readyWriter{ready: c.ready}
		c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
		var err error
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { c.exited <- c.cmd.Wait() }()
		kids[i] = c
	}
	for _, c := range kids {
		select {
		case <-c.ready:
		case err := <-c.exited: // before it was ready: a failure
			c.exited <- err
		case <-ctx.Done():
		}
	}
	for _, c := range kids {
		_ = c.stdin.Close()
	}
	ok := true
	for i, c := range kids {
		if err := <-c.exited; err != nil {
			t.Errorf("child %d: %v\n%s", i, err, c.out.String())
			ok = false
		}
	}
	return ok
}

// readyWriter collects a child's output and closes ready when the child
// has printed readyLine.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, _ := w.buf.Write(p)
	if w.ready != nil && strings.Contains(w.buf.String(), readyLine+"\n") {
		close(w.ready)
		w.ready = nil
	}
	return n, nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

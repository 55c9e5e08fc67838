package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Config is one soak run.
type Config struct {
	Backend  string        // memory, redis or postgres
	DSN      string        // the Redis or PostgreSQL server; "" is the local one
	Demo     string        // a built demo; "" builds examples/demo
	Warmup   time.Duration // of load before the first window, not measured
	Duration time.Duration // of the measured load, after the warm-up
	Requests int64         // a bound on the operations too; 0 is none
	Clients  int           // concurrent keep-alive clients
	Sessions int           // logged-in sessions, constant through the run
	Window   time.Duration // the unit of the growth rule
	Sample   time.Duration // between two readings of RSS and goroutines
	Limits   Limits
}

// Limits is what makes a run fail besides errors.
type Limits struct {
	// Growth is the largest relative growth, from the first window to the
	// last, of the median RSS, the median goroutine count and (under
	// Latency) the p99 latency.
	Growth float64
	// RSSSlack and GoroutineSlack are growths ignored whatever their ratio:
	// a short run's windows are too short for the allocator and the
	// connection pools to settle, and a few MiB are noise. Under load the
	// demo's goroutines rise and fall with the requests in flight (net/http
	// runs one more per connection while a handler runs), by up to one per
	// client from one sample to the next; a negative GoroutineSlack means
	// that many. A leak grows with the requests, past any such bound.
	RSSSlack       int64
	GoroutineSlack int64
	// Latency applies Growth to p99 latency. On a shared machine a short
	// run's p99 follows the neighbours' load, so short runs only report it.
	Latency bool
}

func (c Config) validate() error {
	switch {
	case c.Backend != "memory" && c.Backend != "redis" && c.Backend != "postgres":
		return fmt.Errorf("-backend %q: want memory, redis or postgres", c.Backend)
	case c.Clients < 1 || c.Sessions < c.Clients:
		return fmt.Errorf("need at least one client and one session per client, not %d clients and %d sessions", c.Clients, c.Sessions)
	case c.Duration <= 0 || c.Window <= 0 || c.Sample <= 0 || c.Sample > c.Window || c.Warmup < 0:
		return errors.New("-duration, -window and -sample must be positive, -sample at most -window, -warmup not negative")
	}
	return nil
}

// Run soaks the demo as cfg says, printing each window's line to out, and
// returns the figures. An error means the run could not take place (no
// server, no demo); a run that took place and failed has Failures.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Limits.GoroutineSlack < 0 {
		cfg.Limits.GoroutineSlack = int64(cfg.Clients)
	}
	st, err := openStore(ctx, cfg.Backend, cfg.DSN)
	if err != nil {
		return nil, err
	}
	defer st.close()
	bin := cfg.Demo
	if bin == "" {
		dir, err := os.MkdirTemp("", "soak-demo-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if bin, err = BuildDemo(ctx, dir); err != nil {
			return nil, err
		}
	}
	d, err := startDemo(ctx, bin, cfg.Backend, st.dsn())
	if err != nil {
		return nil, err
	}
	defer d.stop()
	if m, ok := st.(*memoryStore); ok {
		m.demo = d
	}
	return soak(ctx, cfg, d, st, out)
}

// soak creates the sessions, runs the load and gathers the report.
func soak(ctx context.Context, cfg Config, d *demo, st store, out io.Writer) (*Report, error) {
	l := newLoad(d.base, cfg, rand.Text()[:8])
	start := time.Now()
	if err := l.prepare(ctx); err != nil {
		return nil, fmt.Errorf("creating the sessions: %w\nthe demo's log:\n%s", err, d.log.last(20))
	}
	fmt.Fprintf(out, "soak: %s backend, %d sessions logged in and written by %d clients in %v\n",
		cfg.Backend, cfg.Sessions, cfg.Clients, time.Since(start).Round(time.Millisecond))
	r := &Report{Backend: cfg.Backend, Limits: cfg.Limits, Expected: cfg.Sessions}
	// Idle, with no client connected: the goroutines that remain are the
	// demo's own, comparable with the same reading after the run.
	l.http.CloseIdleConnections()
	r.Start = d.idleSample(ctx)
	r.Start.Count, r.Start.CountErr = countOf(ctx, st)

	r.Windows = measure(ctx, cfg, l, d, st, out)
	r.finish(l)
	// Interrupted (Ctrl-C) or not, the run ends with its figures.
	bg := context.WithoutCancel(ctx)
	r.End = d.idleSample(bg)
	r.End.Count, r.End.CountErr = countOf(bg, st)
	r.Expected = l.held()
	last := r.Windows[len(r.Windows)-1]
	last.Count, last.CountErr = r.End.Count, r.End.CountErr
	// The last window, with the tail that finish folded into it.
	fmt.Fprintln(out, last.line(fmt.Sprintf("window %d (to the end)", len(r.Windows)), r.Windows[0].Start))
	r.Print(out)
	if len(r.Failures()) > 0 {
		fmt.Fprintf(out, "the demo's log:\n%s", d.log.last(20))
	}
	return r, nil
}

// measure runs the load for the warm-up and the duration, and returns
// the windows of the part after the warm-up once every client has stopped.
func measure(ctx context.Context, cfg Config, l *load, d *demo, st store, out io.Writer) []*Window {
	loadCtx, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration)
	defer cancel()
	done := make(chan struct{})
	go func() {
		l.run(loadCtx)
		cancel() // a -requests bound ends the run before the deadline
		close(done)
	}()
	if cfg.Warmup > 0 {
		// Connection pools grow to their size and the heap to its
		// high-water mark under load: only then is a window a baseline.
		select {
		case <-time.After(cfg.Warmup):
		case <-loadCtx.Done():
		}
	}
	windows := monitor(loadCtx, cfg, l, d, st, out)
	<-done
	return windows
}

// countOf asks the store for its session count; -1 when it cannot tell.
func countOf(ctx context.Context, st store) (int, error) {
	n, err := st.count(ctx)
	switch {
	case errors.Is(err, errNotCounted):
		return -1, nil
	case err != nil:
		return -1, err
	}
	return n, nil
}

// Command soak puts the demo (examples/demo) under a steady load on
// loopback for a bounded time, and fails when it does not stay flat:
//
//	go run ./cmd/soak -backend memory -duration 10m
//	go run ./cmd/soak -backend redis -duration 3m -window 30s
//	go run ./cmd/soak -backend postgres -clients 200 -sessions 20000
//
// It builds the demo (or runs the one -demo names) with the backend asked
// for, on a fresh Redis database or PostgreSQL database that it removes
// afterwards, logs in -sessions users from -clients keep-alive clients and
// writes their values, then sends 90% reads, 8% writes and 2% logouts
// followed by a new login: for -warmup unmeasured, then for -duration (or
// until -requests operations) in windows of -window. It prints each
// window's figures and a summary, and exits 1 when the run failed (see
// Report.Failures). bench/README.md ("Soak") says what it checks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if failures := rep.Failures(); len(failures) > 0 {
		for _, f := range failures {
			fmt.Println("FAIL:", f)
		}
		os.Exit(1)
	}
	fmt.Println("PASS")
}

func parseFlags(args []string) (Config, error) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.StringVar(&c.Backend, "backend", c.Backend, "the demo's backend: memory, redis or postgres")
	fs.StringVar(&c.DSN, "dsn", "", "the Redis or PostgreSQL server (default: redis://127.0.0.1:6379, postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); the run gets a database of its own on it")
	fs.StringVar(&c.Demo, "demo", "", "a demo binary to run (default: build examples/demo)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "how long the load runs before the first window, unmeasured (errors still count)")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long the measured load runs, after the warm-up")
	fs.Int64Var(&c.Requests, "requests", 0, "stop after this many operations too, warm-up included (0: no bound)")
	fs.IntVar(&c.Clients, "clients", c.Clients, "concurrent keep-alive clients")
	fs.IntVar(&c.Sessions, "sessions", c.Sessions, "logged-in sessions, shared out among the clients")
	fs.DurationVar(&c.Window, "window", c.Window, "length of a window: the first and the last are compared")
	fs.DurationVar(&c.Sample, "sample", c.Sample, "how often the demo's RSS and goroutines are read")
	fs.Float64Var(&c.Limits.Growth, "growth", c.Limits.Growth, "the most RSS, goroutines and p99 latency may grow from the first window to the last (0.1: 10%)")
	fs.Int64Var(&c.Limits.GoroutineSlack, "goroutine-slack", c.Limits.GoroutineSlack, "goroutine growth ignored whatever its ratio (-1: one per client, the goroutines in-flight requests hold)")
	fs.Int64Var(&c.Limits.RSSSlack, "rss-slack", c.Limits.RSSSlack, "RSS growth in bytes ignored whatever its ratio")
	fs.BoolVar(&c.Limits.Latency, "check-latency", c.Limits.Latency, "fail on p99 latency growth too, not only report it")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return c, c.validate()
}

// DefaultConfig is the long run: 200 clients over 20,000 sessions,
// compared minute by minute.
func DefaultConfig() Config {
	return Config{
		Backend:  "memory",
		Warmup:   time.Minute,
		Duration: 10 * time.Minute,
		Clients:  200,
		Sessions: 20000,
		Window:   time.Minute,
		Sample:   time.Second,
		Limits:   Limits{Growth: 0.10, GoroutineSlack: -1, Latency: true},
	}
}

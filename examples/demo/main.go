// Command demo serves a small site that shows cloakroom's sessions at work,
// on any supported framework and backend:
//
//	go run ./examples/demo                       # net/http, memory backend
//	go run ./examples/demo -framework gin -backend redis
//
// It is the root module's cmd/demo with every framework and backend of the
// repository added; docs/demo.md describes its routes, which the
// end-to-end tests here drive.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloakroom/cloakroom/backends/redis"
	"github.com/cloakroom/cloakroom/internal/demo"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	redis.LogTo(log) // go-redis's own messages too, with secrets masked
	if err := run(log, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Error("demo stopped", "err", err)
		os.Exit(1)
	}
}

// run serves the demo as the command line args asks until an interrupt.
func run(log *slog.Logger, args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return demo.Run(ctx, log, args, extensions)
}

// extensions are the frameworks and backends this build adds to the root
// module's demo, and its metrics.
var extensions = demo.Extensions{
	Frameworks: map[string]func(*demo.App, demo.Timeouts) demo.Server{
		"gin":    func(a *demo.App, t demo.Timeouts) demo.Server { return demo.HTTPServer(ginHandler(a), t) },
		"echo":   func(a *demo.App, t demo.Timeouts) demo.Server { return demo.HTTPServer(echoHandler(a), t) },
		"echo5":  func(a *demo.App, t demo.Timeouts) demo.Server { return demo.HTTPServer(echo5Handler(a), t) },
		"fiber":  fiberServer,
		"fiber3": fiber3Server,
	},
	Backends:   backends,
	Instrument: instrument,
}

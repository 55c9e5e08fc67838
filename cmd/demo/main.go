// Command demo serves a small site that shows cloakroom's sessions at work,
// on net/http with the memory, filesystem or signed-cookie store. It needs
// nothing beyond the standard library, so it starts in seconds:
//
//	go run ./cmd/demo                         # http://127.0.0.1:8080, memory
//	go run ./cmd/demo -backend filesystem -dsn /tmp/sessions
//	go run ./cmd/demo -backend cookie -secret "$(openssl rand -hex 32)"
//
// examples/demo is the same site on every framework and backend of the
// repository. docs/demo.md describes its routes.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloakroom/cloakroom/internal/demo"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, log, os.Args[1:], demo.Extensions{}); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Error("demo stopped", "err", err)
		os.Exit(1)
	}
}

// Command ferretdb runs FerretDB v1 (the MongoDB wire protocol over SQLite)
// for cloakroom's MongoDB backend tests: Debian ships no MongoDB server, so
// scripts/services/mongodb.sh builds this program from the Go module proxy
// and starts it on loopback. With -ping it instead checks that a MongoDB
// server (FerretDB or the real thing) answers, which the script uses to
// wait for the server.
//
//	ferretdb -listen 127.0.0.1:27017 -data .services/ferretdb-data
//	ferretdb -ping mongodb://127.0.0.1:27017/
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	data := flag.String("data", "ferretdb-data", "directory for the SQLite databases")
	verbose := flag.Bool("v", false, "log every request at debug level")
	ping := flag.String("ping", "", "only check that the MongoDB server at this URI answers a ping")
	flag.Parse()
	var err error
	if *ping != "" {
		err = pingServer(*ping)
	} else {
		err = run(*listen, *data, *verbose)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, data string, verbose bool) error {
	dir, err := filepath.Abs(data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Warn("ferretdb listening", "addr", listen, "data", dir)
	return f.Run(ctx)
}

// pingServer sends one ping to the server at uri, giving up after two
// seconds.
func pingServer(uri string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	opts := options.Client().ApplyURI(uri).SetServerSelectionTimeout(2 * time.Second)
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	return client.Ping(ctx, nil)
}

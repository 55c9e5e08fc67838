// Command cloakroom is an operator's tool over the sessions a cloakroom
// deployment stores, on any backend: list them, show one, revoke a user's
// or one session, purge expired ones, count them.
//
//	go run ./cmd/cloakroom -backend redis -dsn redis://127.0.0.1:6379/0 list
//
// It never prints a session id, a backend key, a password or a secret:
// sessions are named by their handles, which Manager.Sessions and Revoke
// use too and which open nothing. See README.md.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cloakroom/cloakroom/cmd/cloakroom/stores"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line is wrong
)

func main() {
	stores.QuietDrivers()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, os.Getenv)
}

// runWith is run with the environment read through getenv.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var c config
	fs := newFlagSet("cloakroom", &c)
	// Whatever goes wrong, the message must not show what these hold.
	hidden := func() []string {
		dsn := cmp.Or(c.dsn, getenv(envDSN))
		return append(stores.Passwords(dsn), append(secretList(c.secret), secretList(getenv(envSecret))...)...)
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout, fs)
		return exitOK
	case err != nil:
		return fail(stderr, usageError{err.Error()}, hidden())
	case fs.NArg() == 0:
		usage(stderr, fs)
		return exitUsage
	}
	cmd, ok := lookup(fs.Arg(0))
	if !ok {
		return fail(stderr, usagef("unknown command %q", fs.Arg(0)), hidden())
	}
	// The same flags, parsed again, may follow the command.
	operands, err := parseCommand(fs, fs.Args()[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, cmd, fs)
		return exitOK
	}
	if err == nil && c.user != "" && !cmd.user {
		err = usagef("%s takes no -user", cmd.name)
	}
	if err != nil {
		return fail(stderr, err, hidden())
	}
	return fail(stderr, execute(ctx, cmd, c, operands, stdout, stderr, getenv), hidden())
}

// execute opens the store and runs cmd on it.
func execute(ctx context.Context, cmd command, c config, operands []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if c.backend == "" {
		return usagef("name the store with -backend: %s", strings.Join(stores.Names(), ", "))
	}
	if c.dsn == "" {
		c.dsn = getenv(envDSN)
	}
	if c.table != "" && c.backend != "postgres" && c.backend != "mysql" && c.backend != "sqlite" {
		return usagef("-table applies to postgres, mysql and sqlite (-backend django uses django_session)")
	}
	m, err := newManager(c, getenv)
	if err != nil {
		return err
	}
	backend, closeBackend, err := stores.Open(ctx, c.backend, c.dsn, stores.Options{Table: c.table})
	if err != nil {
		return err
	}
	defer closeBackend()
	m.Backend = backend
	if err := m.Validate(); err != nil {
		return err
	}
	e := &env{cfg: c, backend: backend, m: m, stdout: stdout, stderr: stderr, prog: newProgress(stderr)}
	return cmd.run(ctx, e, operands)
}

// fail reports err on stderr, on one line, and returns the exit status
// it calls for. The message never holds any of hidden: the DSN's
// passwords, the secrets.
func fail(stderr io.Writer, err error, hidden []string) int {
	if err == nil {
		return exitOK
	}
	msg := scrub(err.Error(), hidden)
	msg = strings.Join(strings.Fields(msg), " ") // one line
	fmt.Fprintf(stderr, "cloakroom: %s\n", msg)
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintln(stderr, "run 'cloakroom -h' for usage")
		return exitUsage
	}
	return exitError
}

// usage prints the commands and the flags.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `cloakroom lists, shows and ends the sessions a cloakroom deployment stores.

Usage:
  cloakroom -backend NAME [-dsn DSN] [flags] COMMAND [operands]

Commands:
`)
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-42s %s\n", strings.TrimSpace(cmd.name+" "+cmd.usage), cmd.summary)
	}
	fmt.Fprint(w, `
Flags, before or after the command:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(w, `
$%s and $%s stand in for -dsn and -secret, which then stay
out of the process listing. Sessions are named by their handles: no session
id, backend key, password or secret is ever printed.

Exit status: 0 done, 1 failed, 2 wrong usage.
`, envDSN, envSecret)
}

// commandUsage prints one command's usage.
func commandUsage(w io.Writer, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: cloakroom [flags] %s\n\n%s.\n\nFlags:\n", strings.TrimSpace(cmd.name+" "+cmd.usage), cmd.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

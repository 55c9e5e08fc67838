package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cloakroom/cloakroom/cmd/cloakroom/stores"
)

// config is the command line.
type config struct {
	backend, dsn, table   string
	preset, codec, secret string
	prefix                string
	prefixSet             bool // -prefix was given, "" included
	hashKeys              bool
	user                  string
	json                  bool
}

// defineFlags puts every flag on fs, writing to c. The flag set parses the
// arguments after the command's name too, so that a flag may come before
// or after it.
func defineFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.backend, "backend", "", "the `store`: "+strings.Join(stores.Names(), ", ")+" (Django's django_session table)")
	fs.StringVar(&c.dsn, "dsn", "", "the store's `address`: a URL or DSN, a folder for filesystem, a file for sqlite and django on SQLite (default: $"+envDSN+", else the demo's)")
	fs.StringVar(&c.table, "table", "", "the `table` of postgres, mysql and sqlite (default cloakroom_sessions)")
	fs.StringVar(&c.preset, "preset", "none", "the Manager's `layout`: none or quart (Quart-Session's); -backend django implies Django's")
	fs.StringVar(&c.codec, "codec", "", "the Manager's `codec`: tagged (the default), json or gob; -backend django implies Django's")
	fs.Func("prefix", "the Manager's KeyPrefix, the `prefix` of its keys, where the deployment changed it (default: the preset's, \"session:\"; none for django)", func(s string) error {
		c.prefix, c.prefixSet = s, true
		return nil
	})
	fs.BoolVar(&c.hashKeys, "hash-keys", false, "the Manager stores sessions under a hash of their id (HashKeys)")
	fs.StringVar(&c.secret, "secret", "", "-backend django: the project's `keys`, SECRET_KEY then SECRET_KEY_FALLBACKS, comma-separated (default $"+envSecret+"); never printed")
	fs.StringVar(&c.user, "user", "", "list, show, stats, revoke: only the sessions of this `owner`, found through their index (on any backend, memcached included)")
	fs.BoolVar(&c.json, "json", false, "machine-readable output: JSON lines for list, one JSON document otherwise")
}

// The environment variables that stand in for flags whose values should
// not show in a process listing.
const (
	envDSN    = "CLOAKROOM_DSN"
	envSecret = "CLOAKROOM_SECRET"
)

// newFlagSet returns a flag set named name with every flag, which reports
// nothing itself: run reports its errors.
func newFlagSet(name string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defineFlags(fs, c)
	return fs
}

// usageError is a command line that cannot be run: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// parseCommand parses a command's arguments, flags and operands in any
// order, and returns the operands. A handle that starts with "-" (one in 64
// does) is an operand, not an unknown flag; "--" ends the flags.
func parseCommand(fs *flag.FlagSet, args []string) ([]string, error) {
	var operands []string
	for {
		args, operands = takeHandles(fs, args, operands)
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return operands, nil
		}
		operands = append(operands, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// takeHandles moves the operands of args that look like handles starting
// with "-" to operands, up to "--", leaving flag values where they are.
func takeHandles(fs *flag.FlagSet, args, operands []string) (rest, ops []string) {
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), operands
		}
		name := strings.TrimLeft(a, "-")
		if isHandle(a) && fs.Lookup(name) == nil {
			operands = append(operands, a)
			continue
		}
		rest = append(rest, a)
		if f := fs.Lookup(name); f != nil && strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && !isBool(f) && i+1 < len(args) {
			i++
			rest = append(rest, args[i]) // the flag's value
		}
	}
	return rest, operands
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// isHandle reports whether s has the form of a session's handle: 16
// characters of URL-safe base64.
func isHandle(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

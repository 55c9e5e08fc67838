package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// -h lists every command and flag, on stdout, and succeeds.
func TestHelp(t *testing.T) {
	t.Parallel()
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"-h"}, &out, &errs)
	r := result{code: code, stdout: out.String(), stderr: errs.String()}
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("-h: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, cmd := range commands() {
		if !strings.Contains(r.stdout, "\n  "+cmd.name) {
			t.Errorf("-h does not list %s:\n%s", cmd.name, r.stdout)
		}
	}
	for _, name := range []string{"backend", "dsn", "table", "prefix", "codec", "hash-keys", "preset", "secret", "user", "json"} {
		if !strings.Contains(r.stdout, "-"+name) {
			t.Errorf("-h does not list -%s", name)
		}
	}
	if r := cli(t, "show", "-h"); r.code != 0 || !strings.Contains(r.stdout, "show HANDLE") {
		t.Errorf("show -h: exit %d, %q", r.code, r.stdout)
	}
}

// A wrong command line exits with 2 and says what is wrong on one line,
// then where to find the usage; nothing is opened.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Commands:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"-nope", "list"}, "flag provided but not defined: -nope"},
		{[]string{"list"}, "name the store with -backend"},
		{[]string{"-backend", "filesystem", "-dsn", dir, "show"}, "show takes one HANDLE"},
		{[]string{"-backend", "filesystem", "-dsn", dir, "revoke"}, "revoke needs -user NAME"},
		{[]string{"-backend", "filesystem", "-dsn", dir, "revoke", ""}, "name the session by its handle"},
		{[]string{"-backend", "filesystem", "-dsn", dir, "show", "-"}, "name the session by its handle"},
		{[]string{"-backend", "filesystem", "-dsn", dir, "purge", "-user", "x"}, "takes no -user"},
		{[]string{"-backend", "filesystem", "-dsn", dir, "-preset", "flask", "list"}, `unknown -preset "flask"`},
		{[]string{"-backend", "filesystem", "-dsn", dir, "-codec", "xml", "list"}, `unknown -codec "xml"`},
		{[]string{"-backend", "redis", "-table", "t", "list"}, "-table applies to"},
		{[]string{"-backend", "django", "-dsn", filepath.Join(dir, "x"), "-codec", "json", "list"}, "drop -codec"},
	} {
		r := cli(t, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

// Backends an operator cannot reach from outside, and stores that do not
// exist, are refused rather than opened empty.
func TestRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-backend", "memory", "list"}, "lives inside one process"},
		{[]string{"-backend", "cookie", "list"}, "keeps sessions in the browsers"},
		{[]string{"-backend", "etcd", "list"}, `unknown -backend "etcd"`},
		{[]string{"-backend", "filesystem", "-dsn", missing, "list"}, "no such file or directory"},
		{[]string{"-backend", "sqlite", "-dsn", missing + ".db", "list"}, "no such file or directory"},
		{[]string{"-backend", "sqlite", "-dsn", ":memory:", "list"}, "in-memory database"},
	} {
		r := cli(t, c.args...)
		if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 1 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the missing folder was created: %v", err)
	}
	if _, err := os.Stat(missing + ".db"); !os.IsNotExist(err) {
		t.Errorf("the missing database was created: %v", err)
	}
}

// Flags go before or after the command, and a handle that starts with "-"
// is an operand.
func TestParseCommand(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args     []string
		user     string
		json     bool
		operands []string
	}{
		{[]string{"abc"}, "", false, []string{"abc"}},
		{[]string{"abc", "-user", "alice"}, "alice", false, []string{"abc"}},
		{[]string{"-user", "alice", "abc", "-json"}, "alice", true, []string{"abc"}},
		{[]string{"-Xy3_abcdefghijk", "-user", "alice"}, "alice", false, []string{"-Xy3_abcdefghijk"}},
		{[]string{"-user", "alice", "-Xy3_abcdefghijk"}, "alice", false, []string{"-Xy3_abcdefghijk"}},
		{[]string{"-user", "-Xy3_abcdefghijk"}, "-Xy3_abcdefghijk", false, nil},
		{[]string{"-json", "--", "-x"}, "", true, []string{"-x"}},
	} {
		var cfg config
		operands, err := parseCommand(newFlagSet("show", &cfg), c.args)
		if err != nil || cfg.user != c.user || cfg.json != c.json || !slices.Equal(operands, c.operands) {
			t.Errorf("%q: user %q, json %v, operands %q, %v", c.args, cfg.user, cfg.json, operands, err)
		}
	}
	var cfg config
	if _, err := parseCommand(newFlagSet("show", &cfg), []string{"-h"}); err != flag.ErrHelp {
		t.Errorf("-h: %v", err)
	}
}

// -hash-keys: every session is listed, with a handle only where a user's
// index gives it.
func TestHashKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filesystemFixture(t, dir)
	f.m.HashKeys = true
	f.args = append(f.args, "-hash-keys")
	f.seed(t)
	if got := owners(t, f.ok(t, "list").stdout); got[f.alice] != 2 || got["-"] != 1 {
		t.Errorf("list -hash-keys: %v", got)
	}
	r := f.run(t, "show", f.handles[f.alice][0])
	if r.code != 1 || !strings.Contains(r.stderr, "add -user") {
		t.Errorf("show HANDLE -hash-keys without -user: exit %d, %q", r.code, r.stderr)
	}
	r = f.ok(t, "show", f.handles[f.alice][0], "-user", f.alice)
	if got := shown(t, r.stdout); got["name"][1] != `"Alice"` {
		t.Errorf("show -hash-keys -user: %v", got)
	}
	f.wantNoIDs(t)
}

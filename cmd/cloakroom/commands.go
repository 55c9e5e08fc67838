package main

import (
	"context"
	"slices"
)

// command is one of the CLI's commands.
type command struct {
	name    string
	usage   string // its operands and flags, after its name
	summary string
	user    bool // takes -user
	run     func(ctx context.Context, e *env, operands []string) error
}

// commands returns the commands in the order the usage lists them.
func commands() []command {
	return []command{
		{"list", "[-user NAME]", "one line per live session: handle, owner, size, expiry", true, runList},
		{"show", "HANDLE [-user NAME]", "one session's data: every key, its type and its value", true, runShow},
		{"revoke", "-user NAME | HANDLE [-user NAME]", "end every session of a user, or one session", true, runRevoke},
		{"purge", "", "remove expired sessions, where the backend does not itself", false, runPurge},
		{"stats", "[-user NAME]", "counts, top owners, size percentiles", true, runStats},
	}
}

func lookup(name string) (command, bool) {
	cmds := commands()
	i := slices.IndexFunc(cmds, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return cmds[i], true
}

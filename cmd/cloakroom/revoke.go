package main

import (
	"context"
)

// runRevoke ends sessions as the application's Revoke does: their next
// request gets a new session whose Reason is Revoked. With -user alone it
// ends every session of the user that their index lists (RevokeAll); with
// a HANDLE, that one session, found by a scan (of the user's index with
// -user), whether or not it can be decoded.
func runRevoke(ctx context.Context, e *env, operands []string) error {
	var n int
	switch {
	case len(operands) > 1:
		return usagef("revoke takes one HANDLE at most, got %d", len(operands))
	case len(operands) == 1:
		f, err := e.find(ctx, operands[0])
		if err != nil {
			return err
		}
		if err := e.m.End(ctx, f.Stored); err != nil {
			return err
		}
		n = 1
	case e.cfg.user != "":
		var err error
		if n, err = e.m.RevokeAll(ctx, e.cfg.user, ""); err != nil {
			return err
		}
	default:
		return usagef("revoke needs -user NAME (every session of the user) or a HANDLE (one session)")
	}
	if e.cfg.json {
		return e.outJSON(struct {
			Revoked int `json:"revoked"`
		}{n})
	}
	return e.out("revoked %d %s\n", n, plural(n, "session", "sessions"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

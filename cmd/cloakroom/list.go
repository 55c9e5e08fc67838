package main

import (
	"context"

	"github.com/cloakroom/cloakroom/core"
)

// runList prints one line per live session: handle, owner, size in bytes
// and expiry, "-" for what a session has not; with -json, one object per
// line.
func runList(ctx context.Context, e *env, operands []string) error {
	if len(operands) > 0 {
		return usagef("list takes no operands, got %q", operands)
	}
	err := e.scan(ctx, func(st core.Stored, err error) error {
		if err != nil {
			e.skip(st, err)
			return nil
		}
		if e.cfg.json {
			return e.outJSON(summarize(st))
		}
		return e.out("%-16s  %-20s  %7d  %s\n", orDash(st.Handle), orDash(st.Owner), st.Size, expires(st))
	})
	if err != nil {
		return err
	}
	return e.skippedErr()
}

package main

import (
	"context"
)

// purger is a backend that removes expired sessions only when asked, or
// on a timer of its own (SQL, filesystem, MongoDB without its TTL index).
type purger interface {
	Purge(ctx context.Context) (int, error)
}

// runPurge removes the expired sessions of a backend that keeps them until
// they are purged, every key of the store whatever its prefix; Redis and
// memcached drop them themselves.
func runPurge(ctx context.Context, e *env, operands []string) error {
	if len(operands) > 0 {
		return usagef("purge takes no operands, got %q", operands)
	}
	if e.cfg.user != "" {
		return usagef("purge removes every expired session: it takes no -user")
	}
	p, ok := e.backend.(purger)
	if !ok {
		if e.cfg.json {
			return e.outJSON(struct {
				Purged        int  `json:"purged"`
				ServerExpires bool `json:"server_expires"`
			}{0, true})
		}
		return e.out("%s expires keys itself: nothing to purge\n", e.cfg.backend)
	}
	n, err := p.Purge(ctx)
	if err != nil {
		return err
	}
	if e.cfg.json {
		return e.outJSON(struct {
			Purged int `json:"purged"`
		}{n})
	}
	return e.out("purged %d expired %s\n", n, plural(n, "session", "sessions"))
}

package core

import "time"

// SetClock replaces the Manager's clock, for tests of expiry.
func SetClock(m *Manager, now func() time.Time) { m.clock = now }

// WaitingSaves returns the number of saves of the session id that wait for
// their turn in this process.
func WaitingSaves(m *Manager, id string) int { return m.turns.Waiting(id) }

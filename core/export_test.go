package core

import "time"

// SetClock replaces the Manager's clock, for tests of expiry.
func SetClock(m *Manager, now func() time.Time) { m.clock = now }

// SetTurnPatience sets how long a save waits for a turn that does not
// move, for tests that hold one on purpose.
func SetTurnPatience(m *Manager, d time.Duration) { m.patience = d }

// WaitingSaves returns the number of saves of the session id that wait for
// their turn in this process.
func WaitingSaves(m *Manager, id string) int { return m.turns.Waiting(id) }

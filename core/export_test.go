package core

import "time"

// SetClock replaces the Manager's clock, for tests of expiry.
func SetClock(m *Manager, now func() time.Time) { m.clock = now }

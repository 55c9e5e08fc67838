package core

import "github.com/cloakroom/cloakroom/core/codec"

// Flash is a one-time message for the next page the user sees, such as
// "Saved!" after a form post.
type Flash struct {
	Category string
	Message  string
}

// keyFlashes is where Flask keeps flash messages: a list of
// (category, message) tuples.
const keyFlashes = "_flashes"

// Flashes removes and returns the pending messages, oldest first, as
// Flask's get_flashed_messages(with_categories=True) does. Entries that are
// not (category, message) pairs of strings are skipped.
func (s *Session) Flashes() []Flash {
	s.mu.Lock()
	list, _ := s.vals.get(keyFlashes).([]any)
	if len(list) == 0 {
		s.mu.Unlock()
		return nil
	}
	s.unlockChanged(op{kind: opTake, key: keyFlashes, value: list})
	flashes := make([]Flash, 0, len(list))
	for _, item := range list {
		pair, _ := item.(codec.Tuple)
		if len(pair) != 2 {
			continue
		}
		c, ok1 := pair[0].(string)
		m, ok2 := pair[1].(string)
		if ok1 && ok2 {
			flashes = append(flashes, Flash{Category: c, Message: m})
		}
	}
	return flashes
}

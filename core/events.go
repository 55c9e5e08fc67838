package core

import "context"

// EventKind says what happened to a session.
type EventKind int

// The lifecycle events a Manager reports to OnEvent.
const (
	EventCreated     EventKind = iota + 1 // a new session was stored for the first time
	EventLoaded                           // a stored session was read for a request
	EventSaved                            // a session's data was written
	EventRegenerated                      // a session moved to a new id (a login)
	EventDestroyed                        // a session was deleted (logout, Clear)
	EventRevoked                          // a session was ended by Revoke, RevokeAll or MaxSessionsPerUser
	EventExpired                          // a request brought a token of a session that is gone
	EventConflict                         // a save found the session changed and is retried
	EventInterrupted                      // a save found the session deleted and wrote nothing
	EventTouched                          // an idle session's expiry was extended without a write
)

var eventNames = [...]string{"", "created", "loaded", "saved", "regenerated", "destroyed", "revoked", "expired", "conflict", "interrupted", "touched"}

// String returns the event's name, such as "created".
func (k EventKind) String() string {
	if k <= 0 || int(k) >= len(eventNames) {
		return "unknown"
	}
	return eventNames[k]
}

// Event is one step in a session's life, as OnEvent receives it. It names
// the session by its Handle and its owner, never by its id.
type Event struct {
	Kind   EventKind
	Handle string // the session's handle, "" for a session that has none yet
	Owner  string // the session's owner, "" when it has none
}

// emit hands e to OnEvent, if set.
func (m *Manager) emit(ctx context.Context, e Event) {
	if m.OnEvent != nil {
		m.OnEvent(ctx, e)
	}
}

// emitFor reports kind for s; the caller holds s.mu. Nothing is computed
// when no OnEvent is set, so that events cost nothing unless observed.
func (m *Manager) emitFor(ctx context.Context, kind EventKind, s *Session) {
	if m.OnEvent != nil {
		m.OnEvent(ctx, Event{Kind: kind, Handle: handleOf(s.id), Owner: s.owner()})
	}
}

// emitDestroyed reports that the stored session id of s was deleted, with
// the owner it had; the caller holds s.mu.
func (m *Manager) emitDestroyed(ctx context.Context, s *Session, id string) {
	if m.OnEvent != nil {
		m.OnEvent(ctx, Event{Kind: EventDestroyed, Handle: handleOf(id), Owner: s.listedOwner()})
	}
}

// Step names what a Manager is doing when it calls Observe.
type Step int

// The steps a Manager reports to Observe.
const (
	StepLoad   Step = iota + 1 // reading a session for a request, or for Load
	StepSave                   // a commit or Save: a write, a deletion, a touch, or nothing
	StepList                   // Sessions: reading a user's index
	StepRevoke                 // Revoke or RevokeAll
)

var stepNames = [...]string{"", "load", "save", "list", "revoke"}

// String returns the step's name, such as "load".
func (s Step) String() string {
	if s <= 0 || int(s) >= len(stepNames) {
		return "unknown"
	}
	return stepNames[s]
}

// observe starts step under Observe, if set: it returns the context for
// the step's calls and events, and the function that ends it.
func (m *Manager) observe(ctx context.Context, step Step) (context.Context, func(error)) {
	if m.Observe == nil {
		return ctx, unobserved
	}
	return m.Observe(ctx, step)
}

// unobserved ends a step that no Observe watches.
func unobserved(error) {}

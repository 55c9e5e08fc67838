// Package memcached keeps cloakroom sessions in one or more memcached
// servers through github.com/bradfitz/gomemcache.
//
// Use it when sessions should outlive a process and be shared by several
// instances of an application, and losing a session to memcached's eviction
// or a server restart is acceptable (the user logs in again). With several
// servers, each key lives on exactly one of them, chosen by gomemcache's
// server selector (a CRC-32 of the key modulo the number of servers): adding
// or removing a server moves most keys, which then read as absent.
//
// # Expiry
//
// memcached expires keys itself. A ttl is sent in whole seconds, rounded up
// so that a sub-second ttl never becomes 0 (which memcached reads as "never
// expire"), plus one second: memcached's clock ticks once a second, so an
// expiration of n seconds lasts between n-1 and n seconds. A key therefore
// lives at least its ttl and at most a second longer. A ttl beyond 30 days is
// sent as an absolute Unix time (memcached's rule), computed from this
// machine's clock, so clocks must roughly agree. A ttl of zero or less stores
// the key without expiry; it may still be evicted when the server runs out
// of memory.
//
// # Limits
//
// Keys must be 1 to 250 bytes without spaces or control characters; other
// keys fail with an error wrapping ErrInvalidKey before any network I/O.
// Values larger than the server's item size limit (about 1 MiB by default,
// memcached's -I flag) fail with an error wrapping ErrValueTooLarge.
//
// Store implements core.Backend and core.Toucher (memcached's touch
// command). It does not implement core.Lister: memcached cannot enumerate
// its keys.
//
// # Contexts
//
// gomemcache takes no context. A Store returns the context's error without
// I/O when the context has already ended. Otherwise every call is bounded by
// the client's Timeout (once to connect, once for the exchange); when the
// context's deadline comes sooner than that bound, the call runs on its own
// goroutine and the Store returns as soon as the context ends. The abandoned
// call then finishes in the background within the client's Timeout, so a Set
// or Delete reported as failed with a context error may still have reached
// the server. A context that is canceled without a deadline is checked
// before the call only.
package memcached

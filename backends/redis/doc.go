// Package redis stores cloakroom sessions in Redis through go-redis v9.
//
// A Store wraps any goredis.UniversalClient, so one code path serves a single
// server, a Sentinel-managed master (goredis.NewFailoverClient) and a Redis
// Cluster (goredis.NewClusterClient). Each read is one GET and each write one
// SET, with the expiry carried by the SET itself (PX in milliseconds, or EX
// when the lifetime is a whole number of seconds), so Redis expires sessions
// on its own and no sweeper runs in the application. Values are stored as
// they are given, which keeps the keys readable by other programs sharing the
// server, such as a Quart-Session application using the same key prefix and
// serialisation.
//
// Store implements core.Backend, core.Toucher (PEXPIRE) and core.Lister
// (SCAN on every master).
package redis

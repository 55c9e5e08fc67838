// Package mongodb keeps cloakroom sessions in a MongoDB collection, one
// document per key:
//
//	{_id: <key>, data: <binary value>, expires_at: <date, absent for no expiry>}
//
// Use it when several application instances must share sessions and
// MongoDB is already part of the deployment. The store creates a TTL index on
// expires_at so that MongoDB deletes expired documents itself; because the
// server's TTL monitor runs only about once a minute, every read and every
// conditional write also treats a document whose expires_at has passed as
// absent, so an expired session is never returned or brought back. Servers that speak the MongoDB
// protocol but cannot build TTL indexes (FerretDB 1.x, for one) get a plain
// index instead and a background clean-up run by the store every
// Options.CleanupInterval; Purge runs one on demand.
//
// Besides core.Backend the Store implements core.Toucher, core.Lister,
// core.Expirer (one find of expires_at) and core.Conditional. A
// conditional write is one filtered write: UpdateOne or DeleteOne on {_id,
// data: <the bytes read>, live}, or InsertOne for a create. The version
// is the stored value itself, so a blind write by a peer that shares the
// collection is detected as well. Only a write that matched nothing costs
// a second command, which tells core.ErrConflict from core.ErrNotFound.
//
// FerretDB 1.x does not apply a filtered write atomically (it reads the
// document, then writes the whole of it back by _id), so on it every write
// of a key (Set, SetIf, Delete, DeleteIf, Touch, and Purge's deletes)
// holds the key's lease, a document of the collection named after the
// store's with "_leases" appended: inserted before the write, deleted
// after it, and exclusive across processes through the unique _id, which
// FerretDB does enforce atomically. Conditional writes are then safe
// between application instances too. Writers of one Store take turns in
// memory before asking for the lease. A lease costs a write two more
// round trips; a process that dies holding one blocks that key's writes
// for up to 5 seconds, after which another process takes the lease over.
// The guarantee rests on time: it fails if a command under a lease reaches
// the server, or is carried out, more than 2 seconds late, or if the
// clocks of application hosts differ by as much (see the README's
// "FerretDB 1.x"). New detects FerretDB with one buildInfo and logs a
// warning; on MongoDB no lease is taken and the lease collection is never
// created.
//
// New wraps a *mongo.Collection the application already has and leaves its
// client connected on Close; Open connects from a URI, pings the server and
// owns the client it creates.
//
// A server that stops answering fails each call within Options.Timeout:
// Open gives its client an operation timeout of 1.5 s (DefaultTimeout) and
// a connect timeout of 5 s unless the URI sets them, and bounds each call
// of the Store as a whole by the same 1.5 s. A client given to New keeps
// its own settings; see the README's "Timeouts".
package mongodb

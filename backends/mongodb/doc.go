// Package mongodb keeps cloakroom sessions in a MongoDB collection, one
// document per key:
//
//	{_id: <key>, data: <binary value>, expires_at: <date, absent for no expiry>}
//
// Use it when several application instances must share sessions and
// MongoDB is already part of the deployment. The store creates a TTL index on
// expires_at so that MongoDB deletes expired documents itself; because the
// server's TTL monitor runs only about once a minute, every read also
// filters out documents whose expires_at has passed, so an expired session
// is never returned. Servers that speak the MongoDB protocol but cannot
// build TTL indexes (FerretDB 1.x, for one) get a plain index instead and a
// background sweep run by the store.
//
// New wraps a *mongo.Collection the application already has; Open connects
// from a URI and owns the client it creates.
package mongodb

package sqlstore

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// countedStore returns a Store of target tg on a scratch table, connected
// through a backendtest.Proxy, which counts what is sent.
func countedStore(t testing.TB, tg target, base Table) (*Store, *backendtest.Proxy) {
	t.Helper()
	_ = testDB(t, tg.dialect) // skips when the server is unreachable; creates the database
	var addr, dsn string
	if tg.dialect == Postgres {
		addr = sqltest.PostgresAddr(t)
	} else {
		addr = sqltest.MySQLAddr(t)
	}
	p := backendtest.StartProxy(t, addr)
	if tg.dialect == Postgres {
		dsn = sqltest.PostgresVia(t, p.Addr)
	} else {
		dsn = sqltest.MySQLVia(t, p.Addr) + tg.params
	}
	db := openDB(t, tg.dialect, dsn)
	db.SetMaxOpenConns(1) // no connection opened mid-measure
	s := storeOn(t, db, tg.dialect, Options{Table: scratchTable(t, tg.dialect, base), CleanupInterval: -1})
	return s, p
}

// TestConditionalSendsValueOnce measures, through a counting proxy, what a
// conditional write of a 64 KiB value sends to the server: the new value
// once and a digest of the old one, not the old value again.
func TestConditionalSendsValueOnce(t *testing.T) {
	for _, tg := range targets {
		if tg.dialect == SQLite { // a local file: it compares the value itself
			continue
		}
		for _, l := range layouts {
			t.Run(tg.name+"/"+l.name, func(t *testing.T) {
				t.Parallel()
				s, p := countedStore(t, tg, l.table)
				ctx := context.Background()
				v1 := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
				v2 := bytes.ToUpper(v1)
				mustSet(t, s, "k", v1, time.Hour)
				old := version(t, s, "k")
				p.Sent()
				wantIs(t, "SetIf", s.SetIf(ctx, "k", old, v2, time.Hour), nil)
				sent := p.Sent()
				t.Logf("SetIf of %d bytes sent %d bytes", len(v2), sent)
				if sent < int64(len(v2)) || sent >= int64(len(v2))*5/4 {
					t.Errorf("SetIf of %d bytes sent %d bytes, want at least the value and under 1.25 times it", len(v2), sent)
				}
				old = version(t, s, "k")
				p.Sent()
				wantIs(t, "DeleteIf", s.DeleteIf(ctx, "k", old), nil)
				sent = p.Sent()
				t.Logf("DeleteIf sent %d bytes", sent)
				if sent >= int64(len(v2))/4 {
					t.Errorf("DeleteIf of a %d-byte value sent %d bytes, want under a quarter of it", len(v2), sent)
				}
			})
		}
	}
}

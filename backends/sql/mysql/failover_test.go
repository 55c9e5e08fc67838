package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"os"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
)

// TestConnectionsKilled runs read and increment requests through a Manager
// over a Store made by Open while an admin connection kills every
// connection of the Store's pool with KILL, three times
// (sqltest.CheckKilledConnections): the pool must recover by itself and no
// acknowledged increment may be lost. The Store works in a database of its
// own, created and dropped by the test, so that the processlist tells its
// connections apart and only they are killed on the shared server. It
// prints errors, outage and losses.
func TestConnectionsKilled(t *testing.T) {
	dsn := sqltest.MySQLDSN(t)
	// The driver logs each killed connection it finds ("unexpected EOF"):
	// expected here, and counted as the requests' errors.
	if err := gomysql.SetLogger(log.New(io.Discard, "", 0)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gomysql.SetLogger(log.New(os.Stderr, "[mysql] ", log.Ldate|log.Ltime|log.Lshortfile)) })
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	db := "cloakroom_killed_" + hex.EncodeToString(b)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+db+"` CHARACTER SET utf8mb4"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+db+"`") })

	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = db
	s, err := Open(ctx, cfg.FormatDSN(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}

	k := sqltest.CheckKilledConnections(t, s, func(ctx context.Context) (int, error) {
		rows, err := admin.QueryContext(ctx,
			"SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", db)
		if err != nil {
			return 0, err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				_ = rows.Close()
				return 0, err
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return 0, err
		}
		for _, id := range ids {
			// KILL takes no placeholder; id is a number the server gave.
			if _, err := admin.ExecContext(ctx, fmt.Sprint("KILL ", id)); err != nil {
				return 0, fmt.Errorf("KILL %d: %w", id, err)
			}
		}
		return len(ids), nil
	})
	t.Logf("MariaDB, pool connections killed 3 times under load: %s", k)
	for _, e := range k.Samples {
		t.Logf("a failed request: %s", e)
	}
}

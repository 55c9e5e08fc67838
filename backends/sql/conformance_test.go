package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/backends/sql/mysql"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
	"github.com/cloakroom/cloakroom/backends/sql/sqlite"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// opener opens a Store the way an application does, with a sub-package.
type opener struct {
	name string
	open func(t *testing.T, opts sqlstore.Options) (*sqlstore.Store, error)
}

var openers = []opener{
	{"postgres", func(t *testing.T, opts sqlstore.Options) (*sqlstore.Store, error) {
		return postgres.Open(context.Background(), sqltest.PostgresDSN(t), opts)
	}},
	{"mysql", func(t *testing.T, opts sqlstore.Options) (*sqlstore.Store, error) {
		return mysql.Open(context.Background(), sqltest.MySQLDSN(t), opts)
	}},
	{"sqlite", func(t *testing.T, opts sqlstore.Options) (*sqlstore.Store, error) {
		return sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sessions.db"), opts)
	}},
}

// TestConformance runs the backend conformance kit, core.Conditional
// included, on every dialect, on cloakroom's table and on Django's layout,
// with Stores opened by the sub-packages.
func TestConformance(t *testing.T) {
	// The kit's keys are longer than Django's 40 characters: its Django
	// run uses the same layout with a wider key column (TestDjangoTable
	// covers the real one).
	django := sqlstore.DjangoTable
	django.Name, django.KeyLength = "django_session_wide", 255
	layouts := []struct {
		name  string
		table sqlstore.Table
	}{{"default", sqlstore.Table{}}, {"django", django}}
	for _, o := range openers {
		for _, l := range layouts {
			t.Run(o.name+"/"+l.name, func(t *testing.T) {
				t.Parallel()
				s, err := o.open(t, sqlstore.Options{Table: l.table})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				if err := s.CreateTable(context.Background()); err != nil {
					t.Fatal(err)
				}
				backendtest.Run(t, s)
			})
		}
	}
}

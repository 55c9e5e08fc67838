package sqlstore

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The drivers the sub-packages bring, by module path.
const (
	pgxModule    = "github.com/jackc/pgx/v5"
	mysqlModule  = "github.com/go-sql-driver/mysql"
	sqliteModule = "modernc.org/sqlite"
)

// TestDriversLinkedOnlyWhereUsed keeps a program that opens one database
// from linking the other drivers (modernc.org/sqlite alone adds megabytes):
// each sub-package depends on its own driver only, and this package on
// none.
func TestDriversLinkedOnlyWhereUsed(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to list dependencies: %v", err)
	}
	drivers := []string{pgxModule, mysqlModule, sqliteModule}
	for pkg, own := range map[string]string{
		".":          "",
		"./postgres": pgxModule,
		"./mysql":    mysqlModule,
		"./sqlite":   sqliteModule,
	} {
		t.Run(pkg, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(goTool, "list", "-deps", pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", pkg, err)
			}
			deps := strings.Fields(string(out))
			for _, driver := range drivers {
				linked := slices.ContainsFunc(deps, func(dep string) bool {
					return dep == driver || strings.HasPrefix(dep, driver+"/")
				})
				if want := driver == own; linked != want {
					t.Errorf("%s depends on %s: %v, want %v", pkg, driver, linked, want)
				}
			}
		})
	}
}

package stores

import (
	"context"

	gomysql "github.com/go-sql-driver/mysql"
	goredis "github.com/redis/go-redis/v9"
)

// QuietDrivers stops the drivers that log on their own from writing to
// the process's stderr: go-redis logs every failed dial there, the MySQL
// driver broken connections. A command line tool reports the error Open
// or the command returns, once, on one line. It changes process-wide
// settings that the drivers read without synchronization: call it once,
// from main, before anything is opened.
func QuietDrivers() {
	goredis.SetLogger(silent{})
	_ = gomysql.SetLogger(&gomysql.NopLogger{})
}

type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}

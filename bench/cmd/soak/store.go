package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// sessionPrefix starts the backend key of every session the demo stores
// (core.Manager's default KeyPrefix); the demo's other keys, its users'
// indexes ("cloakroom:owner:..."), are not sessions.
const sessionPrefix = "session:"

// errNotCounted says the store cannot be counted from outside the demo.
var errNotCounted = errors.New("not countable from outside the demo")

// store is where the demo keeps its sessions during one run, set apart from
// every other user of the server so that runs do not collide, and counted
// directly rather than through the demo.
type store interface {
	dsn() string                        // the demo's -dsn; "" for memory
	count(context.Context) (int, error) // live sessions stored
	close()                             // removes what the run stored
}

func openStore(ctx context.Context, backend, dsn string) (store, error) {
	switch backend {
	case "redis":
		return openRedis(ctx, dsn)
	case "postgres":
		return openPostgres(ctx, dsn)
	}
	return &memoryStore{}, nil
}

// memoryStore is the demo's memory backend, which lives in its process:
// the demo counts it, in its /metrics, once it runs.
type memoryStore struct{ demo *demo }

func (*memoryStore) dsn() string { return "" }
func (*memoryStore) close()      {}

func (m *memoryStore) count(ctx context.Context) (int, error) {
	if m.demo == nil {
		return 0, errNotCounted
	}
	n, err := m.demo.metric(ctx, "cloakroom_demo_sessions")
	return int(n), err
}

// redisStore is one Redis logical database that the run has to itself.
type redisStore struct {
	client *goredis.Client
	url    string
}

// claimKey marks a Redis database as taken by a soak run. It outlives a
// run that crashed for a day, so that the next runs leave its keys alone.
const claimKey = "cloakroom-soak:claimed"

// openRedis claims the first empty database of the server at dsn, from 14
// down to 8: 0 is where everything else goes, and examples/interop's
// Quart tests use 15.
func openRedis(ctx context.Context, dsn string) (store, error) {
	if dsn == "" {
		dsn = "redis://127.0.0.1:6379"
	}
	opts, err := goredis.ParseURL(dsn)
	if err != nil {
		return nil, fmt.Errorf("-dsn: %w", err)
	}
	for db := 14; db >= 8; db-- {
		o := *opts
		o.DB = db
		c := goredis.NewClient(&o)
		ok, err := claim(ctx, c)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("redis: %w", err)
		}
		if ok {
			u, _ := url.Parse(dsn)
			u.Path = "/" + strconv.Itoa(db)
			return &redisStore{client: c, url: u.String()}, nil
		}
		c.Close()
	}
	return nil, errors.New("redis: no empty database among 8 to 14")
}

// claim takes c's database if it holds nothing but the claim just set.
// SETNX first: of two runs that find one database empty, one gets it.
func claim(ctx context.Context, c *goredis.Client) (bool, error) {
	ok, err := c.SetNX(ctx, claimKey, "1", 24*time.Hour).Result()
	if err != nil || !ok {
		return false, err
	}
	n, err := c.DBSize(ctx).Result()
	if err != nil || n == 1 {
		return err == nil, err
	}
	return false, c.Del(ctx, claimKey).Err()
}

func (s *redisStore) dsn() string { return s.url }

// count scans the database for session keys. Redis expires keys by
// itself, so every key it shows is live.
func (s *redisStore) count(ctx context.Context) (int, error) {
	n := 0
	iter := s.client.Scan(ctx, 0, sessionPrefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	return n, iter.Err()
}

// close deletes the demo's keys (its sessions and its users' indexes) and
// the claim. Not FLUSHDB: whatever else a program wrote there meanwhile
// is not the run's to delete.
func (s *redisStore) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, pattern := range []string{sessionPrefix + "*", "cloakroom:owner:*"} {
		iter := s.client.Scan(ctx, 0, pattern, 1000).Iterator()
		var batch []string
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 1000 {
				s.client.Unlink(ctx, batch...)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			s.client.Unlink(ctx, batch...)
		}
	}
	s.client.Del(ctx, claimKey)
	_ = s.client.Close()
}

// pgStore is a PostgreSQL database created for the run.
type pgStore struct {
	admin *pgx.Conn // to the server's database named by -dsn
	conn  *pgx.Conn // to the run's, once the demo has made its table
	name  string
	url   string
}

func openPostgres(ctx context.Context, dsn string) (store, error) {
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return nil, errors.New("-dsn: want a postgres:// URL")
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// rand.Text is base32: lowercased, a valid unquoted identifier.
	name := "cloakroom_soak_" + strings.ToLower(rand.Text()[:10])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(context.Background())
		return nil, fmt.Errorf("postgres: %w", err)
	}
	u.Path = "/" + name
	return &pgStore{admin: admin, name: name, url: u.String()}, nil
}

func (s *pgStore) dsn() string { return s.url }

// count counts the rows of sessions not yet expired in the demo's table
// (backends/sql's DefaultTable). Expired rows stay until purged.
func (s *pgStore) count(ctx context.Context) (int, error) {
	if s.conn == nil {
		c, err := pgx.Connect(ctx, s.url)
		if err != nil {
			return 0, err
		}
		s.conn = c
	}
	var n int
	err := s.conn.QueryRow(ctx, `SELECT count(*) FROM cloakroom_sessions
		WHERE id LIKE $1 AND (expires_at IS NULL OR expires_at > now())`, sessionPrefix+"%").Scan(&n)
	return n, err
}

// close drops the run's database; the demo has stopped by then, and FORCE
// ends any connection it left.
func (s *pgStore) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.conn != nil {
		_ = s.conn.Close(ctx)
	}
	_, _ = s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+s.name+" WITH (FORCE)")
	_ = s.admin.Close(ctx)
}

package stores

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ dsn, password string }{
		{"postgres://app:pw%2Fsecret@db:5432/app", "pw/secret"},
		{"postgres://app:pw%2Fsecret@db:5432/app", "pw%2Fsecret"},
		{"redis://:hunter22@127.0.0.1:6379/0", "hunter22"},
		{"redis+sentinel://s:sentinelpw@h1,h2/0?master_name=m&password=masterpw", "masterpw"},
		{"redis+sentinel://s:sentinelpw@h1,h2/0?master_name=m&password=masterpw", "sentinelpw"},
		{"mongodb://u:p@ss@h/db", "p@ss"},
		{"user:my:pw@tcp(127.0.0.1:3306)/db?parseTime=true", "my:pw"},
		{"mysql://root:rootpw@127.0.0.1/test", "rootpw"},
		{"host=db user=app password='it''s' dbname=x", "'it''s'"},
		{"host=db password=plainpw dbname=x", "plainpw"},
	} {
		msg := "cannot connect to " + c.dsn + " with " + c.password
		if got := Redact(msg, c.dsn); strings.Contains(got, c.password) {
			t.Errorf("Redact(%q) = %q: shows %q", c.dsn, got, c.password)
		}
	}
	if got := Redact("failed", "postgres://app@db/app"); got != "failed" {
		t.Errorf("Redact without a password: %q", got)
	}
}

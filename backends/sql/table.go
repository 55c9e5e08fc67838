package sqlstore

import (
	"fmt"
	"time"
)

// Table describes where a Store keeps its rows, so that the same Store can
// serve its own table or one that another program owns (DjangoTable). Empty
// names take DefaultTable's.
type Table struct {
	// Name is the table's name.
	Name string
	// KeyColumn holds the key; it must be the primary key (or unique).
	KeyColumn string
	// DataColumn holds the value.
	DataColumn string
	// ExpiryColumn holds the absolute expiry time in UTC.
	ExpiryColumn string
	// TextData says the data column is text rather than bytes, as Django's
	// session_data is. Values that are valid UTF-8 without NUL bytes (all
	// that Django writes) are stored as they are; other values are stored
	// as "cloakroom:base64:" followed by their standard base64 encoding, and
	// decoded back on read.
	TextData bool
	// ExpiryRequired says the expiry column is NOT NULL, as Django's
	// expire_date is: a key without expiry is stored with the expiry
	// 9999-12-31 00:00:00 UTC instead of NULL.
	ExpiryRequired bool
	// KeyLength is the key column's declared length in CreateTable; zero
	// means 255. It does not limit the keys a Store accepts: the database
	// refuses longer ones.
	KeyLength int
}

// DefaultTable is cloakroom's own layout, used when Options.Table is empty:
// cloakroom_sessions(id varchar(255) primary key, data bytea/longblob/blob,
// expires_at timestamptz/datetime(6)/datetime null, indexed).
var DefaultTable = Table{
	Name:         "cloakroom_sessions",
	KeyColumn:    "id",
	DataColumn:   "data",
	ExpiryColumn: "expires_at",
	KeyLength:    255,
}

// DjangoTable is Django's django.contrib.sessions table: a Store on it
// shares sessions with a Django application on the same database (the
// values must then be in Django's session_data format). Keys without expiry
// get 9999-12-31 since expire_date is NOT NULL.
var DjangoTable = Table{
	Name:           "django_session",
	KeyColumn:      "session_key",
	DataColumn:     "session_data",
	ExpiryColumn:   "expire_date",
	TextData:       true,
	ExpiryRequired: true,
	KeyLength:      40,
}

// farFuture stands for "no expiry" in tables whose expiry is NOT NULL.
var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// withDefaults fills t's empty fields from DefaultTable and checks every
// identifier.
func (t Table) withDefaults() (Table, error) {
	fill := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	fill(&t.Name, DefaultTable.Name)
	fill(&t.KeyColumn, DefaultTable.KeyColumn)
	fill(&t.DataColumn, DefaultTable.DataColumn)
	fill(&t.ExpiryColumn, DefaultTable.ExpiryColumn)
	if t.KeyLength <= 0 {
		t.KeyLength = DefaultTable.KeyLength
	}
	for _, id := range []string{t.Name, t.KeyColumn, t.DataColumn, t.ExpiryColumn} {
		if !validIdent(id) {
			return t, fmt.Errorf("sqlstore: invalid identifier %q: use 1 to 63 letters, digits and underscores, not starting with a digit", id)
		}
	}
	return t, nil
}

// validIdent accepts ASCII letters, digits and underscores, not starting with
// a digit, at most 63 characters (PostgreSQL's limit), so that quoting is
// enough to make an identifier safe in every dialect.
func validIdent(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

package stores

import (
	"net/url"
	"regexp"
	"strings"
)

// Redact returns msg with every password that dsn holds replaced by
// "xxxxx": the user information of a URL (postgres://u:pw@h, redis://:pw@h,
// mongodb://u:pw@h, mysql://u:pw@h), a password query parameter (Redis
// Sentinel's master password, PostgreSQL's), a keyword/value DSN's
// password=... and the driver form of MySQL, u:pw@tcp(h). The backends'
// own errors already leave passwords out; this is for whatever a driver
// says that they do not control.
func Redact(msg, dsn string) string {
	for _, pw := range Passwords(dsn) {
		if len(pw) >= 3 { // shorter ones would mangle the message, not hide much
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

// keywordPassword finds password=... in a keyword/value DSN ("host=h
// password='p w'") or a query string.
var keywordPassword = regexp.MustCompile(`(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)`)

// mysqlUserinfo finds the user information of the MySQL driver's DSN form,
// user:password@protocol(address)/db: everything before the last @ that
// precedes the database's slash.
var mysqlUserinfo = regexp.MustCompile(`^[^:/@]*:(.*)@[a-z0-9]*\(`)

// Passwords returns the passwords dsn holds, as written and, where it
// differs, unescaped, so that either form can be found in a message.
func Passwords(dsn string) []string {
	var found []string
	add := func(pw string) {
		if pw == "" {
			return
		}
		found = append(found, pw)
		if u, err := url.QueryUnescape(pw); err == nil && u != pw {
			found = append(found, u)
		}
		if u, err := url.PathUnescape(pw); err == nil && u != pw {
			found = append(found, u)
		}
	}
	if m := mysqlUserinfo.FindStringSubmatch(dsn); m != nil {
		add(m[1])
	} else if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if end := strings.IndexAny(rest, "?#"); end >= 0 {
			rest = rest[:end]
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				add(pw)
			}
		}
	}
	for _, m := range keywordPassword.FindAllStringSubmatch(dsn, -1) {
		pw := m[1]
		if len(pw) >= 2 && pw[0] == '\'' {
			add(pw)
			pw = strings.ReplaceAll(pw[1:len(pw)-1], `\'`, `'`)
		}
		add(pw)
	}
	return found
}

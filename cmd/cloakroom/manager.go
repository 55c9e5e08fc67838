package main

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

// newManager returns a Manager laid out as the deployment's: the preset,
// then the codec, key prefix and key hashing it changed. It reads and ends
// sessions; it serves no request. Its Backend is for the caller to set
// (and then to Validate the Manager), so that a wrong command line is
// reported before anything is opened.
func newManager(c config, getenv func(string) string) (*core.Manager, error) {
	var m *core.Manager
	switch {
	case c.backend == "django":
		if c.preset != "none" && c.preset != "django" {
			return nil, usagef("-backend django implies Django's layout: drop -preset %s", c.preset)
		}
		if c.codec != "" {
			return nil, usagef("-backend django implies Django's signed JSON: drop -codec %s", c.codec)
		}
		secrets := secretList(c.secret)
		if len(secrets) == 0 {
			secrets = secretList(getenv(envSecret))
		}
		if len(secrets) == 0 {
			return nil, usagef("-backend django needs the project's SECRET_KEY to read its sessions: -secret, or $%s", envSecret)
		}
		var err error
		if m, err = core.NewDjangoManager(nil, secrets...); err != nil {
			return nil, errors.New("-secret: " + scrub(err.Error(), secrets))
		}
		// Its length matters to a peer's cookies, not to reading the
		// store: a Django project's key is what it is.
		m.AllowWeakSecret = true
	case c.preset == "none":
		m = core.NewManager(nil)
	case c.preset == "quart":
		m = core.NewQuartManager(nil)
	default:
		return nil, usagef("unknown -preset %q: none or quart", c.preset)
	}
	switch c.codec {
	case "":
	case "tagged":
		m.Codec = codec.TaggedJSON{}
	case "json":
		m.Codec = codec.JSON{}
	case "gob":
		m.Codec = codec.Gob{}
	default:
		return nil, usagef("unknown -codec %q: tagged, json or gob", c.codec)
	}
	if c.prefixSet {
		m.KeyPrefix = c.prefix
	}
	m.HashKeys = c.hashKeys
	m.Logger = slog.New(slog.DiscardHandler)
	return m, nil
}

// secretList splits a comma-separated -secret, trimming each, as the demo
// does.
func secretList(flag string) []string {
	var secrets []string
	for s := range strings.SplitSeq(flag, ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, s)
		}
	}
	return secrets
}

// scrub replaces each secret in msg, so that an error never shows one.
func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

module github.com/cloakroom/cloakroom/backends/memcached

go 1.24

replace github.com/cloakroom/cloakroom => ../..

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/cloakroom/cloakroom v0.4.0
)

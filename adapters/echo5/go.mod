module github.com/cloakroom/cloakroom/adapters/echo5

go 1.25.0

require (
	github.com/cloakroom/cloakroom v0.4.0
	github.com/labstack/echo/v5 v5.4.6
)

require golang.org/x/time v0.15.0 // indirect

replace github.com/cloakroom/cloakroom => ../..

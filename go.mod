module github.com/cloakroom/cloakroom

go 1.24

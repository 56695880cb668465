module github.com/m2mauth/m2mauth/adapters/m2mecho5

go 1.25.0

replace github.com/m2mauth/m2mauth => ../..

require (
	github.com/labstack/echo/v5 v5.4.4
	github.com/m2mauth/m2mauth v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

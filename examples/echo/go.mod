module github.com/m2mauth/m2mauth/examples/echo

go 1.25.0

replace github.com/m2mauth/m2mauth => ../..

replace github.com/m2mauth/m2mauth/adapters/m2mecho => ../../adapters/m2mecho

require (
	github.com/labstack/echo/v4 v4.16.0
	github.com/m2mauth/m2mauth v0.0.0-00010101000000-000000000000
	github.com/m2mauth/m2mauth/adapters/m2mecho v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/labstack/gommon v0.5.0 // indirect
	github.com/mattn/go-colorable v0.1.15 // indirect
	github.com/mattn/go-isatty v0.0.22 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasttemplate v1.2.2 // indirect
	golang.org/x/crypto v0.53.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
	golang.org/x/text v0.40.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

module github.com/m2mauth/m2mauth

go 1.25.0

require (
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/hashicorp/golang-lru/v2 v2.0.7
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.22.0
	golang.org/x/time v0.15.0
)

require github.com/stretchr/testify v1.11.1 // indirect

module github.com/m2mauth/m2mauth/examples/production

go 1.25.0

replace github.com/m2mauth/m2mauth => ../..

require (
	github.com/m2mauth/m2mauth v0.0.0-00010101000000-000000000000
	github.com/m2mauth/m2mauth/metrics/m2mprom v0.0.0-00010101000000-000000000000
	github.com/prometheus/client_golang v1.24.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/redis/go-redis/v9 v9.22.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/m2mauth/m2mauth/cache/rediscache v0.0.0-00010101000000-000000000000
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.70.1 // indirect
	github.com/prometheus/procfs v0.21.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/m2mauth/m2mauth/metrics/m2mprom => ../../metrics/m2mprom

replace github.com/m2mauth/m2mauth/cache/rediscache => ../../cache/rediscache

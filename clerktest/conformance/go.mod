module github.com/m2mauth/m2mauth/clerktest/conformance

go 1.25.0

replace github.com/m2mauth/m2mauth => ../..

require (
	github.com/clerk/clerk-sdk-go/v2 v2.7.0
	github.com/getkin/kin-openapi v0.153.0
	github.com/m2mauth/m2mauth v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/go-jose/go-jose/v3 v3.0.4 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/crypto v0.53.0 // indirect
	golang.org/x/text v0.40.0 // indirect
)
